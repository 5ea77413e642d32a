// What an insight's form offers to pick from: the app's busiest event names, platforms,
// countries and releases in the range, from the hourly rollup.
import type { DashboardEnv } from "../env.server";
import { queryApp } from "../queries/clickhouse.server";
import type { TimeRange } from "../queries/range";
import { appRange, rangeParams } from "../queries/scope";

export interface InsightOptions {
  events: string[];
  platforms: string[];
  countries: string[];
  releases: string[];
}

const LIMIT = 100;

/** The values seen in `range`, busiest first, at most 100 of each; events are track events' names. */
export async function loadInsightOptions(cfg: DashboardEnv["clickhouse"], appId: string, range: TimeRange): Promise<InsightOptions> {
  const list = (column: string, where = ""): Promise<Array<{ key: string }>> =>
    queryApp<{ key: string }>(
      cfg,
      appId,
      `SELECT toString(${column}) AS key FROM events_hourly WHERE ${appRange("hour")} AND ${column} != ''${where}
       GROUP BY key ORDER BY sum(events) DESC, key LIMIT {limit:UInt32}`,
      { ...rangeParams(range), limit: LIMIT },
    );
  const [events, platforms, countries, releases] = await Promise.all([list("event", " AND type = 'track'"), list("platform"), list("country"), list("app_version")]);
  const keys = (rows: Array<{ key: string }>): string[] => rows.map((r) => r.key);
  return { events: keys(events), platforms: keys(platforms), countries: keys(countries), releases: keys(releases) };
}
