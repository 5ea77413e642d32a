import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { VITAL_NAMES, VITALS, type Vital } from "../../../schemas/perf";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ErrorCard } from "../components/error-card";
import { count } from "../components/format";
import { useParamLink } from "../components/pager";
import { PerfChart, type PerfLine } from "../components/perf-chart";
import { PerfFilterForm } from "../components/perf-filters";
import { BAND_COLORS, BAND_LABELS, perfValue } from "../components/perf-format";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { BandBar } from "../components/vitals-bands";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { hasPerfFilters, metricPath, parseBreakdown, parsePerfFilters, PERF_DIMENSIONS, PERF_DIMENSION_NAMES } from "../queries/perf";
import { loadPerfOptions, loadPerfOverview, type PerfOverview, type VitalSummary } from "../queries/perf.server";
import { parseRange } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Performance` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const range = parseRange(url);
  const filters = parsePerfFilters(url);
  const breakdown = parseBreakdown(url);
  const { data, error } = await readOrError(() => Promise.all([loadPerfOverview(env.clickhouse, app.id, range, filters, breakdown), loadPerfOptions(env.clickhouse, app.id, range)]));
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range,
    filters,
    breakdown,
    view: data?.[0] ?? null,
    options: data?.[1] ?? null,
    error,
    canExport: can(viewer.role, "data:export"),
  });
}

const KIND_LABELS = { vital: "web vital", app_start: "app start", screen_load: "screen load", transaction: "transaction", span: "span", custom: "custom" } as const;
const SOURCE_LABELS = { LCP: "page (LCP)", screen_load: "screen (screen load)", transaction: "transaction" } as const;

function VitalCard({ appId, summary, lines, span, query }: { appId: string; summary: VitalSummary; lines: PerfLine[]; span: readonly [number, number]; query: string }) {
  const t = VITALS[summary.vital];
  return (
    <section className="card vitals-card" aria-label={summary.vital} data-vital={summary.vital}>
      <h2>
        <Link to={`${metricPath(appId, summary.vital)}${query}`}>{summary.vital}</Link> <span className="muted small">{t.label}</span>
      </h2>
      <div className="vitals-figure">
        <span className="vitals-p75" style={{ color: summary.band ? BAND_COLORS[summary.band] : undefined }} data-band={summary.band ?? ""}>
          {summary.p75 === null ? "–" : perfValue(summary.p75, t.unit)}
        </span>
        <span className="muted small">
          p75{summary.band ? ` · ${BAND_LABELS[summary.band]}` : ""} · {count(summary.n)} values
        </span>
      </div>
      <BandBar shares={summary.shares} />
      <PerfChart title={`${summary.vital} p75`} lines={lines} unit={t.unit} thresholds={{ good: t.good, poor: t.poor }} span={span} height={140} bare />
    </section>
  );
}

function Breakdown({ view }: { view: PerfOverview }) {
  const { app, breakdown, canExport } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const unit = VITALS[breakdown.vital].unit;
  return (
    <section className="card" aria-label="Breakdown">
      <h2>
        {breakdown.vital} by {PERF_DIMENSIONS[breakdown.dimension].label.toLowerCase()}
      </h2>
      <nav className="range perf-nav" aria-label="Vital">
        {VITAL_NAMES.map((v) => (
          <Link key={v} to={withParams((q) => q.set("vital", v))} className={v === breakdown.vital ? "active" : ""} aria-current={v === breakdown.vital ? "page" : undefined}>
            {v}
          </Link>
        ))}
      </nav>
      <nav className="range perf-nav" aria-label="Dimension">
        {PERF_DIMENSION_NAMES.map((d) => (
          <Link key={d} to={withParams((q) => q.set("dimension", d))} className={d === breakdown.dimension ? "active" : ""} aria-current={d === breakdown.dimension ? "page" : undefined}>
            {PERF_DIMENSIONS[d].label}
          </Link>
        ))}
        <span className="spacer" />
        {canExport ? (
          <a
            href={`/apps/${app.id}/performance.csv${withParams((q) => {
              q.set("dimension", breakdown.dimension);
              q.set("vital", breakdown.vital);
            })}`}
            download
          >
            Export CSV
          </a>
        ) : null}
      </nav>
      {view.breakdown.length === 0 ? (
        <p className="muted">No {breakdown.vital} values in this range.</p>
      ) : (
        <table className="perf-breakdown">
          <thead>
            <tr>
              <th>{PERF_DIMENSIONS[breakdown.dimension].label.toLowerCase()}</th>
              <th className="num">values</th>
              <th className="num">p75</th>
              <th style={{ width: "40%" }}>good · needs improvement · poor</th>
            </tr>
          </thead>
          <tbody>
            {view.breakdown.map((r) => (
              <tr key={r.value}>
                <td className="clip">{r.value === "" ? <span className="muted">(none)</span> : r.value}</td>
                <td className="num">{count(r.n)}</td>
                <td className="num">{perfValue(r.p75, unit)}</td>
                <td>
                  <BandBar shares={r.shares} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function EmptyState({ filtered }: { filtered: boolean }) {
  return (
    <div className="card empty-state">
      <h2>{filtered ? "No performance data matches these filters" : "No performance data in this range"}</h2>
      {filtered ? (
        <p className="muted">Try fewer filters or a longer range.</p>
      ) : (
        <ul className="muted">
          <li>
            Web vitals (LCP, INP, CLS, FCP, TTFB) and app start come from the browser SDK with <code>capture.vitals</code> on.
          </li>
          <li>
            Custom metrics: <code>client.perf("checkout_render", 182, "ms")</code>; spans and transactions from the SDK's span trees.
          </li>
          <li>
            Sentry SDKs with tracing on (<code>tracesSampleRate</code>) send their transactions and spans here once their DSN points at this app.
          </li>
          <li>Mobile apps send app start (cold, warm) and screen load from the React Native SDK.</li>
        </ul>
      )}
    </div>
  );
}

export default function PerformancePage() {
  const { viewer, app, range, filters, view, options, error, canExport } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const lines = useMemo(() => {
    const by = new Map<Vital, PerfLine[]>();
    for (const v of VITAL_NAMES) by.set(v, [{ label: "p75", color: "#7c3aed", points: (view?.series ?? []).filter((p) => p.vital === v).map((p) => ({ t: p.t, v: p.p75 })) }]);
    return by;
  }, [view]);
  const query = withParams(() => undefined);
  const empty = view !== null && view.vitals.every((v) => v.n === 0) && view.metrics.length === 0;
  const metricsCsv = withParams((q) => q.delete("dimension"));
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Performance</h1>
        <RangePicker current={range.key} />
      </div>
      <PerfFilterForm filters={filters} options={options} />
      {error || !view ? (
        <ErrorCard title="Could not load performance" message={error} />
      ) : empty ? (
        <EmptyState filtered={hasPerfFilters(filters)} />
      ) : (
        <>
          <h2 className="spaced">Web vitals</h2>
          <p className="muted small">p75 over the range, the convention for vitals, coloured by its rating; the bar shares every value by band. Dashed lines mark the good and poor thresholds.</p>
          <div className="grid vitals-grid">
            {view.vitals.map((v) => (
              <VitalCard key={v.vital} appId={app.id} summary={v} lines={lines.get(v.vital) ?? []} span={span} query={query} />
            ))}
          </div>
          <Breakdown view={view} />
          <section className="card" aria-label="Metrics">
            <h2>
              App start, screens, transactions and custom metrics
              {canExport ? (
                <>
                  {" "}
                  <a className="small" href={`/apps/${app.id}/performance.csv${metricsCsv}`} download>
                    Export CSV
                  </a>
                </>
              ) : null}
            </h2>
            {view.metrics.length === 0 ? (
              <p className="muted">Only web vitals in this range.</p>
            ) : (
              <table className="perf-metrics">
                <thead>
                  <tr>
                    <th>metric</th>
                    <th>kind</th>
                    <th className="num">values</th>
                    <th className="num">p50</th>
                    <th className="num">p75</th>
                    <th className="num">p95</th>
                    <th className="num">p99</th>
                  </tr>
                </thead>
                <tbody>
                  {view.metrics.map((m) => (
                    <tr key={`${m.metric} ${m.kind} ${m.unit}`}>
                      <td className="clip">
                        <Link to={`${metricPath(app.id, m.metric)}${query}`}>{m.metric}</Link>
                      </td>
                      <td>
                        <span className="badge">{KIND_LABELS[m.kind]}</span>
                      </td>
                      <td className="num">{count(m.n)}</td>
                      <td className="num">{perfValue(m.p50, m.unit)}</td>
                      <td className="num">{perfValue(m.p75, m.unit)}</td>
                      <td className="num">{perfValue(m.p95, m.unit)}</td>
                      <td className="num">{perfValue(m.p99, m.unit)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-label="Slowest">
            <h2>Slowest pages, screens and transactions</h2>
            <p className="muted small">By p75: pages by their LCP, screens by their load time, transactions by their duration; only those with five values or more.</p>
            {view.slowest.length === 0 ? (
              <p className="muted">Not enough values in this range.</p>
            ) : (
              <table className="perf-slowest">
                <thead>
                  <tr>
                    <th>page, screen or transaction</th>
                    <th>measured by</th>
                    <th className="num">values</th>
                    <th className="num">p75</th>
                  </tr>
                </thead>
                <tbody>
                  {view.slowest.map((r) => (
                    <tr key={`${r.source} ${r.name}`}>
                      <td className="clip">
                        {r.source === "transaction" ? (
                          <Link to={`${metricPath(app.id, r.name)}${query}`}>{r.name}</Link>
                        ) : (
                          <Link to={`${metricPath(app.id, r.source)}${withParams((q) => q.set("page", r.name))}`}>{r.name}</Link>
                        )}
                      </td>
                      <td>{SOURCE_LABELS[r.source]}</td>
                      <td className="num">{count(r.n)}</td>
                      <td className="num">{perfValue(r.p75, r.unit)}</td>
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
