import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { parseRange, rangeSearch } from "../queries/range";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ErrorCard } from "../components/error-card";
import { count, duration, utcTime } from "../components/format";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { Timeline } from "../components/timeline";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { SESSION_EVENTS_CAP } from "../queries/caps";
import { getSession } from "../queries/sessions.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Session` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const { data: detail, error } = await readOrError(() => getSession(env.clickhouse, app.id, params.session ?? ""));
  // Another app's session is as absent as a made-up id.
  if (!detail && !error) throw new Response("No such session in this app", { status: 404 });
  return json({ viewer, app: { id: app.id, name: app.name }, detail, error, canExport: can(viewer.role, "data:export") });
}

export default function SessionPage() {
  const { viewer, app, detail, error, canExport } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const back = `/apps/${app.id}/sessions${params.has("range") ? `?${rangeSearch(parseRange(new URL(`http://x/?${params.toString()}`)))}` : ""}`;
  const s = detail?.session;
  const user = s ? s.userId || s.anonymousId : "";
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Session {s ? <code>{s.id}</code> : null}</h1>
        <Link to={back}>← Back to sessions</Link>
      </div>
      {error || !detail || !s ? (
        <ErrorCard title="Could not load this session" message={error} />
      ) : (
        <>
          <div className="stats">
            <Stat label="Started (UTC)" value={utcTime(s.startedMs).slice(0, 19)} />
            <Stat label="Duration" value={duration(s.durationMs)} />
            <Stat label="Events" value={count(s.events)} />
            <Stat label="Page and screen views" value={count(s.views)} />
          </div>
          <div className="grid detail">
            <section className="card" aria-label="Session facts">
              <h2>Facts</h2>
              <dl className="facts">
                <dt>User</dt>
                <dd>
                  <Link to={`/apps/${app.id}/users/${encodeURIComponent(user)}`}>{user}</Link>
                  {s.userId ? null : <span className="muted small"> (anonymous)</span>}
                </dd>
                <dt>Entry</dt>
                <dd>{s.entry || "–"}</dd>
                <dt>Exit</dt>
                <dd>{s.exit || "–"}</dd>
                <dt>Tracked actions</dt>
                <dd>{count(s.actions)}</dd>
                <dt>Crashes</dt>
                <dd>{count(s.crashes)}</dd>
                <dt>Platform</dt>
                <dd>{s.platform || "–"}</dd>
                <dt>Country</dt>
                <dd>{s.country || "–"}</dd>
                <dt>Bounce</dt>
                <dd>{s.bounced ? "yes" : "no"}</dd>
              </dl>
            </section>
            <section className="card" aria-label="Session events">
              <div className="page-head">
                <h2>Events in order</h2>
                {canExport ? (
                  <a href={`/apps/${app.id}/sessions/${encodeURIComponent(s.id)}/events.csv`} download>
                    Export CSV
                  </a>
                ) : null}
              </div>
              {detail.events.length === 0 ? (
                <p className="muted">The events of this session are past the 90-day retention of raw events; its summary is kept for a year.</p>
              ) : (
                <Timeline appId={app.id} events={detail.events} groupBySession={false} />
              )}
              {detail.truncated ? <p className="muted small">Showing the first {SESSION_EVENTS_CAP.toLocaleString("en")} events.</p> : null}
            </section>
          </div>
        </>
      )}
    </Shell>
  );
}
