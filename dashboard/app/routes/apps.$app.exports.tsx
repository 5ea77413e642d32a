import { json, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { useState } from "react";
import { ExportView, type ExportRun, type ExportSchedule } from "../../../schemas";
import { requireApp, requireIntent } from "../auth/guard.server";
import { can, type Permission } from "../auth/permissions";
import { ActionNotice, type ActionResult } from "../components/action-notice";
import { CsrfField } from "../components/csrf";
import { bytes, count, utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { deleteSchedule, exportInput, exportsApi, getSchedule, listRuns, listSchedules, updateSchedule } from "../db/exports.server";
import { listSavedInsights } from "../db/insights.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Exports` }];

// Every member reads the schedules and their runs; changing or running one is data:export.
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const [schedules, saved] = await Promise.all([listSchedules(env.db, app.id), listSavedInsights(env.db, viewer.orgId)]);
  const runs = await Promise.all(schedules.map((s) => listRuns(env.db, app.id, s.id, 10)));
  const insights = saved.filter((i) => i.appId === app.id).map((i) => ({ id: i.id, name: i.name, type: i.type }));
  return json({ viewer, app, insights, exports: schedules.map((s, i) => ({ schedule: s, runs: runs[i] ?? [] })), canManage: can(viewer.role, "data:export") });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = { create: "data:export", enable: "data:export", disable: "data:export", delete: "data:export", run: "data:export" } as const satisfies Record<string, Permission>;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const { app } = await requireApp(request, env, params.app, INTENT_PERMISSIONS[intent]);
  const reply = (body: ActionResult, status = 200) => json(body, { status });
  if (intent === "create") {
    const made = await exportsApi(context.cloudflare.env).createExport(viewer.orgId, app.id, exportInput((n) => field(form, n)), viewer.email);
    if (!made.ok) return reply({ error: `The export was not created: ${made.reason}.` }, 400);
    return reply({ ok: `Export “${made.schedule.name}” created: the cron writes its first file at the next ${made.schedule.frequency === "hourly" ? "hour" : "day"}'s :41.` });
  }
  const schedule = await getSchedule(env.db, app.id, field(form, "id"));
  if (!schedule) throw new Response("No such export", { status: 404 });
  if (intent === "delete") {
    await deleteSchedule(env.db, app.id, schedule.id);
    return reply({ ok: `Export “${schedule.name}” deleted; the files it wrote stay.` });
  }
  if (intent === "run") {
    const ran = await exportsApi(context.cloudflare.env).runExport(viewer.orgId, app.id, schedule.id);
    if (!ran.ok) return reply({ error: `Not run: ${ran.reason}.` }, 409);
    if (ran.run.status !== "ok") return reply({ error: `The export of ${utcMinute(ran.run.periodStart)} failed: ${ran.run.error ?? "unknown error"}.` }, 502);
    return reply({ ok: `Exported ${count(ran.run.rows ?? 0)} rows (${bytes(ran.run.bytes ?? 0)}) to ${ran.run.objectKey ?? ""}.` });
  }
  await updateSchedule(env.db, app.id, schedule.id, { enabled: intent === "enable" }, { by: viewer.email, sealSecret: "" });
  return reply({ ok: `Export “${schedule.name}” turned ${intent === "enable" ? "on" : "off"}.` });
}

const STATE_CLASS: Record<ExportRun["status"], string> = { ok: "state-delivered", failed: "state-failed", retrying: "state-failed", pending: "state-pending", running: "state-pending" };

function destinationText(s: ExportSchedule): string {
  const d = s.destination;
  return d.kind === "r2" ? "the app's bucket (R2)" : `${d.endpoint} · ${d.bucket}${d.prefix ? `/${d.prefix}` : ""}`;
}

type InsightChoice = { id: string; name: string; type: string };

function sourceText(s: ExportSchedule, insights: InsightChoice[]): string {
  const src = s.source;
  if (src.kind === "events") return "Raw events";
  if (src.kind === "view") return `The ${src.view.replace("/", " ")} view${src.query ? ` (?${src.query})` : ""}`;
  const insight = insights.find((i) => i.id === src.insightId);
  return insight ? `Saved insight “${insight.name}” (${insight.type})` : `Saved insight ${src.insightId} (deleted)`;
}

function RunLog({ runs }: { runs: ExportRun[] }) {
  if (runs.length === 0) return <p className="muted small">No runs yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>Period (UTC)</th>
          <th>Status</th>
          <th>Attempts</th>
          <th className="num">Rows</th>
          <th className="num">Size</th>
          <th>File or error</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>{utcMinute(r.periodStart)}</td>
            <td>
              <span className={`badge ${STATE_CLASS[r.status]}`}>{r.status === "retrying" && r.nextAttemptAt !== null ? `retrying at ${utcMinute(r.nextAttemptAt)}` : r.status}</span>
            </td>
            <td>{r.attempts}</td>
            <td className="num">{r.rows === null ? "" : count(r.rows)}</td>
            <td className="num">{r.bytes === null ? "" : bytes(r.bytes)}</td>
            <td>{r.error ? <span className="error">{r.error}</span> : <code>{r.objectKey ?? ""}</code>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function IntentButton({ id, intent, label, danger = false }: { id: string; intent: string; label: string; danger?: boolean }) {
  return (
    <Form method="post" className="inline-form" onSubmit={danger ? (e) => { if (!window.confirm("Delete this export and its run log? Written files stay.")) e.preventDefault(); } : undefined}>
      <CsrfField />
      <input type="hidden" name="intent" value={intent} />
      <input type="hidden" name="id" value={id} />
      <button type="submit" className={danger ? "danger" : undefined}>
        {label}
      </button>
    </Form>
  );
}

function NewExport({ insights }: { insights: InsightChoice[] }) {
  const [destination, setDestination] = useState("r2");
  const [source, setSource] = useState("events");
  return (
    <Form method="post" className="stacked-form" aria-label="New export">
      <CsrfField />
      <input type="hidden" name="intent" value="create" />
      <label>
        Name
        <input name="name" required maxLength={100} placeholder="Daily events" />
      </label>
      <label>
        What
        <select name="source" value={source} onChange={(e) => setSource(e.target.value)}>
          <option value="events">Raw events</option>
          <option value="view">A view (CSV)</option>
          <option value="insight">A saved insight (CSV)</option>
        </select>
      </label>
      {source === "view" ? (
        <>
          <label>
            View
            <select name="view" defaultValue="events">
              {ExportView.options.map((v) => (
                <option key={v} value={v}>
                  {v.replace("/", " ")}
                </option>
              ))}
            </select>
          </label>
          <label>
            Query string (the page's filters; paste its URL; its range is replaced by the period)
            <input name="query" maxLength={2000} placeholder="platform=ios&q=ana" />
          </label>
        </>
      ) : null}
      {source === "insight" ? (
        <label>
          Saved insight
          <select name="insightId" required>
            {insights.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name} ({i.type})
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        Format
        {/* Keyed by the kind of source, so each gets its own default: Parquet for raw events, CSV for a view's table. */}
        <select key={source === "events" ? "events" : "table"} name="format" defaultValue={source === "events" ? "parquet" : "csv"}>
          <option value="parquet">Parquet</option>
          <option value="csv">CSV</option>
        </select>
      </label>
      <label>
        Every
        <select name="frequency" defaultValue="daily">
          <option value="daily">day (the previous UTC day, at 00:41)</option>
          <option value="hourly">hour (the previous hour, at :41)</option>
        </select>
      </label>
      <label>
        Destination
        <select name="destination" value={destination} onChange={(e) => setDestination(e.target.value)}>
          <option value="r2">the app's bucket (R2)</option>
          <option value="s3">an S3-compatible bucket of yours</option>
        </select>
      </label>
      {destination === "s3" ? (
        <>
          <label>
            Endpoint
            <input name="endpoint" type="url" required placeholder="https://s3.eu-west-1.amazonaws.com" />
          </label>
          <label>
            Bucket
            <input name="bucket" required />
          </label>
          <label>
            Region
            <input name="region" placeholder="us-east-1 (auto for R2)" />
          </label>
          <label>
            Key prefix
            <input name="prefix" placeholder="telemetry/" />
          </label>
          <label>
            Access key id
            <input name="accessKeyId" required autoComplete="off" />
          </label>
          <label>
            Secret access key (stored sealed, never shown again)
            <input name="secretAccessKey" type="password" required autoComplete="off" />
          </label>
        </>
      ) : null}
      <button type="submit">Create export</button>
    </Form>
  );
}

export default function ExportsPage() {
  const { viewer, app, insights, exports, canManage } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Exports</h1>
      </div>
      <p>
        The app's raw events (CSV or Parquet), a view with its filters or a saved insight (CSV), a whole UTC hour or day per file, written by the hourly cron to the app's bucket or
        to an S3-compatible bucket of yours, with no row limit. A view or insight reads the period as its range (the last 1h or 24h up to the period's end). A failed period is tried again 1, 2 and 4 hours later; after the fourth attempt the organisation's webhook endpoints receive <code>export.failed</code>.
      </p>
      <ActionNotice result={result} />
      {exports.length === 0 ? <p className="card empty-state">No exports yet.</p> : null}
      {exports.map(({ schedule: s, runs }) => (
        <section key={s.id} className="card" aria-label={`Export ${s.name}`}>
          <h2>
            {s.name} <span className={`badge ${s.enabled ? "state-delivered" : "state-pending"}`}>{s.enabled ? "on" : "off"}</span>
          </h2>
          <p className="muted small">
            {`${sourceText(s, insights)} · ${s.format === "csv" ? "CSV" : "Parquet"}, ${s.frequency}, to ${destinationText(s)} · files exports/${app.id}/${s.id}/… · created by ${s.createdBy} ${utcMinute(s.createdAt)}`}
          </p>
          {canManage ? (
            <div className="actions">
              <IntentButton id={s.id} intent="run" label="Run now" />
              <IntentButton id={s.id} intent={s.enabled ? "disable" : "enable"} label={s.enabled ? "Turn off" : "Turn on"} />
              <IntentButton id={s.id} intent="delete" label="Delete" danger />
            </div>
          ) : null}
          <RunLog runs={runs} />
        </section>
      ))}
      {canManage ? (
        <section className="card">
          <h2>New export</h2>
          <NewExport insights={insights} />
        </section>
      ) : (
        <p className="muted small">Creating and running exports needs the data:export permission (owners, admins, developers and analysts).</p>
      )}
    </Shell>
  );
}
