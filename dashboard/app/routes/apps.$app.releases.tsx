import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useMemo, useRef } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { REGRESSION } from "../../../schemas/perf";
import { ErrorCard } from "../components/error-card";
import { count, percent, utcMinute } from "../components/format";
import { perfValue, signedPercent } from "../components/perf-format";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { useUplot, type UplotChart } from "../components/use-uplot";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { parseRange, rangeSearch } from "../queries/range";
import { metricPath } from "../queries/perf";
import { regressionsByRelease } from "../queries/perf-regressions.server";
import { loadReleases, type CrashFreePoint } from "../queries/releases.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Releases` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const range = parseRange(new URL(request.url));
  const { data, error } = await readOrError(() => Promise.all([loadReleases(env.clickhouse, app.id, range), regressionsByRelease(env.clickhouse, app.id, range)]));
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range,
    view: data?.[0] ?? null,
    regressions: Object.fromEntries(data?.[1] ?? []),
    error,
    canExport: can(viewer.role, "data:export"),
  });
}

const COLORS = ["#2563eb", "#059669", "#d97706", "#db2777", "#7c3aed"];
const rate = (r: number | null): string => (r === null ? "–" : percent(r));

/** Crash-free rates per release over time; a bucket without sessions is a gap, not a drop to 0. */
function CrashFreeChart({ title, points, releases, pick, span }: { title: string; points: readonly CrashFreePoint[]; releases: readonly string[]; pick: (p: CrashFreePoint) => number | null; span: readonly [number, number] }) {
  const box = useRef<HTMLDivElement>(null);
  const empty = points.every((p) => pick(p) === null);
  const chart = useMemo<UplotChart | null>(() => {
    if (empty) return null;
    return () => {
      const ts = [...new Set(points.map((p) => p.t))].sort((a, b) => a - b);
      const columns = releases.map((release) => {
        const byT = new Map(points.filter((p) => p.release === release).map((p) => [p.t, pick(p)]));
        return ts.map((t) => {
          const v = byT.get(t);
          return v === undefined || v === null ? null : Math.round(v * 10_000) / 100;
        });
      });
      return {
        data: [ts, ...columns],
        opts: {
          legend: { show: true },
          scales: { x: { time: true, range: (): [number, number] => [span[0], span[1]] }, y: { range: (_u, min): [number, number] => [Math.min(90, Math.floor(min ?? 90)), 100] } },
          axes: [
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" } },
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 56, values: (_u, vals) => vals.map((v) => `${v} %`) },
          ],
          series: [{}, ...releases.map((r, i) => ({ label: r || "(none)", stroke: COLORS[i % COLORS.length], width: 2, points: { show: ts.length < 40 }, spanGaps: false }))],
        },
      };
    };
  }, [points, releases, pick, span, empty]);
  useUplot(box, 220, chart);
  return (
    <section className="card chart" aria-label={title}>
      <h2>{title}</h2>
      {empty ? (
        <div className="empty" style={{ height: 220 }}>
          <p>No sessions in this range yet.</p>
        </div>
      ) : (
        <div ref={box} className="chart-box" data-chart={title} style={{ minHeight: 220 }} />
      )}
    </section>
  );
}

const pickSessions = (p: CrashFreePoint) => p.crashFreeSessions;
const pickUsers = (p: CrashFreePoint) => p.crashFreeUsers;

export default function ReleasesPage() {
  const { viewer, app, range, view, regressions, error, canExport } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const top = useMemo(() => (view?.releases ?? []).slice(0, COLORS.length).map((r) => r.release), [view]);
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Releases</h1>
        <RangePicker current={range.key} />
      </div>
      <p className="muted small">
        A user or session is crashed when a fatal crash happened in it: from our SDK, the session id every event carries; from Sentry's SDKs, their session updates and
        aggregates. Adoption is the share of this range's users who used the release. A performance regression is a metric whose p75 in this range is more than{" "}
        {percent(REGRESSION.threshold)} worse than in the previous release on the same platform, both with at least {REGRESSION.minSamples} values.
        {canExport ? (
          <>
            {" "}
            <a href={`/apps/${app.id}/releases.csv?${params.toString()}`} download>
              Export as CSV
            </a>
          </>
        ) : null}
      </p>
      {error || !view ? (
        <ErrorCard title="Could not load release health" message={error} />
      ) : (
        <>
          <div className="grid two">
            <CrashFreeChart title="Crash-free sessions" points={view.series} releases={top} pick={pickSessions} span={span} />
            <CrashFreeChart title="Crash-free users" points={view.series} releases={top} pick={pickUsers} span={span} />
          </div>
          <section className="card">
            <h2>
              Releases <span className="muted small">{`${count(view.totalUsers)} users in this range`}</span>
            </h2>
            {view.releases.length === 0 ? (
              <p className="muted">No events in this range yet.</p>
            ) : (
              <table className="releases">
                <thead>
                  <tr>
                    <th>release</th>
                    <th>first seen (UTC)</th>
                    <th className="num">adoption</th>
                    <th className="num">users</th>
                    <th className="num">crash-free users</th>
                    <th className="num">sessions</th>
                    <th className="num">crash-free sessions</th>
                    <th className="num">crashes</th>
                    <th className="num">new issues</th>
                    <th>performance</th>
                  </tr>
                </thead>
                <tbody>
                  {view.releases.map((r) => (
                    <tr key={r.release}>
                      <td>{r.release ? <code>{r.release}</code> : <span className="muted">(no release)</span>}</td>
                      <td className="small">{r.firstSeen ? utcMinute(r.firstSeen) : "–"}</td>
                      <td className="num">{rate(r.adoption)}</td>
                      <td className="num">{count(r.users)}</td>
                      <td className="num">{rate(r.crashFreeUsers)}</td>
                      <td className="num">{count(r.sessions)}</td>
                      <td className="num">{rate(r.crashFreeSessions)}</td>
                      <td className="num">
                        {r.crashes > 0 ? <Link to={`/apps/${app.id}/crashes?${rangeSearch(range)}&release=${encodeURIComponent(r.release)}&status=all`}>{count(r.crashes)}</Link> : "0"}
                      </td>
                      <td className="num">{count(r.newIssues)}</td>
                      <td className="perf-regressions">
                        {(regressions[r.release] ?? []).map((g) => (
                          <Link
                            key={`${g.metric} ${g.unit} ${g.platform}`}
                            to={`${metricPath(app.id, g.metric)}?${rangeSearch(range)}`}
                            className="badge perf-regressed"
                            title={`${g.platform ? `${g.platform}: ` : ""}p75 ${perfValue(g.p75, g.unit)}, was ${perfValue(g.previousP75, g.unit)} in ${g.previous}`}
                          >
                            {g.metric} {signedPercent(g.change)}
                          </Link>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </Shell>
  );
}
