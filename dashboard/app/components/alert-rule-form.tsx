import { Form, Link } from "@remix-run/react";
import { useEffect, useState, type CSSProperties, type ReactNode } from "react";
import { ALERT_FILTERS_BY_METRIC, ALERT_HOURLY_METRICS, ALERT_PERCENTILES, ALERT_PIPELINE_COUNTERS, ALERT_SAMPLED_METRICS, type AlertFilterName, type AlertMetricKind } from "../../../schemas";
import type { EndpointChoice } from "../db/alert-rules.server";
import { CONDITIONS, METRIC_KINDS, WINDOW_CHOICES, type RuleFormValues } from "../queries/alert-form";
import { CsrfField } from "./csrf";
import { FormError } from "./form-error";

const isKind = (s: string): s is AlertMetricKind => METRIC_KINDS.some((k) => k.kind === s);
const labelOf = (kind: AlertMetricKind): string => METRIC_KINDS.find((k) => k.kind === kind)?.label ?? kind;

const COUNTER_LABELS: Record<(typeof ALERT_PIPELINE_COUNTERS)[number], string> = {
  rejected: "rejected events",
  dead_lettered: "dead-lettered events",
  capped: "events over the rate limit",
  lag_p95: "lag p95 (ms)",
};

interface Props {
  intent: "create" | "update";
  submit: string;
  values: RuleFormValues;
  endpoints: readonly EndpointChoice[];
  /** The last post's result, for its error line. */
  result: unknown;
  canManageEndpoints: boolean;
}

/**
 * A rule's form. Without JavaScript every field shows, each group saying which metrics use it,
 * and the server names any filter the chosen metric cannot apply; once the page runs, the
 * groups the chosen metric does not use are hidden and left out of the post.
 */
export function AlertRuleForm({ intent, submit, values, endpoints, result, canManageEndpoints }: Props) {
  const [hydrated, setHydrated] = useState(false);
  const [kind, setKind] = useState(values.kind);
  useEffect(() => setHydrated(true), []);
  const chosen: AlertMetricKind = isKind(kind) ? kind : "events";
  const shown = (kinds: readonly AlertMetricKind[]) => !hydrated || kinds.includes(chosen);
  const filters = ALERT_FILTERS_BY_METRIC[chosen];
  const filterShown = (f: AlertFilterName) => !hydrated || filters.includes(f);
  const windows = WINDOW_CHOICES.some((w) => w.value === values.window) ? WINDOW_CHOICES : [...WINDOW_CHOICES, { value: values.window, label: `${values.window} minutes` }];

  return (
    <Form method="post" aria-label={submit} className="alert-rule-form" style={{ display: "grid", gap: "1rem" }}>
      <CsrfField />
      <input type="hidden" name="intent" value={intent} />
      <label>
        Name
        <input name="name" defaultValue={values.name} maxLength={200} required placeholder="Checkout failures" className="wide" />
      </label>

      <Group title="What it watches">
        <label>
          Metric
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            {METRIC_KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <Fields hydrated={hydrated} show={shown(["events"])} hint="count of events">
          <label>
            Event type
            <input name="eventType" defaultValue={values.eventType} maxLength={32} placeholder="any (track, page, crash…)" />
          </label>
          <label>
            Event name
            <input name="eventName" defaultValue={values.eventName} maxLength={200} placeholder="Checkout Failed" />
          </label>
        </Fields>
        <Fields hydrated={hydrated} show={shown(["perf"])} hint="performance metric">
          <label>
            Performance metric
            <input name="perfName" defaultValue={values.perfName} maxLength={200} placeholder="LCP" />
          </label>
        </Fields>
        <Fields hydrated={hydrated} show={shown(["network_latency", "perf"])} hint="latency and performance">
          <label>
            Percentile
            <select name="percentile" defaultValue={values.percentile}>
              {ALERT_PERCENTILES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
        </Fields>
        <Fields hydrated={hydrated} show={shown(["network_error_rate", "network_latency"])} hint="network, optional: one endpoint">
          <label>
            Method
            <input name="method" defaultValue={values.method} maxLength={16} placeholder="GET" style={{ width: "5rem" }} />
          </label>
          <label>
            Host
            <input name="host" defaultValue={values.host} maxLength={255} placeholder="api.example.com" />
          </label>
          <label>
            URL template
            <input name="template" defaultValue={values.template} maxLength={1000} placeholder="/cart/:id" />
          </label>
        </Fields>
        <Fields hydrated={hydrated} show={shown(["pipeline"])} hint="pipeline">
          <label>
            Counter
            <select name="counter" defaultValue={values.counter}>
              {ALERT_PIPELINE_COUNTERS.map((c) => (
                <option key={c} value={c}>
                  {COUNTER_LABELS[c]}
                </option>
              ))}
            </select>
          </label>
        </Fields>
      </Group>

      <Group
        title="Filters"
        note={
          hydrated
            ? filters.length === 0
              ? `${labelOf(chosen)} takes no filter.`
              : `Optional. ${labelOf(chosen)} can be filtered by ${filters.join(", ")}.`
            : "Optional. Each metric takes only the filters its data has: a filter it cannot apply is refused by name."
        }
      >
        <Fields show={filterShown("platform")}>
          <label>
            Platform
            <input name="platform" defaultValue={values.platform} maxLength={64} placeholder="ios" />
          </label>
        </Fields>
        <Fields show={filterShown("release")}>
          <label>
            Release
            <input name="release" defaultValue={values.release} maxLength={200} placeholder="2.1.0" />
          </label>
        </Fields>
        <Fields show={filterShown("country")}>
          <label>
            Country
            <input name="country" defaultValue={values.country} maxLength={2} placeholder="DE" style={{ width: "4rem" }} />
          </label>
        </Fields>
        <Fields show={filterShown("event")}>
          <label>
            Who sent the event
            <input name="event" defaultValue={values.event} maxLength={200} placeholder="Signed Up" />
          </label>
        </Fields>
        <Fields show={filterShown("property")}>
          <label>
            Property
            <input name="propKey" defaultValue={values.propKey} maxLength={200} placeholder="plan" />
          </label>
          <label>
            equals
            <input name="propValue" defaultValue={values.propValue} maxLength={1000} placeholder="pro" />
          </label>
        </Fields>
      </Group>

      <Group
        title="When it fires"
        note={
          hydrated && ALERT_HOURLY_METRICS.includes(chosen)
            ? `${labelOf(chosen)} is read from hourly data: choose a window of whole hours (1 hour, 6 hours or 1 day).`
            : "The window ends a minute before each evaluation, so late events are counted; the cron evaluates every minute."
        }
      >
        <label>
          Over the last
          <select name="window" defaultValue={values.window}>
            {windows.map((w) => (
              <option key={w.value} value={w.value}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          The value
          <select name="condition" defaultValue={values.condition}>
            {CONDITIONS.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Threshold or %
          <input name="value" type="number" step="any" defaultValue={values.value} required style={{ width: "7rem" }} />
        </label>
        <Fields hydrated={hydrated} show={shown(ALERT_SAMPLED_METRICS)} hint="rates and percentiles">
          <label>
            At least … samples
            <input name="minEvents" type="number" min={0} step={1} defaultValue={values.minEvents} placeholder="0" style={{ width: "7rem" }} />
          </label>
        </Fields>
        <label>
          Cooldown (min)
          <input name="cooldownMinutes" type="number" min={0} max={10080} step={1} defaultValue={values.cooldownMinutes} style={{ width: "6rem" }} />
        </label>
        <label>
          Resolve after … clear evaluations
          <input name="resolveAfter" type="number" min={1} max={1440} step={1} defaultValue={values.resolveAfter} style={{ width: "6rem" }} />
        </label>
      </Group>

      <Group title="Send to">
        {endpoints.length === 0 ? (
          <p className="muted small" style={{ margin: 0 }}>
            Your organisation has no webhook endpoint yet.{" "}
            {canManageEndpoints ? <Link to="/org/webhooks">Add one on the Webhooks page</Link> : "Ask an owner, admin or developer to add one."} A rule without one can be saved
            only disabled.
          </p>
        ) : (
          endpoints.map((e) => (
            <label key={e.id} style={{ display: "flex", gap: ".4rem", alignItems: "center" }}>
              <input type="checkbox" name="endpointIds" value={e.id} defaultChecked={values.endpointIds.includes(e.id)} />
              {e.label}
              {e.enabled ? null : <span className="muted small">(turned off{e.disabledReason ? `: ${e.disabledReason}` : ""})</span>}
            </label>
          ))
        )}
      </Group>
      <label style={{ display: "flex", gap: ".4rem", alignItems: "center" }}>
        <input type="checkbox" name="enabled" defaultChecked={values.enabled} />
        Enabled: evaluated every minute (a disabled rule is kept but not evaluated)
      </label>

      <FormError result={result} />
      <div>
        <button type="submit">{submit}</button>
      </div>
    </Form>
  );
}

function Group({ title, note, children }: { title: string; note?: string; children: ReactNode }) {
  return (
    <section style={{ display: "grid", gap: ".5rem" }}>
      <h3 style={{ fontSize: ".95rem", margin: 0 }}>{title}</h3>
      {note ? (
        <p className="muted small" style={{ margin: 0 }}>
          {note}
        </p>
      ) : null}
      <div className="inline-form">{children}</div>
    </section>
  );
}

const HIDDEN: CSSProperties = { display: "none" };

/** Fields for some metrics: labelled with them until the page runs, then hidden and not posted for the others. */
function Fields({ show, hint, hydrated, children }: { show: boolean; hint?: string; hydrated?: boolean; children: ReactNode }) {
  return (
    <fieldset className="inline-form" disabled={!show} style={show ? undefined : HIDDEN}>
      {hint && !hydrated ? <span className="muted small">For {hint}:</span> : null}
      {children}
    </fieldset>
  );
}
