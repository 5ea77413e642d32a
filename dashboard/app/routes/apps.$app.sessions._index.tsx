import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { BarChart } from "../components/bar-chart";
import { TimeChart } from "../components/chart";
import { DimFilter } from "../components/dim-filter";
import { ErrorCard } from "../components/error-card";
import { count, duration, percent, utcTime } from "../components/format";
import { RangePicker } from "../components/range-picker";
import { Pager, useParamLink } from "../components/pager";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { parseCursor } from "../queries/cursor";
import { hasDims } from "../queries/dims";
import { loadDimOptions } from "../queries/overview.server";
import { parseRange, rangeSearch, rangeText } from "../queries/range";
import { listSessions, parseSessionFilters, sessionStats } from "../queries/sessions.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Sessions` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const range = parseRange(url);
  const filters = parseSessionFilters(url);
  const before = parseCursor(url.searchParams.get("before"));
  const started = Date.now();
  const { data, error } = await readOrError(() =>
    Promise.all([
      listSessions(env.clickhouse, app.id, range, filters, before),
      sessionStats(env.clickhouse, app.id, range, filters),
      loadDimOptions(env.clickhouse, app.id, range),
    ]),
  );
  const [page, stats, options] = data ?? [null, null, null];
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range,
    filters,
    options,
    page,
    stats,
    error,
    paged: before !== null,
    canExport: can(viewer.role, "data:export"),
    tookMs: Date.now() - started,
  });
}

export default function SessionsPage() {
  const { viewer, app, range, filters, options, page, stats, error, paged, canExport, tookMs } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const series = useMemo(
    () => [
      { label: "sessions", color: "#d97706", points: stats?.series.map((p) => ({ t: p.t, n: p.sessions })) ?? [] },
      { label: "bounced", color: "#dc2626", points: stats?.series.map((p) => ({ t: p.t, n: p.bounced })) ?? [] },
    ],
    [stats],
  );
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const durations = useMemo(() => stats?.durations ?? [], [stats]);
  const perSession = useMemo(() => stats?.eventsPerSession ?? [], [stats]);
  const filtered = hasDims(filters.dims) || filters.bounced;

  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Sessions</h1>
        <RangePicker current={range.key} />
      </div>
      <DimFilter dims={filters.dims} options={options} fields={["bounced"]}>
        <label className="toggle">
          <input type="checkbox" name="bounced" value="1" defaultChecked={filters.bounced} key={String(filters.bounced)} />
          Bounced only
        </label>
        <span className="spacer" />
        {canExport ? (
          <a href={`/apps/${app.id}/sessions.csv${withParams((q) => q.delete("before"))}`} download>
            Export CSV
          </a>
        ) : null}
      </DimFilter>
      {error || !page || !stats ? (
        <ErrorCard title="Could not load sessions" message={error} />
      ) : (
        <>
          <div className="stats">
            <Stat label="Sessions" value={count(stats.sessions)} />
            <Stat label="Bounce rate" value={stats.sessions > 0 ? percent(stats.bounceRate) : "–"} />
            <Stat label="Median duration" value={stats.sessions > 0 ? duration(stats.medianDurationMs) : "–"} />
            <Stat label="Events per session (avg)" value={stats.sessions > 0 ? count(stats.avgEvents) : "–"} />
          </div>
          <TimeChart title="Sessions and bounces" series={series} span={span} height={180} fillStep={range.step} />
          <div className="grid two">
            <BarChart title="Session duration" buckets={durations} color="#7c3aed" />
            <BarChart title="Events per session" buckets={perSession} color="#0891b2" />
          </div>
          <p className="muted small">A bounce is a session under 10 s with at most one page or screen view and no tracked action. Sessions count in the range they started in.</p>
          {page.rows.length === 0 ? (
            <div className="card empty-state">
              <h2>No sessions {filtered ? "match these filters" : `started ${rangeText(range)}`}</h2>
              <p className="muted">
                Sessions come from events that carry a session id: the SDK adds one to every event; other Segment clients can send <code>context.sessionId</code>.
              </p>
            </div>
          ) : (
            <section className="card" aria-label="Sessions list">
              <table className="events">
                <thead>
                  <tr>
                    <th>started (UTC)</th>
                    <th className="num">duration</th>
                    <th className="num">events</th>
                    <th className="num">views</th>
                    <th>user</th>
                    <th>entry</th>
                    <th>exit</th>
                    <th>platform</th>
                    <th>country</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <Link to={`/apps/${app.id}/sessions/${encodeURIComponent(s.id)}?${rangeSearch(range)}`}>{utcTime(s.startedMs)}</Link>
                      </td>
                      <td className="num">{duration(s.durationMs)}</td>
                      <td className="num">{count(s.events)}</td>
                      <td className="num">{count(s.views)}</td>
                      <td className="clip">
                        <Link to={`/apps/${app.id}/users/${encodeURIComponent(s.userId || s.anonymousId)}?${rangeSearch(range)}`}>
                          {s.userId || <span className="muted">{s.anonymousId}</span>}
                        </Link>
                      </td>
                      <td className="clip">{s.entry || <span className="muted">–</span>}</td>
                      <td className="clip">{s.exit || <span className="muted">–</span>}</td>
                      <td>{s.platform}</td>
                      <td>{s.country}</td>
                      <td>{s.bounced ? <span className="badge">bounce</span> : s.crashes > 0 ? <span className="badge crash">crash</span> : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager paged={paged} next={page.next} />
            </section>
          )}
          <p className="muted small">Read from ClickHouse session summaries in {tookMs} ms.</p>
        </>
      )}
    </Shell>
  );
}
