import { json, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import type { ReactNode } from "react";
import { csrfForm } from "../auth/csrf.server";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { AlertRuleForm } from "../components/alert-rule-form";
import { AlertStateBadge } from "../components/alert-state";
import { utcMinute } from "../components/format";
import { IntentForm } from "../components/intent-form";
import { Pager } from "../components/pager";
import { Shell } from "../components/shell";
import { envOf, field, intentOf } from "../context.server";
import { deleteRule, endpointChoices, getRule, historyPage, updateRule } from "../db/alert-rules.server";
import { alertsApi } from "../db/alerts-api.server";
import { isMuteChoice, MUTE_CHOICES, readRuleForm, ruleFormValues, ruleFromForm, type RuleFormValues } from "../queries/alert-form";
import { viewPath } from "../../../workers/alerts/notify";
import { limitInWords, observedInWords, ruleInWords } from "../../../workers/alerts/rules/describe";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · ${data?.rule.name ?? "Alert rule"}` }];

const noRule = () => new Response("No such alert rule in this app", { status: 404 });

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const ruleId = (params.rule ?? "").slice(0, 64);
  const before = Number(new URL(request.url).searchParams.get("before"));
  const [info, history, endpoints] = await Promise.all([
    getRule(env.db, viewer.orgId, app.id, ruleId),
    historyPage(env.db, viewer.orgId, app.id, ruleId, Number.isSafeInteger(before) && before > 0 ? before : undefined),
    endpointChoices(env.db, viewer.orgId),
  ]);
  if (!info || !history) throw noRule();
  const { rule, state } = info;
  const canEdit = can(viewer.role, "alert:update");
  const names = new Map(endpoints.map((e) => [e.id, e.label]));
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    rule: {
      id: info.id,
      name: info.name,
      watches: ruleInWords(rule),
      view: viewPath(app.id, rule.metric),
      cooldownMinutes: rule.cooldownMinutes,
      resolveAfter: rule.resolveAfter,
      minEvents: rule.minEvents,
      enabled: rule.enabled,
      mutedUntil: rule.mutedUntil,
      endpoints: rule.endpointIds.map((id) => names.get(id) ?? id),
      createdAt: info.createdAt,
      createdBy: info.createdBy,
      updatedAt: info.updatedAt,
    },
    state: {
      state: state.state,
      since: state.since,
      lastValue: state.lastEvaluatedAt === null ? null : observedInWords(rule, state.lastValue),
      lastEvaluatedAt: state.lastEvaluatedAt,
      lastFiredAt: state.lastFiredAt,
    },
    history: history.entries.map((h) => ({ ...h, value: observedInWords(rule, h.value), threshold: limitInWords(rule, h.threshold) })),
    next: history.next === null ? null : String(history.next),
    paged: new URL(request.url).searchParams.has("before"),
    form: canEdit ? ruleFormValues(rule) : null,
    endpoints: canEdit ? endpoints : [],
    now: Date.now(),
    canEdit,
  });
}

/** What each form's `intent` needs: every change to a rule, and its test, is alert:update. */
export const RULE_INTENTS = { update: "alert:update", mute: "alert:update", unmute: "alert:update", enable: "alert:update", disable: "alert:update", test: "alert:update", delete: "alert:update" } as const;

export type RuleResult = { ok: string } | { error: string; values?: RuleFormValues };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, RULE_INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, RULE_INTENTS[intent]);
  const ruleId = (params.rule ?? "").slice(0, 64);
  const reply = (body: RuleResult, status = 200) => json(body, { status });
  const change = async (patch: Parameters<typeof updateRule>[4], done: string, values?: RuleFormValues) => {
    const changed = await updateRule(env.db, viewer.orgId, app.id, ruleId, patch);
    if (!changed) throw noRule();
    return changed.ok ? reply({ ok: done }) : reply({ error: changed.reason, values }, 400);
  };
  switch (intent) {
    case "update": {
      const values = readRuleForm(form);
      return change(ruleFromForm(values), "Rule saved. If what it measures or when it fires changed, its evaluation starts over at ok.", values);
    }
    case "mute": {
      const choice = field(form, "for");
      if (!isMuteChoice(choice)) return reply({ error: "Choose how long to mute the rule: 1 hour, 24 hours or 7 days." }, 400);
      const until = Date.now() + MUTE_CHOICES[choice].ms;
      return change({ mutedUntil: until }, `Muted until ${utcMinute(until)} UTC. It keeps evaluating and its history keeps every change, but nobody is notified.`);
    }
    case "unmute":
      return change({ mutedUntil: null }, "Unmuted: its next change notifies its endpoints.");
    case "enable":
      return change({ enabled: true }, "Enabled: the cron evaluates it every minute.");
    case "disable":
      return change({ enabled: false }, "Disabled: it is not evaluated until enabled again.");
    case "test": {
      if (!(await getRule(env.db, viewer.orgId, app.id, ruleId))) throw noRule();
      const sent = await alertsApi(context.cloudflare.env).testRule(viewer.orgId, app.id, ruleId);
      if (!sent.ok) return reply({ error: `No test sent: ${sent.reason}` }, 409);
      const n = sent.deliveryIds.length;
      return reply({ ok: `Test sent to ${n} endpoint${n === 1 ? "" : "s"}, with the value its window has now. Each endpoint's log shows the delivery.` });
    }
    case "delete":
      if (!(await deleteRule(env.db, viewer.orgId, app.id, ruleId))) throw noRule();
      return redirect(`/apps/${encodeURIComponent(app.id)}/alerts`);
  }
}

function Facts({ facts }: { facts: Array<[string, ReactNode]> }) {
  return (
    <dl className="facts">
      {facts.map(([k, v]) => (
        <div key={k} className="contents">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export default function AlertRulePage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { app, rule, state, canEdit } = data;
  const muted = rule.mutedUntil !== null && rule.mutedUntil > data.now;
  const formValues = result && "error" in result && result.values ? result.values : data.form;
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>
          {rule.name} <AlertStateBadge state={state.state} />
        </h1>
        <Link to={`/apps/${app.id}/alerts`}>All alert rules</Link>
      </div>
      {result && !(result && "error" in result && result.values) ? <ActionNotice result={result} /> : null}
      <div className="grid detail">
        <section className="card">
          <h2>Definition</h2>
          <p>
            {rule.watches} · <Link to={rule.view}>Open the view</Link>
          </p>
          <Facts
            facts={[
              ["Sends to", rule.endpoints.length > 0 ? rule.endpoints.join(", ") : "nowhere"],
              ["Enabled", rule.enabled ? "yes" : "no: not evaluated"],
              ["Muted", muted && rule.mutedUntil !== null ? `until ${utcMinute(rule.mutedUntil)} UTC` : "no"],
              ["Cooldown", `${rule.cooldownMinutes} min before firing again`],
              ["Resolves after", `${rule.resolveAfter} clear evaluation${rule.resolveAfter === 1 ? "" : "s"}`],
              ...(rule.minEvents > 0 ? [["Counts from", `${rule.minEvents} samples`] as [string, string]] : []),
              ["Created", `${utcMinute(rule.createdAt)} UTC${rule.createdBy ? ` by ${rule.createdBy}` : ""}`],
            ]}
          />
        </section>
        <section className="card">
          <h2>State</h2>
          <Facts
            facts={[
              ["State", <AlertStateBadge key="s" state={state.state} />],
              ["Since", state.since ? `${utcMinute(state.since)} UTC` : "–"],
              ["Last value", state.lastValue ?? "not evaluated yet"],
              ["Last evaluated", state.lastEvaluatedAt ? `${utcMinute(state.lastEvaluatedAt)} UTC` : "never"],
              ["Last fired", state.lastFiredAt ? `${utcMinute(state.lastFiredAt)} UTC` : "never"],
            ]}
          />
          {canEdit ? (
            <div className="inline-form" style={{ marginTop: "1rem" }}>
              {muted ? (
                <IntentForm intent="unmute" label="Unmute" />
              ) : (
                Object.entries(MUTE_CHOICES).map(([key, m]) => (
                  <IntentForm key={key} intent="mute" label={`Mute ${m.label}`}>
                    <input type="hidden" name="for" value={key} />
                  </IntentForm>
                ))
              )}
              {rule.enabled ? <IntentForm intent="disable" label="Disable" /> : <IntentForm intent="enable" label="Enable" />}
              <IntentForm intent="test" label="Send test" title="Send a test webhook to the rule's endpoints" />
            </div>
          ) : null}
        </section>
      </div>
      <section className="card">
        <h2>History</h2>
        {data.history.length === 0 ? (
          <p className="muted">{data.paged ? "No older changes." : "No changes yet: the rule has not fired."}</p>
        ) : (
          <table className="alert-history">
            <thead>
              <tr>
                <th>At (UTC)</th>
                <th>Change</th>
                <th className="num">Value</th>
                <th className="num">Threshold</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {data.history.map((h) => (
                <tr key={`${h.at}-${h.to}`}>
                  <td>{utcMinute(h.at)}</td>
                  <td>
                    <AlertStateBadge state={h.from} /> → <AlertStateBadge state={h.to} />
                  </td>
                  <td className="num">{h.value}</td>
                  <td className="num">{h.threshold}</td>
                  <td>{h.detail || <span className="muted">–</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {data.history.length > 0 || data.paged ? <Pager paged={data.paged} next={data.next} /> : null}
      </section>
      {canEdit && formValues ? (
        <>
          <section className="card">
            <h2>Edit</h2>
            <AlertRuleForm key={rule.updatedAt} intent="update" submit="Save rule" values={formValues} endpoints={data.endpoints} result={result} canManageEndpoints />
          </section>
          <section className="card danger-zone">
            <h2>Delete</h2>
            <p className="muted small">Deleting removes the rule with its state and history; deliveries already made stay in the endpoints' logs.</p>
            <IntentForm intent="delete" label="Delete rule" confirm={`Delete the rule “${rule.name}” and its history?`} danger />
          </section>
        </>
      ) : null}
    </Shell>
  );
}
