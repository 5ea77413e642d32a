// The performance views, from the perf_hourly rollup of 0011_perf_network.sql: web vitals (p75
// and band shares, over time and by a dimension), every other metric's percentiles, the slowest
// pages and screens, and a metric's own page. Rows of one group from different inserts are
// merged here with GROUP BY, so a view is right before ClickHouse merges them. Percentiles are
// read from the rollup's quantile states: nearest-rank values within QUANTILE_ACCURACY. Raw events
// are read only for a transaction's slowest span descriptions, with a LIMIT.
import { SCREEN_LOAD_METRIC, VITAL_NAMES, bandOf, isVital, perfKindOf, type Band, type PerfKind, type Vital } from "../../../schemas/perf";
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { PERF_DIMENSIONS, perfFilterSql, SLOWEST_MIN_COUNT, type PerfDimension, type PerfFilters } from "./perf";
import { releasePerf, type ReleasePerf } from "./perf-regressions.server";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

/** Rows of a breakdown or a list at most. */
export const BREAKDOWN_ROWS = 20;
export const METRICS_CAP = 200;
export const SPAN_OPS_CAP = 50;
export const SLOW_SPANS = 10;
/** Values a filter menu offers at most. */
const OPTIONS_CAP = 100;

type CH = DashboardEnv["clickhouse"];

export interface Percentiles {
  p50: number;
  p75: number;
  p95: number;
  p99: number;
}

/** Good, needs-improvement and poor shares of a vital's values (they sum to 1). */
export interface BandShares {
  good: number;
  needsImprovement: number;
  poor: number;
}

export interface VitalSummary {
  vital: Vital;
  n: number;
  /** null without values in the range. */
  p75: number | null;
  band: Band | null;
  shares: BandShares | null;
}

export interface BreakdownRow {
  value: string;
  n: number;
  p75: number;
  shares: BandShares;
}

export interface MetricRow extends Percentiles {
  metric: string;
  kind: PerfKind;
  unit: string;
  n: number;
}

/** A page's LCP, a screen's load time or a transaction's duration, slowest first. */
export interface SlowRow {
  source: "LCP" | "screen_load" | "transaction";
  name: string;
  unit: string;
  n: number;
  p75: number;
}

export interface PerfOptions {
  releases: string[];
  platforms: string[];
  browsers: string[];
  devices: string[];
  countries: string[];
  pages: string[];
}

export interface PerfOverview {
  vitals: VitalSummary[];
  /** p75 of each vital per bucket. */
  series: Array<{ t: number; vital: Vital; p75: number }>;
  step: number;
  breakdown: BreakdownRow[];
  metrics: MetricRow[];
  slowest: SlowRow[];
}

const QUANTILES = "quantilesBFloat16Merge(0.5, 0.75, 0.95, 0.99)(q)";
const VITAL_ROWS = "kind = '' AND metric IN {vitals:Array(String)}";

/** Hourly points up to two days, daily beyond: a vital's p75 over a few values swings wildly. */
export const perfStep = (range: TimeRange): number => (range.to - range.from > 2 * 86_400 ? 86_400 : 3600);

/** The app, range and filter predicate over perf_hourly. */
function whereSql(range: TimeRange, f: PerfFilters): { sql: string; params: Params } {
  const filters = perfFilterSql(f);
  return {
    sql: [appRange("hour"), ...filters.parts].join(" AND "),
    params: { ...rangeParams(range), vitals: [...VITAL_NAMES], ...filters.params },
  };
}

const percentiles = (qs: readonly (number | null)[]): Percentiles => ({ p50: qs[0] ?? 0, p75: qs[1] ?? 0, p95: qs[2] ?? 0, p99: qs[3] ?? 0 });

export function bandShares(n: number, good: number, poor: number): BandShares | null {
  if (n <= 0) return null;
  return { good: good / n, needsImprovement: (n - good - poor) / n, poor: poor / n };
}

interface BandRow {
  n: number;
  good: number;
  poor: number;
  qs: Array<number | null>;
}

export async function loadPerfOverview(cfg: CH, appId: string, range: TimeRange, f: PerfFilters, breakdown: { dimension: PerfDimension; vital: Vital }): Promise<PerfOverview> {
  const w = whereSql(range, f);
  const step = perfStep(range);
  const [vitals, series, rows, metrics, slowest] = await Promise.all([
    queryApp<BandRow & { metric: string }>(
      cfg,
      appId,
      `SELECT metric, sum(n) AS n, sum(good) AS good, sum(poor) AS poor, ${QUANTILES} AS qs
       FROM perf_hourly WHERE ${w.sql} AND ${VITAL_ROWS} GROUP BY metric`,
      w.params,
    ),
    queryApp<{ t: number; metric: string; qs: Array<number | null> }>(
      cfg,
      appId,
      `SELECT toUnixTimestamp(toStartOfInterval(hour, INTERVAL {step:UInt32} SECOND)) AS t, metric, ${QUANTILES} AS qs
       FROM perf_hourly WHERE ${w.sql} AND ${VITAL_ROWS} GROUP BY t, metric ORDER BY t, metric`,
      { ...w.params, step },
    ),
    loadBreakdown(cfg, appId, range, f, breakdown),
    loadMetrics(cfg, appId, range, f),
    queryApp<{ source: SlowRow["source"]; name: string; unit: string; n: number; qs: Array<number | null> }>(
      cfg,
      appId,
      `SELECT if(kind = 'transaction', 'transaction', toString(metric)) AS source, if(kind = 'transaction', toString(metric), page) AS name, any(unit) AS unit,
              sum(n) AS n, ${QUANTILES} AS qs
       FROM perf_hourly WHERE ${w.sql} AND ((kind = '' AND metric IN ('LCP', {screen:String})) OR kind = 'transaction')
       GROUP BY source, name HAVING n >= {min:UInt32} AND name != ''
       ORDER BY qs[2] DESC, name LIMIT {cap:UInt32}`,
      { ...w.params, screen: SCREEN_LOAD_METRIC, min: SLOWEST_MIN_COUNT, cap: BREAKDOWN_ROWS },
    ),
  ]);
  const byVital = new Map(vitals.map((v) => [v.metric, v]));
  return {
    vitals: VITAL_NAMES.map((vital): VitalSummary => {
      const r = byVital.get(vital);
      const n = Number(r?.n ?? 0);
      const p75 = n > 0 ? (r?.qs[1] ?? null) : null;
      return { vital, n, p75, band: p75 === null ? null : bandOf(vital, p75), shares: bandShares(n, Number(r?.good ?? 0), Number(r?.poor ?? 0)) };
    }),
    series: series.flatMap((r) => (isVital(r.metric) && r.qs[1] !== null && r.qs[1] !== undefined ? [{ t: Number(r.t), vital: r.metric, p75: r.qs[1] }] : [])),
    step,
    breakdown: rows,
    metrics,
    slowest: slowest.map((r) => ({ source: r.source, name: r.name, unit: r.unit, n: Number(r.n), p75: r.qs[1] ?? 0 })),
  };
}

/** A vital's values by one dimension: the values with the most samples first. */
export async function loadBreakdown(cfg: CH, appId: string, range: TimeRange, f: PerfFilters, b: { dimension: PerfDimension; vital: Vital }, cap = BREAKDOWN_ROWS): Promise<BreakdownRow[]> {
  const w = whereSql(range, f);
  const column = PERF_DIMENSIONS[b.dimension].column;
  const rows = await queryApp<BandRow & { value: string }>(
    cfg,
    appId,
    `SELECT toString(${column}) AS value, sum(n) AS n, sum(good) AS good, sum(poor) AS poor, ${QUANTILES} AS qs
     FROM perf_hourly WHERE ${w.sql} AND kind = '' AND metric = {vital:String}
     GROUP BY value ORDER BY n DESC, value LIMIT {cap:UInt32}`,
    { ...w.params, vital: b.vital, cap },
  );
  return rows.map((r) => {
    const n = Number(r.n);
    return { value: r.value, n, p75: r.qs[1] ?? 0, shares: bandShares(n, Number(r.good), Number(r.poor)) ?? { good: 0, needsImprovement: 0, poor: 0 } };
  });
}

/** Every metric but the vitals and spans (spans show on their transaction's page), most values first. */
export async function loadMetrics(cfg: CH, appId: string, range: TimeRange, f: PerfFilters): Promise<MetricRow[]> {
  const w = whereSql(range, f);
  const rows = await queryApp<{ metric: string; kind: string; unit: string; n: number; qs: Array<number | null> }>(
    cfg,
    appId,
    `SELECT toString(metric) AS metric, toString(kind) AS kind, toString(unit) AS unit, sum(n) AS n, ${QUANTILES} AS qs
     FROM perf_hourly WHERE ${w.sql} AND kind != 'span' AND NOT (${VITAL_ROWS})
     GROUP BY metric, kind, unit ORDER BY n DESC, metric LIMIT {cap:UInt32}`,
    { ...w.params, cap: METRICS_CAP },
  );
  const order: Record<PerfKind, number> = { app_start: 0, screen_load: 1, transaction: 2, custom: 3, vital: 4, span: 5 };
  return rows
    .map((r) => ({ metric: r.metric, kind: perfKindOf(r.metric, r.kind), unit: r.unit, n: Number(r.n), ...percentiles(r.qs) }))
    .sort((a, b) => order[a.kind] - order[b.kind] || b.n - a.n || a.metric.localeCompare(b.metric));
}

/** The filter menus' values: what the range holds. */
export async function loadPerfOptions(cfg: CH, appId: string, range: TimeRange): Promise<PerfOptions> {
  const rows = await queryApp<Record<keyof PerfOptions, string[]>>(
    cfg,
    appId,
    `SELECT arraySort(groupUniqArray({cap:UInt32})(toString(app_version))) AS releases, arraySort(groupUniqArray({cap:UInt32})(toString(platform))) AS platforms,
            arraySort(groupUniqArray({cap:UInt32})(toString(browser))) AS browsers, arraySort(groupUniqArray({cap:UInt32})(toString(device_class))) AS devices,
            arraySort(groupUniqArray({cap:UInt32})(toString(country))) AS countries, arraySort(groupUniqArray({cap:UInt32})(page)) AS pages
     FROM perf_hourly WHERE ${appRange("hour")} AND kind != 'span'`,
    { ...rangeParams(range), cap: OPTIONS_CAP },
  );
  const r = rows[0];
  const clean = (v: string[] | undefined): string[] => (v ?? []).filter((x) => x !== "");
  return { releases: clean(r?.releases), platforms: clean(r?.platforms), browsers: clean(r?.browsers), devices: clean(r?.devices), countries: clean(r?.countries), pages: clean(r?.pages) };
}

// ---------------------------------------------------------------------------------------------
// A metric's page.

export interface DimRow extends Percentiles {
  value: string;
  n: number;
}

/** A span op's part in its transaction. */
export interface SpanRow {
  op: string;
  n: number;
  /** Spans of this op per transaction. */
  perTransaction: number;
  avg: number;
  p75: number;
  /** The op's summed time over the transactions' summed time; nested and parallel spans overlap, so shares may add up past 1. */
  share: number;
}

export interface SlowSpan {
  op: string;
  description: string;
  n: number;
  avg: number;
  max: number;
}

export interface MetricView {
  metric: string;
  kind: PerfKind;
  unit: string;
  summary: (Percentiles & { n: number; shares: BandShares | null }) | null;
  series: Array<{ t: number } & Percentiles>;
  step: number;
  releases: ReleasePerf[];
  platforms: DimRow[];
  devices: DimRow[];
  pages: DimRow[];
  /** A transaction's span breakdown; null for other metrics. */
  spans: SpanRow[] | null;
  slowSpans: SlowSpan[] | null;
}

/** The metric's kind and unit (its most common one), all time; null when the app never sent it. */
async function metricIdentity(cfg: CH, appId: string, metric: string): Promise<{ kind: string; unit: string } | null> {
  const rows = await queryApp<{ kind: string; unit: string }>(
    cfg,
    appId,
    `SELECT toString(kind) AS kind, toString(unit) AS unit, sum(n) AS n FROM perf_hourly
     WHERE app_id = {app:String} AND metric = {metric:String} AND kind != 'span'
     GROUP BY kind, unit ORDER BY n DESC LIMIT 1`,
    { metric },
  );
  return rows[0] ?? null;
}

/** A metric's page, or null when the app has no such metric. */
export async function loadMetric(cfg: CH, appId: string, metric: string, range: TimeRange, f: PerfFilters): Promise<MetricView | null> {
  const id = await metricIdentity(cfg, appId, metric);
  if (!id) return null;
  const kind = perfKindOf(metric, id.kind);
  const w = whereSql(range, f);
  const own = `${w.sql} AND metric = {metric:String} AND kind = {kind:String} AND unit = {unit:String}`;
  const params: Params = { ...w.params, metric, kind: id.kind, unit: id.unit, cap: BREAKDOWN_ROWS };
  const step = perfStep(range);
  const by = (column: string, order: "n" | "p75") =>
    queryApp<{ value: string; n: number; qs: Array<number | null> }>(
      cfg,
      appId,
      `SELECT toString(${column}) AS value, sum(n) AS n, ${QUANTILES} AS qs FROM perf_hourly WHERE ${own}
       GROUP BY value ${order === "p75" ? "HAVING n >= {min:UInt32} AND value != '' ORDER BY qs[2] DESC" : "ORDER BY n DESC"}, value LIMIT {cap:UInt32}`,
      { ...params, min: SLOWEST_MIN_COUNT },
    ).then((rows) => rows.map((r): DimRow => ({ value: r.value, n: Number(r.n), ...percentiles(r.qs) })));
  const [summary, series, releases, platforms, devices, pages, spans] = await Promise.all([
    queryApp<BandRow & { total: number }>(cfg, appId, `SELECT sum(n) AS n, sum(total) AS total, sum(good) AS good, sum(poor) AS poor, ${QUANTILES} AS qs FROM perf_hourly WHERE ${own}`, params),
    queryApp<{ t: number; qs: Array<number | null> }>(
      cfg,
      appId,
      `SELECT toUnixTimestamp(toStartOfInterval(hour, INTERVAL {step:UInt32} SECOND)) AS t, ${QUANTILES} AS qs FROM perf_hourly WHERE ${own} GROUP BY t ORDER BY t`,
      { ...params, step },
    ),
    releasePerf(cfg, appId, range, { metric, kind: id.kind, unit: id.unit }, f),
    by("platform", "n"),
    by("device_class", "n"),
    by("page", "p75"),
    kind === "transaction"
      ? queryApp<{ op: string; n: number; total: number; qs: Array<number | null> }>(
          cfg,
          appId,
          `SELECT toString(metric) AS op, sum(n) AS n, sum(total) AS total, ${QUANTILES} AS qs FROM perf_hourly
           WHERE ${w.sql} AND kind = 'span' AND txn = {metric:String}
           GROUP BY op ORDER BY total DESC, op LIMIT {ops:UInt32}`,
          { ...params, ops: SPAN_OPS_CAP },
        )
      : Promise.resolve(null),
  ]);
  const s = summary[0];
  const n = Number(s?.n ?? 0);
  const txnCount = n;
  const txnTotal = Number(s?.total ?? 0);
  return {
    metric,
    kind,
    unit: id.unit,
    summary: s && n > 0 ? { n, ...percentiles(s.qs), shares: isVital(metric) ? bandShares(n, Number(s.good), Number(s.poor)) : null } : null,
    series: series.map((r) => ({ t: Number(r.t), ...percentiles(r.qs) })),
    step,
    releases,
    platforms,
    devices,
    pages,
    spans:
      spans?.map((r) => {
        const count = Number(r.n);
        const total = Number(r.total);
        return { op: r.op, n: count, perTransaction: txnCount > 0 ? count / txnCount : 0, avg: count > 0 ? total / count : 0, p75: r.qs[1] ?? 0, share: txnTotal > 0 ? total / txnTotal : 0 };
      }) ?? null,
    slowSpans: spans && spans.length > 0 ? await slowSpans(cfg, appId, metric, range, spans.map((r) => r.op)) : kind === "transaction" ? [] : null,
  };
}

/**
 * The slowest span descriptions of one transaction in the range, from raw events: the events
 * key (app, day, type, event) narrows the read to the transaction's span ops, and the answer
 * is capped. Filters do not apply: a span event carries its transaction's name, not its tags.
 */
async function slowSpans(cfg: CH, appId: string, txn: string, range: TimeRange, ops: string[]): Promise<SlowSpan[]> {
  const rows = await queryApp<{ op: string; description: string; n: number; avg: number; max: number }>(
    cfg,
    appId,
    `SELECT toString(event) AS op, JSONExtractString(properties, 'description') AS description, count() AS n, avg(perf_value) AS avg, max(perf_value) AS max
     FROM events
     WHERE ${appRange("timestamp")} AND type = 'perf' AND event IN {ops:Array(String)}
       AND JSONExtractString(properties, 'kind') = 'span' AND JSONExtractString(properties, 'transaction') = {txn:String}
     GROUP BY op, description ORDER BY avg DESC, op, description LIMIT {cap:UInt32}`,
    // From the start of the range's first hour, as the hourly rollups beside it count.
    { ops, txn, ...rangeParams({ from: range.from - (range.from % 3600), to: range.to }), cap: SLOW_SPANS },
  );
  return rows.map((r) => ({ op: r.op, description: r.description, n: Number(r.n), avg: Number(r.avg), max: Number(r.max) }));
}
