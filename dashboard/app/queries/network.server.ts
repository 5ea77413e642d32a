// Network calls from the `network_hourly` rollup of 0011_perf_network.sql: totals, calls, error
// rate and latency over time, the endpoints table (method, host, path template) and the worst
// endpoints by error rate and by p95 latency. Latencies are merged quantilesBFloat16 states, so a
// 30-day percentile reads the states of its hours instead of every call; rows of one group from
// different inserts are merged here with GROUP BY.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { ENDPOINT_EXPORT_CAP, ENDPOINTS_SHOWN, WORST_MIN_CALLS, WORST_SHOWN, type EndpointKey, type EndpointSort, type NetworkFilters } from "./network-filters";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

/** Calls and how they ended, with latency percentiles and sizes: one endpoint's, or all of them. */
export interface CallStats {
  calls: number;
  /** Calls that did not end ok: the four below together. */
  errors: number;
  clientErrors: number;
  serverErrors: number;
  failed: number;
  timeouts: number;
  /** errors / calls; null without calls. */
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Bytes per call, over every call (calls whose size was not reported count as 0). */
  avgRequestBytes: number;
  avgResponseBytes: number;
}

export type EndpointRow = EndpointKey & CallStats;

/** One chart bucket: its calls, how they ended, latency and sizes. */
export type NetworkPoint = CallStats & {
  /** Bucket start, epoch seconds. */
  t: number;
};


/** The columns every read of call statistics selects, named as StatsRow has them. */
export const STATS_COLUMNS = `sum(n) AS calls,
  sumIf(n, outcome = 'client_error') AS client_errors, sumIf(n, outcome = 'server_error') AS server_errors,
  sumIf(n, outcome = 'failed') AS failed, sumIf(n, outcome = 'timeout') AS timeouts,
  sum(req_bytes) AS req_bytes, sum(resp_bytes) AS resp_bytes,
  quantilesBFloat16Merge(0.5, 0.95, 0.99)(q) AS p`;

/** An endpoint's error share and p95 as sort keys: `ORDER BY` and `HAVING` read them. */
const ERROR_RATE = "(calls - sumIf(n, outcome = 'ok')) / calls";
const P95 = "p[2]";

export interface StatsRow {
  calls: number;
  client_errors: number;
  server_errors: number;
  failed: number;
  timeouts: number;
  req_bytes: number;
  resp_bytes: number;
  p: number[];
}

/** A percentile as read from a merged state; an empty one answers NaN. */
const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

export function callStats(r: StatsRow): CallStats {
  const calls = Number(r.calls);
  const clientErrors = Number(r.client_errors);
  const serverErrors = Number(r.server_errors);
  const failed = Number(r.failed);
  const timeouts = Number(r.timeouts);
  const errors = clientErrors + serverErrors + failed + timeouts;
  return {
    calls,
    errors,
    clientErrors,
    serverErrors,
    failed,
    timeouts,
    errorRate: calls > 0 ? errors / calls : null,
    p50: calls > 0 ? finite(r.p[0]) : null,
    p95: calls > 0 ? finite(r.p[1]) : null,
    p99: calls > 0 ? finite(r.p[2]) : null,
    avgRequestBytes: calls > 0 ? Number(r.req_bytes) / calls : 0,
    avgResponseBytes: calls > 0 ? Number(r.resp_bytes) / calls : 0,
  };
}

/** The app, range and filter predicate over the rollup; `fixed` pins an endpoint. */
export function networkWhere(range: TimeRange, f: Partial<NetworkFilters>, fixed?: EndpointKey): { sql: string; params: Params } {
  const parts = [appRange("hour")];
  const params: Params = rangeParams(range);
  const filters: Array<[string, string | undefined]> = [
    ["platform", f.platform],
    ["app_version", f.release],
    ["host", fixed ? fixed.host : f.host],
    ["method", fixed ? fixed.method : f.method],
  ];
  if (fixed) filters.push(["template", fixed.template]);
  for (const [column, value] of filters) {
    // A pinned endpoint's empty host or method is a value to match, not "any".
    if (value === undefined || (value === "" && !(fixed && ["host", "method", "template"].includes(column)))) continue;
    parts.push(`${column} = {${column}:String}`);
    params[column] = value;
  }
  return { sql: parts.join(" AND "), params };
}

/** Bucket width of the charts: the rollup's hour at least, days past a week. */
export const chartStep = (range: TimeRange): number => Math.max(3600, range.step);

/** Calls, how they ended, latency and sizes per bucket. */
export async function networkSeries(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, w: { sql: string; params: Params }): Promise<NetworkPoint[]> {
  const rows = await queryApp<StatsRow & { t: number }>(
    cfg,
    app,
    `SELECT toUnixTimestamp(toStartOfInterval(hour, INTERVAL {step:UInt32} SECOND)) AS t, ${STATS_COLUMNS}
     FROM network_hourly WHERE ${w.sql} GROUP BY t ORDER BY t`,
    { ...w.params, step: chartStep(range) },
  );
  return rows.map((r) => ({ t: Number(r.t), ...callStats(r) }));
}

const SORT_SQL: Record<EndpointSort, string> = {
  calls: "calls DESC",
  errors: `${ERROR_RATE} DESC, calls DESC`,
  p95: `${P95} DESC, calls DESC`,
};

/** Endpoints in the sort's order; `having` keeps only some. */
async function endpoints(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  w: { sql: string; params: Params },
  sort: EndpointSort,
  limit: number,
  having = "",
): Promise<EndpointRow[]> {
  const rows = await queryApp<StatsRow & EndpointKey>(
    cfg,
    app,
    `SELECT toString(method) AS method, toString(host) AS host, template, ${STATS_COLUMNS}
     FROM network_hourly WHERE ${w.sql}
     GROUP BY method, host, template ${having}
     ORDER BY ${SORT_SQL[sort]}, method, host, template LIMIT {limit:UInt32}`,
    { ...w.params, limit, min: WORST_MIN_CALLS },
  );
  return rows.map((r) => ({ method: r.method, host: r.host, template: r.template, ...callStats(r) }));
}

export interface NetworkView {
  totals: CallStats;
  /** Endpoints with calls in the range and filters. */
  endpointCount: number;
  series: NetworkPoint[];
  /** Bucket width of `series`, seconds. */
  step: number;
  endpoints: EndpointRow[];
  worstByErrors: EndpointRow[];
  worstByLatency: EndpointRow[];
}

export async function loadNetwork(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: NetworkFilters): Promise<NetworkView> {
  const w = networkWhere(range, f);
  const [totals, series, list, byErrors, byLatency] = await Promise.all([
    queryApp<StatsRow & { endpoints: number }>(
      cfg,
      app,
      `SELECT ${STATS_COLUMNS}, uniqExact(method, host, template) AS endpoints FROM network_hourly WHERE ${w.sql}`,
      w.params,
    ),
    networkSeries(cfg, app, range, w),
    endpoints(cfg, app, w, f.sort, ENDPOINTS_SHOWN),
    endpoints(cfg, app, w, "errors", WORST_SHOWN, `HAVING calls >= {min:UInt32} AND ${ERROR_RATE} > 0`),
    endpoints(cfg, app, w, "p95", WORST_SHOWN, "HAVING calls >= {min:UInt32}"),
  ]);
  const t = totals[0];
  return {
    totals: callStats(t ?? { calls: 0, client_errors: 0, server_errors: 0, failed: 0, timeouts: 0, req_bytes: 0, resp_bytes: 0, p: [] }),
    endpointCount: Number(t?.endpoints ?? 0),
    series,
    step: chartStep(range),
    endpoints: list,
    worstByErrors: byErrors,
    worstByLatency: byLatency,
  };
}

/** Up to ENDPOINT_EXPORT_CAP endpoints for the CSV, in the page's order. */
export const exportEndpoints = (cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: NetworkFilters): Promise<EndpointRow[]> =>
  endpoints(cfg, app, networkWhere(range, f), f.sort, ENDPOINT_EXPORT_CAP);

export interface NetworkFilterOptions {
  platforms: string[];
  releases: string[];
  hosts: string[];
  methods: string[];
}

/** The platforms, releases, hosts and methods calls came from in the range, busiest first. */
export async function networkFilterOptions(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange): Promise<NetworkFilterOptions> {
  const rows = await queryApp<NetworkFilterOptions>(
    cfg,
    app,
    `SELECT arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, c), kind = 'p'))) AS platforms,
            arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, c), kind = 'r'))) AS releases,
            arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, c), kind = 'h'))) AS hosts,
            arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, c), kind = 'm'))) AS methods
     FROM (
       SELECT kv.1 AS kind, kv.2 AS v, sum(n) AS c FROM network_hourly
       ARRAY JOIN [('p', toString(platform)), ('r', toString(app_version)), ('h', toString(host)), ('m', toString(method))] AS kv
       WHERE ${appRange("hour")} AND kv.2 != ''
       GROUP BY kind, v
     )`,
    rangeParams(range),
  );
  return rows[0] ?? { platforms: [], releases: [], hosts: [], methods: [] };
}
