import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { MAX_CRASH_RULES } from "../../../schemas";
import { csrfForm } from "../auth/csrf.server";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { envOf, field, intentOf } from "../context.server";
import { addRule, deleteRule, listRules, moveRule, parseRule, type CrashRuleInfo } from "../db/crash-issues.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Grouping rules` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  return json({ viewer, app, rules: await listRules(env.db, app.id), canEdit: can(viewer.role, "app:update"), max: MAX_CRASH_RULES });
}

/** What each form's `intent` needs: rules change how the edge groups, like the app's settings. */
export const RULE_INTENTS = { add: "app:update", delete: "app:update", up: "app:update", down: "app:update" } as const;

export type RulesResult = { ok: string } | { error: string };

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const intent = intentOf(form, RULE_INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, RULE_INTENTS[intent]);
  const reply = (body: RulesResult, status = 200) => json(body, { status });
  const applies = "The edge applies it to crashes received within a minute; stored crashes keep their issues.";
  switch (intent) {
    case "add": {
      const rule = parseRule({ action: field(form, "action"), type: field(form, "type"), message: field(form, "message"), module: field(form, "module"), label: field(form, "label") });
      if ("error" in rule) return reply(rule, 400);
      const added = await addRule(env.db, app.id, rule, viewer.email);
      if (added === "full") return reply({ error: `An app has at most ${MAX_CRASH_RULES} rules: delete one first.` }, 409);
      return reply({ ok: `Rule added. ${applies}` });
    }
    case "delete":
      if (!(await deleteRule(env.db, app.id, field(form, "ruleId")))) return reply({ error: "No such rule." }, 404);
      return reply({ ok: `Rule deleted. ${applies}` });
    case "up":
    case "down":
      if (!(await moveRule(env.db, app.id, field(form, "ruleId"), intent))) return reply({ error: "That rule cannot move further." }, 400);
      return reply({ ok: `Rule moved. ${applies}` });
  }
}

function Matchers({ rule }: { rule: CrashRuleInfo }) {
  const parts: Array<[string, string]> = [];
  if (rule.type !== null) parts.push(["type is", rule.type]);
  if (rule.message !== null) parts.push(["message matches", rule.message]);
  if (rule.module !== null) parts.push(["an in-app frame's module or file matches", rule.module]);
  return (
    <>
      {parts.map(([what, value], i) => (
        <span key={what}>
          {i > 0 ? " and " : ""}
          {what} <code>{value}</code>
        </span>
      ))}
    </>
  );
}

export default function CrashRulesPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { rules, canEdit, app } = data;
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>Grouping rules</h1>
        <Link to={`/apps/${app.id}/crashes`}>Back to crashes</Link>
      </div>
      <p>
        Crashes are grouped into issues by their fingerprint: the in-app frames of the stack, or the error type and message when there are none. Rules change that for crashes
        that match them. The edge tries them in order and the first that matches decides: <strong>merge</strong> puts every matching crash in one issue; <strong>split</strong>{" "}
        separates them by their message.
      </p>
      <p className="card notice">
        Rules apply to crashes received from now on: the edge picks up a change within a minute. They do not regroup existing issues: stored crashes keep the issue they
        were grouped into.
      </p>
      <ActionNotice result={result} />
      <section className="card">
        <h2>
          Rules <span className="muted small">{`${rules.length} of at most ${data.max}`}</span>
        </h2>
        {rules.length === 0 ? (
          <p className="muted">No rules: every crash is grouped by its fingerprint.</p>
        ) : (
          <table className="rules">
            <thead>
              <tr>
                <th>#</th>
                <th>When a crash's</th>
                <th>Then</th>
                <th>Label</th>
                {canEdit ? <th>Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {rules.map((rule, i) => (
                <tr key={rule.id}>
                  <td className="num">{i + 1}</td>
                  <td>
                    <Matchers rule={rule} />
                  </td>
                  <td>{rule.action === "merge" ? "merge into one issue" : "split by message"}</td>
                  <td>{rule.label || <span className="muted">none</span>}</td>
                  {canEdit ? (
                    <td>
                      <div className="inline-form">
                        {i > 0 ? (
                          <IntentForm intent="up" label="Up" title={`Move rule ${i + 1} up`}>
                            <input type="hidden" name="ruleId" value={rule.id} />
                          </IntentForm>
                        ) : null}
                        {i < rules.length - 1 ? (
                          <IntentForm intent="down" label="Down" title={`Move rule ${i + 1} down`}>
                            <input type="hidden" name="ruleId" value={rule.id} />
                          </IntentForm>
                        ) : null}
                        <IntentForm intent="delete" label="Delete" title={`Delete rule ${i + 1}`} confirm="Delete this rule? New crashes stop matching it within a minute." danger>
                          <input type="hidden" name="ruleId" value={rule.id} />
                        </IntentForm>
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {canEdit ? (
        <section className="card">
          <h2>Add a rule</h2>
          <p className="muted small">Leave a matcher blank to match anything; give at least one. In patterns, * stands for any run of characters.</p>
          {/* A new key once a rule is added empties the form for the next one. */}
          <Form key={rules.length} method="post" className="inline-form" aria-label="Add a rule">
            <CsrfField />
            <input type="hidden" name="intent" value="add" />
            <label>
              Error type
              <input name="type" maxLength={256} placeholder="ChunkLoadError" />
            </label>
            <label>
              Message pattern
              <input name="message" maxLength={512} placeholder="Loading chunk * failed" />
            </label>
            <label>
              Module pattern
              <input name="module" maxLength={512} placeholder="*/vendor/*" />
            </label>
            <label>
              Then
              <select name="action" defaultValue="merge">
                <option value="merge">merge into one issue</option>
                <option value="split">split by message</option>
              </select>
            </label>
            <label>
              Label
              <input name="label" maxLength={200} placeholder="Chunk loading" />
            </label>
            <button type="submit">Add rule</button>
          </Form>
        </section>
      ) : (
        <p className="muted">Your role can see the rules but not change them.</p>
      )}
    </Shell>
  );
}
