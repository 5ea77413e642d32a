// The overview's reads, all from the rollups of 0004_rollups.sql (never raw events), in one
// round of parallel queries.
import type { DashboardEnv } from "../env.server";
import { queryApp } from "./clickhouse.server";
import { dimsSql, type Dims } from "./dims";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

export interface Point {
  t: number;
  n: number;
}

export interface TopRow {
  key: string;
  n: number;
}

export interface Overview {
  totals: { events: number; users: number; sessions: number };
  /** Events per chart bucket (range.step seconds). */
  events: Point[];
  /** Unique users and sessions per UTC day. */
  users: Point[];
  sessions: Point[];
  /** Events per second over the last five minutes, whatever the range. */
  liveRate: number;
  topEvents: TopRow[];
  topPages: TopRow[];
  countries: TopRow[];
  platforms: TopRow[];
  versions: TopRow[];
}

// Only the hours that begin in the range: the last hour's lists leave out the hour it began in.
const HOURS = `${appRange("hour")} AND hour >= toDateTime({from:UInt32}, 'UTC')`;
const DAYS = appRange("day");

const top = (column: string, table: "events_hourly" | "pages_hourly", dims: string, extra = ""): string => {
  const measure = table === "pages_hourly" ? "views" : "events";
  return `SELECT toString(${column}) AS key, toUInt64(sum(${measure})) AS n FROM ${table} WHERE ${HOURS}${dims} ${extra} GROUP BY key ORDER BY n DESC, key LIMIT 10`;
};

/** Daily users and sessions: by platform and country only when a filter needs them. */
export const usersTable = (dims: string): string => (dims ? "users_daily_dims" : "users_daily");

function eventSeriesQuery(step: number, dims: string): string {
  if (step === 60) {
    return `SELECT toUnixTimestamp(minute) AS t, toUInt64(sum(events)) AS n FROM events_minutely
            WHERE ${appRange("minute")}${dims} GROUP BY t ORDER BY t`;
  }
  return `SELECT toUnixTimestamp(toStartOfInterval(hour, toIntervalSecond({step:UInt32}))) AS t, toUInt64(sum(events)) AS n FROM events_hourly
          WHERE ${HOURS}${dims} GROUP BY t ORDER BY t`;
}

/** Everything the overview page shows for `app` over `range`, narrowed to `dims`. */
export async function loadOverview(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  range: TimeRange,
  dims: Dims = { platform: "", country: "" },
  now = Date.now(),
): Promise<Overview> {
  const d = dimsSql(dims);
  const p = { ...rangeParams(range), step: range.step, ...d.params };
  const nowSec = Math.floor(now / 1000);
  const [events, daily, totals, live, topEvents, topPages, countries, platforms, versions] = await Promise.all([
    queryApp<Point>(cfg, app, eventSeriesQuery(range.step, d.sql), p),
    queryApp<{ t: number; users: number; sessions: number }>(
      cfg,
      app,
      `SELECT toUnixTimestamp(toDateTime(day, 'UTC')) AS t, toUInt64(uniqMerge(users)) AS users, toUInt64(uniqMerge(sessions)) AS sessions
       FROM ${usersTable(d.sql)} WHERE ${DAYS}${d.sql} GROUP BY t ORDER BY t`,
      p,
    ),
    queryApp<{ users: number; sessions: number }>(
      cfg,
      app,
      `SELECT toUInt64(uniqMerge(users)) AS users, toUInt64(uniqMerge(sessions)) AS sessions FROM ${usersTable(d.sql)} WHERE ${DAYS}${d.sql}`,
      p,
    ),
    queryApp<{ n: number }>(cfg, app, `SELECT toUInt64(sum(events)) AS n FROM events_minutely WHERE app_id = {app:String} AND minute >= toDateTime({since:UInt32})${d.sql}`, {
      since: nowSec - 300,
      ...d.params,
    }),
    queryApp<TopRow>(cfg, app, top("event", "events_hourly", d.sql, "AND type = 'track'"), p),
    queryApp<TopRow>(cfg, app, top("path", "pages_hourly", d.sql), p),
    queryApp<TopRow>(cfg, app, top("country", "events_hourly", d.sql), p),
    queryApp<TopRow>(cfg, app, top("platform", "events_hourly", d.sql), p),
    queryApp<TopRow>(cfg, app, top("app_version", "events_hourly", d.sql), p),
  ]);
  const t = totals[0];
  const series = events.map((r) => ({ t: Number(r.t), n: Number(r.n) }));
  return {
    // The total is the chart's sum, so it has the chart's precision (minutes for the last hour).
    // Users and sessions come from daily states: short ranges count the whole days they touch.
    totals: { events: series.reduce((sum, p) => sum + p.n, 0), users: Number(t?.users ?? 0), sessions: Number(t?.sessions ?? 0) },
    events: series,
    users: daily.map((r) => ({ t: Number(r.t), n: Number(r.users) })),
    sessions: daily.map((r) => ({ t: Number(r.t), n: Number(r.sessions) })),
    liveRate: Number(live[0]?.n ?? 0) / 300,
    topEvents: topEvents.map(num),
    topPages: topPages.map(num),
    countries: countries.map(num),
    platforms: platforms.map(num),
    versions: versions.map(num),
  };
}

const num = (r: TopRow): TopRow => ({ key: r.key, n: Number(r.n) });

export interface DimOptions {
  platforms: string[];
  countries: string[];
}

/** The platforms and countries seen in `range`, busiest first: what the filter menus offer. */
export async function loadDimOptions(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange): Promise<DimOptions> {
  const p = rangeParams(range);
  const list = (column: string): string =>
    `SELECT toString(${column}) AS key FROM events_hourly WHERE ${HOURS} AND ${column} != '' GROUP BY key ORDER BY sum(events) DESC, key LIMIT 100`;
  const [platforms, countries] = await Promise.all([queryApp<{ key: string }>(cfg, app, list("platform"), p), queryApp<{ key: string }>(cfg, app, list("country"), p)]);
  return { platforms: platforms.map((r) => r.key), countries: countries.map((r) => r.key) };
}
