import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { AlertRuleForm } from "../components/alert-rule-form";
import { AlertStateBadge } from "../components/alert-state";
import { utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { envOf, intentOf } from "../context.server";
import { csrfForm } from "../auth/csrf.server";
import { createRule, endpointChoices, listRules, MAX_RULES_PER_APP } from "../db/alert-rules.server";
import { EMPTY_RULE_FORM, readRuleForm, ruleFromForm, type RuleFormValues } from "../queries/alert-form";
import { observedInWords, ruleInWords } from "../../../workers/alerts/rules/describe";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Alerts` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const [rules, endpoints] = await Promise.all([listRules(env.db, viewer.orgId, app.id), endpointChoices(env.db, viewer.orgId)]);
  if (!rules) throw new Response("No such app in your organisation", { status: 404 });
  const names = new Map(endpoints.map((e) => [e.id, e.label]));
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    rules: rules.map((r) => ({
      id: r.id,
      name: r.name,
      watches: ruleInWords(r.rule),
      state: r.state.state,
      since: r.state.since,
      evaluated: r.state.lastEvaluatedAt !== null,
      lastValue: r.state.lastEvaluatedAt === null ? null : observedInWords(r.rule, r.state.lastValue),
      mutedUntil: r.rule.mutedUntil,
      enabled: r.rule.enabled,
      endpoints: r.rule.endpointIds.map((id) => names.get(id) ?? id),
    })),
    endpoints,
    now: Date.now(),
    max: MAX_RULES_PER_APP,
    canEdit: can(viewer.role, "alert:update"),
  });
}

/** What each form's `intent` needs. */
export const ALERT_LIST_INTENTS = { create: "alert:update" } as const;

export type CreateResult = { ok: string; ruleId: string } | { error: string; values: RuleFormValues };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, ALERT_LIST_INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, ALERT_LIST_INTENTS[intent]);
  const values = readRuleForm(form);
  const created = await createRule(env.db, viewer.orgId, app.id, ruleFromForm(values), viewer.email);
  if (!created) throw new Response("No such app in your organisation", { status: 404 });
  if (!created.ok) return json<CreateResult>({ error: created.reason, values }, { status: 400 });
  return json<CreateResult>({ ok: `Rule “${created.rule.name}” created. The cron evaluates it every minute from now on.`, ruleId: created.rule.id });
}

const NOWRAP = { whiteSpace: "nowrap" } as const;

function Explainer({ hasEndpoints, canEdit }: { hasEndpoints: boolean; canEdit: boolean }) {
  return (
    <div className="card empty-state">
      <h2>No alert rules yet</h2>
      <p>
        An alert rule watches one metric of this app (events, users, crashes, crash-free rates, network errors and latency, performance percentiles, the pipeline's own
        counters) over a window from a minute to a day. Every minute it is evaluated: when its condition holds it <strong>fires</strong>, and once it has been clear long
        enough it <strong>resolves</strong>. Each change is sent as a signed webhook to the organisation's endpoints you choose, and kept in the rule's history.
      </p>
      {hasEndpoints ? null : canEdit ? (
        <p>
          Your organisation has no webhook endpoint yet: <Link to="/org/webhooks">add one on the Webhooks page</Link> first, then create a rule below.
        </p>
      ) : (
        <p>Your organisation has no webhook endpoint yet: an owner, admin or developer can add one.</p>
      )}
    </div>
  );
}

export default function AlertsPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { app, rules, canEdit, endpoints } = data;
  const values = result && "error" in result ? result.values : EMPTY_RULE_FORM;
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>Alerts</h1>
        {canEdit ? <Link to="/org/webhooks">Webhook endpoints</Link> : null}
      </div>
      {result && "ok" in result ? <ActionNotice result={result} /> : null}
      {rules.length === 0 ? (
        <Explainer hasEndpoints={endpoints.length > 0} canEdit={canEdit} />
      ) : (
        <section className="card">
          <h2>
            Rules <span className="muted small">{`${rules.length} of at most ${data.max}`}</span>
          </h2>
          <table className="alert-rules">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Watches</th>
                <th>State</th>
                <th>Since (UTC)</th>
                <th className="num">Last value</th>
                <th>Muted until (UTC)</th>
                <th>Enabled</th>
                <th>Sends to</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.id} data-state={r.state}>
                  <td>
                    <Link to={r.id}>{r.name}</Link>
                  </td>
                  <td>{r.watches}</td>
                  <td>
                    <AlertStateBadge state={r.state} />
                  </td>
                  <td style={NOWRAP}>{r.since ? utcMinute(r.since) : <span className="muted">{r.evaluated ? "–" : "not evaluated yet"}</span>}</td>
                  <td className="num">{r.lastValue ?? <span className="muted">–</span>}</td>
                  <td style={NOWRAP}>{r.mutedUntil !== null && r.mutedUntil > data.now ? utcMinute(r.mutedUntil) : <span className="muted">–</span>}</td>
                  <td>{r.enabled ? "yes" : <strong>no</strong>}</td>
                  <td>{r.endpoints.length > 0 ? r.endpoints.join(", ") : <span className="muted">nowhere</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {canEdit ? (
        <section className="card">
          <h2>New rule</h2>
          {/* A new key once a rule is created empties the form for the next one. */}
          <AlertRuleForm
            key={rules.length}
            intent="create"
            submit="Create rule"
            values={values}
            endpoints={endpoints}
            result={result}
            canManageEndpoints={canEdit}
          />
        </section>
      ) : (
        <p className="muted">Your role can see the alert rules but not change them.</p>
      )}
    </Shell>
  );
}
