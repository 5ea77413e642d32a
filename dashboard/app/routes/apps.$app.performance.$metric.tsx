import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { REGRESSION, VITALS, isVital } from "../../../schemas/perf";
import { requireApp } from "../auth/guard.server";
import { ErrorCard } from "../components/error-card";
import { count, percent } from "../components/format";
import { useParamLink } from "../components/pager";
import { PERCENTILE_COLORS, PerfChart, type PerfLine } from "../components/perf-chart";
import { PerfFilterForm } from "../components/perf-filters";
import { perfValue, signedPercent } from "../components/perf-format";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { BandBar } from "../components/vitals-bands";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { MAX_METRIC_NAME, parsePerfFilters } from "../queries/perf";
import { loadMetric, loadPerfOptions, type DimRow } from "../queries/perf.server";
import { parseRange, rangeSearch } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · ${data?.metric ?? "Metric"}` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const range = parseRange(url);
  const filters = parsePerfFilters(url);
  const metric = params.metric ?? "";
  if (metric === "" || metric.length > MAX_METRIC_NAME) throw new Response("No such metric in this app", { status: 404 });
  const { data, error } = await readOrError(() => Promise.all([loadMetric(env.clickhouse, app.id, metric, range, filters), loadPerfOptions(env.clickhouse, app.id, range)]));
  // Another app's metric is as absent as a made-up one.
  if (data !== null && data[0] === null) throw new Response("No such metric in this app", { status: 404 });
  return json({ viewer, app: { id: app.id, name: app.name }, range, filters, metric, view: data?.[0] ?? null, options: data?.[1] ?? null, error });
}

const KIND_LABELS = { vital: "web vital", app_start: "app start", screen_load: "screen load", transaction: "transaction", span: "span", custom: "custom metric" } as const;

function PercentileTable({ title, label, rows, unit, linkTo }: { title: string; label: string; rows: readonly DimRow[]; unit: string; linkTo?: (value: string) => string }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">Nothing in this range.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{label}</th>
              <th className="num">values</th>
              <th className="num">p50</th>
              <th className="num">p75</th>
              <th className="num">p95</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.value}>
                <td className="clip">{r.value === "" ? <span className="muted">(none)</span> : linkTo ? <Link to={linkTo(r.value)}>{r.value}</Link> : r.value}</td>
                <td className="num">{count(r.n)}</td>
                <td className="num">{perfValue(r.p50, unit)}</td>
                <td className="num">{perfValue(r.p75, unit)}</td>
                <td className="num">{perfValue(r.p95, unit)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export default function MetricPage() {
  const { viewer, app, range, filters, metric, view, options, error } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const lines = useMemo<PerfLine[]>(
    () => (["p50", "p75", "p95", "p99"] as const).map((p) => ({ label: p, color: PERCENTILE_COLORS[p], points: (view?.series ?? []).map((s) => ({ t: s.t, v: s[p] })) })),
    [view],
  );
  const vital = isVital(metric) ? VITALS[metric] : null;
  const thresholds = useMemo(() => (vital ? { good: vital.good, poor: vital.poor } : null), [vital]);
  const unit = view?.unit ?? "";
  // By platform, newest release first within each.
  const releasesNewestFirst = useMemo(() => [...(view?.releases ?? [])].sort((a, b) => a.platform.localeCompare(b.platform) || b.firstSeen - a.firstSeen || b.release.localeCompare(a.release)), [view]);
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>
          <Link to={`/apps/${app.id}/performance?${rangeSearch(range)}`}>Performance</Link> / <span className="perf-metric-name">{metric}</span>
        </h1>
        <RangePicker current={range.key} />
      </div>
      {view ? (
        <p className="muted small">
          <span className="badge">{KIND_LABELS[view.kind]}</span> {vital ? `${vital.label}: good at or under ${perfValue(vital.good, vital.unit)}, poor over ${perfValue(vital.poor, vital.unit)}. ` : ""}
          Percentiles from hourly sketches, within 1 % of the exact values.
        </p>
      ) : null}
      <PerfFilterForm filters={filters} options={options} />
      {error || !view ? (
        <ErrorCard title="Could not load this metric" message={error} />
      ) : (
        <>
          <div className="stats">
            <Stat label="values" value={count(view.summary?.n ?? 0)} />
            <Stat label="p50" value={view.summary ? perfValue(view.summary.p50, unit) : "–"} />
            <Stat label="p75" value={view.summary ? perfValue(view.summary.p75, unit) : "–"} />
            <Stat label="p95" value={view.summary ? perfValue(view.summary.p95, unit) : "–"} />
            <Stat label="p99" value={view.summary ? perfValue(view.summary.p99, unit) : "–"} />
          </div>
          {vital ? (
            <section className="card" aria-label="Bands">
              <h2>Rating bands</h2>
              <BandBar shares={view.summary?.shares ?? null} />
            </section>
          ) : null}
          <PerfChart title="Percentiles over time" lines={lines} unit={unit} thresholds={thresholds} span={span} />
          <section className="card" aria-label="Releases">
            <h2>By release</h2>
            <p className="muted small">
              Newest release first on each platform. A release is flagged when its p75 is more than {percent(REGRESSION.threshold)} worse than the previous release's on the same platform, both with at least{" "}
              {REGRESSION.minSamples} values.
            </p>
            {releasesNewestFirst.length === 0 ? (
              <p className="muted">No values with a release in this range.</p>
            ) : (
              <table className="perf-releases">
                <thead>
                  <tr>
                    <th>platform</th>
                    <th>release</th>
                    <th className="num">values</th>
                    <th className="num">p75</th>
                    <th>vs previous</th>
                  </tr>
                </thead>
                <tbody>
                  {releasesNewestFirst.map((r) => (
                    <tr key={`${r.platform} ${r.release}`} data-release={r.release} data-regressed={r.regressed ? "true" : undefined}>
                      <td>{r.platform || <span className="muted">(none)</span>}</td>
                      <td>
                        <code>{r.release}</code>
                      </td>
                      <td className="num">{count(r.n)}</td>
                      <td className="num">{perfValue(r.p75, unit)}</td>
                      <td>
                        {r.change === null || r.previous === null ? (
                          <span className="muted small">{r.n < REGRESSION.minSamples ? "too few values" : "first with enough values"}</span>
                        ) : (
                          <>
                            {r.regressed ? <span className="badge perf-regressed">regression</span> : null} {signedPercent(r.change)}{" "}
                            <span className="muted small">vs {r.previous}</span>
                          </>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          {view.spans ? (
            <section className="card" aria-label="Spans">
              <h2>Span breakdown</h2>
              <p className="muted small">Per span op: how many per transaction, their average and p75 duration, and their time over the transactions' time (nested and parallel spans overlap, so shares may add up past 100 %).</p>
              {view.spans.length === 0 ? (
                <p className="muted">No spans recorded for this transaction in this range.</p>
              ) : (
                <table className="perf-spans">
                  <thead>
                    <tr>
                      <th>op</th>
                      <th className="num">per transaction</th>
                      <th className="num">average</th>
                      <th className="num">p75</th>
                      <th style={{ width: "30%" }}>share of time</th>
                    </tr>
                  </thead>
                  <tbody>
                    {view.spans.map((s) => (
                      <tr key={s.op} data-op={s.op}>
                        <td className="clip">
                          <code>{s.op}</code>
                        </td>
                        <td className="num">{count(s.perTransaction)}</td>
                        <td className="num">{perfValue(s.avg, "ms")}</td>
                        <td className="num">{perfValue(s.p75, "ms")}</td>
                        <td className="perf-share">
                          <span className="bar" style={{ width: `${Math.min(1, s.share) * 100}%` }} />
                          <span className="bar-label">{percent(s.share)}</span>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {view.slowSpans && view.slowSpans.length > 0 ? (
                <>
                  <h3>Slowest spans</h3>
                  <table className="perf-slow-spans">
                    <thead>
                      <tr>
                        <th>op</th>
                        <th>description</th>
                        <th className="num">count</th>
                        <th className="num">average</th>
                        <th className="num">slowest</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.slowSpans.map((s) => (
                        <tr key={`${s.op} ${s.description}`}>
                          <td>
                            <code>{s.op}</code>
                          </td>
                          <td className="clip">{s.description || <span className="muted">(none)</span>}</td>
                          <td className="num">{count(s.n)}</td>
                          <td className="num">{perfValue(s.avg, "ms")}</td>
                          <td className="num">{perfValue(s.max, "ms")}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              ) : null}
            </section>
          ) : null}
          <div className="grid two">
            <PercentileTable title="By platform" label="platform" rows={view.platforms} unit={unit} linkTo={(v) => withParams((q) => q.set("platform", v))} />
            <PercentileTable title="By device class" label="device class" rows={view.devices} unit={unit} linkTo={(v) => withParams((q) => q.set("device", v))} />
          </div>
          <PercentileTable title="Slowest pages and screens" label="page or screen" rows={view.pages} unit={unit} linkTo={(v) => withParams((q) => q.set("page", v))} />
        </>
      )}
    </Shell>
  );
}
