import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { requireApp } from "../auth/guard.server";
import { csrfForm } from "../auth/csrf.server";
import { ActionNotice, type ActionResult } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { count, utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { envOf, field, intentOf } from "../context.server";
import { DELETE_AFTER_MS, listAudit, listDeletions, parseSubject, requestDeletion, SUPPRESSION_TTL_MS, type AuditEntry, type DeletionRequest, type Subject } from "../db/privacy.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Privacy` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "privacy:manage");
  const [requests, audit] = await Promise.all([listDeletions(env.db, app.id), listAudit(env.db, app.id, 50)]);
  // The users view's person page links here with the person filled in.
  const url = new URL(request.url);
  const prefill = { kind: url.searchParams.get("kind") === "anonymous" ? "anonymous" : "user", id: (url.searchParams.get("id") ?? "").slice(0, 256) };
  return json({ viewer, app, requests, audit, prefill, takesEffectSeconds: SUPPRESSION_TTL_MS / 1000, deleteAfterMinutes: Math.ceil(DELETE_AFTER_MS / 60_000) });
}

const INTENTS = { delete: "privacy:manage" } as const;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  intentOf(form, INTENTS);
  const { viewer, app } = await requireApp(request, env, params.app, INTENTS.delete);
  const reply = (body: ActionResult, status = 200) => json(body, { status });
  const id = field(form, "id");
  const subject = parseSubject(field(form, "kind"), id);
  if ("error" in subject) return reply(subject, 400);
  // Deleting cannot be undone: the id is typed twice, so a slip of the finger deletes no one.
  if (field(form, "confirmId") !== id) return reply({ error: "The two ids differ: type the id again to confirm the deletion." }, 400);
  const made = await requestDeletion(env.db, app.id, subject, viewer.email);
  return reply({
    ok: `Deletion of ${id} requested. New events for this person are dropped within ${SUPPRESSION_TTL_MS / 1000} seconds; their stored data and that of every linked id goes within about ${Math.ceil(DELETE_AFTER_MS / 60_000) + 1} minutes (request ${made.id}).`,
  });
}

const ids = (s: Subject | null): string => (s ? [...s.userIds.map((u) => `user ${u}`), ...s.anonymousIds.map((a) => `anonymous ${a}`)].join(", ") : "");

function Status({ r }: { r: DeletionRequest }) {
  if (r.status === "done") return <span className="badge state-delivered">done {r.completedAt === null ? "" : utcMinute(r.completedAt)}</span>;
  if (r.lastError) return <span className="badge state-failed" title={r.lastError}>{`failed ${r.attempts === 1 ? "once" : `${r.attempts} times`}, retried every minute: ${r.lastError.slice(0, 120)}`}</span>;
  return <span className="badge state-pending">{r.resolved ? `pending, not before ${utcMinute(r.notBefore)}` : "pending"}</span>;
}

function Removed({ removed }: { removed: Record<string, number> }) {
  const parts = Object.entries(removed).filter(([, n]) => n > 0);
  if (parts.length === 0) return <span className="muted">none yet</span>;
  return <>{parts.map(([table, n]) => `${count(n)} ${table.replace(/_/g, " ")}`).join(", ")}</>;
}

/** Which person a form names: the kind of id and the id. */
function PersonFields({ kind, id }: { kind: string; id: string }) {
  return (
    <>
      <label>
        Id type
        <select name="kind" defaultValue={kind}>
          <option value="user">user id</option>
          <option value="anonymous">anonymous id</option>
        </select>
      </label>
      <label>
        Id
        <input name="id" required maxLength={256} autoComplete="off" defaultValue={id} />
      </label>
    </>
  );
}

const ACTIONS: Record<AuditEntry["action"], string> = { deletion_requested: "deletion requested", deletion_completed: "deletion completed", export: "data exported" };

export default function PrivacyPage() {
  const data = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { app, requests, audit } = data;
  return (
    <Shell viewer={data.viewer} app={app}>
      <div className="page-head">
        <h1>Privacy</h1>
      </div>
      <p>
        Delete or export everything stored about one person (GDPR and CCPA requests). A person is found by a user id or an anonymous id and every id linked to it: the
        anonymous ids an identify call tied to the user, and both ends of an alias.
      </p>
      <ActionNotice result={result} />
      <section className="card">
        <h2>Delete a person</h2>
        <p className="muted small">
          {`The edge drops new events for the person within ${data.takesEffectSeconds} seconds and counts them on the pipeline page. About ${data.deleteAfterMinutes} minutes later their events, sessions, profiles and identities are deleted; counts of people in rollups stay, as they hold no one's id. This cannot be undone.`}
        </p>
        <Form method="post" className="inline-form" aria-label="Delete a person" onSubmit={(e) => { if (!window.confirm("Delete everything stored about this person? This cannot be undone.")) e.preventDefault(); }}>
          <CsrfField />
          <input type="hidden" name="intent" value="delete" />
          <PersonFields kind={data.prefill.kind} id={data.prefill.id} />
          <label>
            Type the id again
            <input name="confirmId" required maxLength={256} autoComplete="off" />
          </label>
          <button type="submit" className="danger">
            Delete this person
          </button>
        </Form>
      </section>
      <section className="card">
        <h2>Export a person's data</h2>
        <p className="muted small">A JSON file of their events, profile, traits and sessions, through every linked id. The export is recorded below.</p>
        <Form method="get" action={`/apps/${app.id}/privacy/export`} reloadDocument className="inline-form" aria-label="Export a person's data">
          <PersonFields kind={data.prefill.kind} id={data.prefill.id} />
          <button type="submit">Download JSON</button>
        </Form>
      </section>
      <section className="card">
        <h2>Deletion requests</h2>
        {requests.length === 0 ? (
          <p className="muted">No deletion has been requested for this app.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Requested</th>
                <th>By</th>
                <th>Ids asked</th>
                <th>Linked ids</th>
                <th>Status</th>
                <th>Rows removed</th>
              </tr>
            </thead>
            <tbody>
              {requests.map((r) => (
                <tr key={r.id}>
                  <td>{utcMinute(r.requestedAt)}</td>
                  <td>{r.requestedBy}</td>
                  <td>{ids(r.requested)}</td>
                  <td>{r.resolved ? ids(r.resolved) : <span className="muted">not resolved yet</span>}</td>
                  <td>
                    <Status r={r} />
                  </td>
                  <td>
                    <Removed removed={r.removed} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <h2>Audit log</h2>
        {audit.length === 0 ? (
          <p className="muted">Nothing yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {audit.map((e) => (
                <tr key={e.id}>
                  <td>{utcMinute(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{ACTIONS[e.action]}</td>
                  <td className="small">{JSON.stringify(e.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Shell>
  );
}
