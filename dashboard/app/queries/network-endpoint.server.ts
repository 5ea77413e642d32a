// One endpoint's page: its calls, error rate and latency over time, its status codes with how
// each call ended, its releases and platforms, all from the `network_hourly` rollup; and its
// recent failing calls, the one read of raw events, bounded by the range and a LIMIT.
import type { DashboardEnv } from "../env.server";
import { queryApp } from "./clickhouse.server";
import { FAILING_CALLS_SHOWN, type EndpointKey, type NetworkFilters } from "./network-filters";
import { callStats, chartStep, networkSeries, networkWhere, STATS_COLUMNS, type CallStats, type NetworkPoint, type StatsRow } from "./network.server";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

export interface StatusRow {
  /** 0: no response came back. */
  status: number;
  outcome: string;
  calls: number;
}

export type SliceRow = CallStats & { key: string };

export interface FailingCall {
  ts: number;
  status: number;
  outcome: string;
  durationMs: number;
  /** The URL as stored: redacted at the edge. */
  url: string;
  /** The page or screen the call was made from. */
  page: string;
  /** The user's profile key (user id, else anonymous id); "" when the call carried neither. */
  userKey: string;
  identified: boolean;
  sessionId: string;
  release: string;
  platform: string;
}

export interface EndpointView {
  totals: CallStats;
  series: NetworkPoint[];
  step: number;
  statuses: StatusRow[];
  releases: SliceRow[];
  platforms: SliceRow[];
  failing: FailingCall[];
}

/** Raw calls of one endpoint that did not end ok; rows stored before outcomes read theirs from the status. */
const FAILING = `${appRange("timestamp")} AND type = 'network'
  AND net_method = {method:String} AND net_host = {host:String} AND if(net_template != '', net_template, net_path) = {template:String}
  AND if(net_outcome != '', toString(net_outcome), multiIf(net_status >= 400, 'error', net_status > 0, 'ok', 'failed')) != 'ok'`;

export async function loadEndpoint(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  range: TimeRange,
  f: Pick<NetworkFilters, "platform" | "release">,
  endpoint: EndpointKey,
): Promise<EndpointView> {
  const w = networkWhere(range, f, endpoint);
  const slice = (column: string) =>
    queryApp<StatsRow & { key: string }>(
      cfg,
      app,
      `SELECT toString(${column}) AS key, ${STATS_COLUMNS} FROM network_hourly WHERE ${w.sql} GROUP BY key ORDER BY calls DESC, key LIMIT 100`,
      w.params,
    );
  const failingParams: Record<string, string | number> = { ...rangeParams(range), ...endpoint, limit: FAILING_CALLS_SHOWN };
  let failingFilter = "";
  if (f.platform) {
    failingFilter += " AND platform = {platform:String}";
    failingParams.platform = f.platform;
  }
  if (f.release) {
    failingFilter += " AND app_version = {release:String}";
    failingParams.release = f.release;
  }
  const [totals, series, statuses, releases, platforms, failing] = await Promise.all([
    queryApp<StatsRow>(cfg, app, `SELECT ${STATS_COLUMNS} FROM network_hourly WHERE ${w.sql}`, w.params),
    networkSeries(cfg, app, range, w),
    queryApp<StatusRow>(
      cfg,
      app,
      `SELECT status, toString(outcome) AS outcome, sum(n) AS calls FROM network_hourly WHERE ${w.sql} GROUP BY status, outcome ORDER BY calls DESC, status, outcome`,
      w.params,
    ),
    slice("app_version"),
    slice("platform"),
    queryApp<{ ts: number; status: number; outcome: string; duration: number; url: string; page: string; user_id: string; anonymous_id: string; session_id: string; release: string; platform: string }>(
      cfg,
      app,
      `SELECT toUnixTimestamp64Milli(timestamp) AS ts, net_status AS status,
              if(net_outcome != '', toString(net_outcome), multiIf(net_status >= 500, 'server_error', net_status >= 400, 'client_error', 'failed')) AS outcome,
              duration_ms AS duration, JSONExtractString(properties, 'request', 'url') AS url, path AS page,
              user_id, anonymous_id, session_id, toString(app_version) AS release, toString(platform) AS platform
       FROM events WHERE ${FAILING}${failingFilter}
       ORDER BY timestamp DESC, message_id DESC LIMIT {limit:UInt32}`,
      failingParams,
    ),
  ]);
  const sliceRows = (rows: Array<StatsRow & { key: string }>): SliceRow[] => rows.map((r) => ({ key: r.key, ...callStats(r) }));
  return {
    totals: callStats(totals[0] ?? { calls: 0, client_errors: 0, server_errors: 0, failed: 0, timeouts: 0, req_bytes: 0, resp_bytes: 0, p: [] }),
    series,
    step: chartStep(range),
    statuses: statuses.map((s) => ({ status: Number(s.status), outcome: s.outcome, calls: Number(s.calls) })),
    releases: sliceRows(releases),
    platforms: sliceRows(platforms),
    failing: failing.map((c) => ({
      ts: Number(c.ts),
      status: Number(c.status),
      outcome: c.outcome,
      durationMs: Number(c.duration),
      url: c.url,
      page: c.page,
      userKey: c.user_id || c.anonymous_id,
      identified: c.user_id !== "",
      sessionId: c.session_id,
      release: c.release,
      platform: c.platform,
    })),
  };
}
