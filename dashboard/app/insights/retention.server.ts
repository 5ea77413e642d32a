// Retention: people grouped into cohorts by the period (day, week or month, in a time zone) they
// were first seen in, or first did a chosen event in; then, for each later period, how many of
// them came back (did any event, or a chosen one). People are persons (person.ts), so anonymous
// activity before sign-up counts for the user it became.
//
// First seen means ever, not first in the range: unfiltered, it is the `user_profiles` summary's
// first_seen (365 days, one row per user key); with a chosen first event or a filter, it is the
// person's first matching raw event over the raw events' whole 90 days before the range. Either
// way the range's own events are scanned once, for the returns. Raw events are grouped by their
// two ids before the person key is worked out, so the identity map is looked up once per pair of
// ids rather than once per event.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "../queries/clickhouse.server";
import { appRange, rangeParams } from "../queries/scope";
import { isPeriod, zonedDay, type Period } from "./calendar";
import { filtersSql, hasFilters, parseFilters, parseInsightRange, parseTz, writeFilters, writeRange, type InsightFilters, type TimeRange } from "./filters";
import { hasPerson, hashedPerson, idHash, identityHashJoin } from "./person";
import { bucketStarts } from "./trends.server";

export interface RetentionDef {
  range: TimeRange;
  /** "" puts people in the cohort of the period they were first seen; an event name, of their first such event. */
  start: string;
  /** "" counts any event as coming back; an event name, only that one. */
  returning: string;
  period: Period;
  tz: string;
  filters: InsightFilters;
  /** What the URL asked for that was ignored, in words. */
  problems: string[];
}

/** Cohorts a table shows at most: the newest. */
export const MAX_COHORTS = 60;
/** How far before the range a person's first event is looked for: all the raw events kept. */
export const FIRST_SEEN_LOOKBACK_DAYS = 90;

const DEFAULT_PERIOD: Period = "day";

/** The retention insight the URL defines; anything unusable falls back to the default and is named in `problems`. */
export function parseRetention(url: URL, now = Date.now()): RetentionDef {
  const problems: string[] = [];
  const range = parseInsightRange(url, problems, now);
  const rawPeriod = url.searchParams.get("period");
  if (rawPeriod !== null && !isPeriod(rawPeriod)) problems.push(`"${rawPeriod.slice(0, 20)}" is not a period (day, week or month); days were used.`);
  const event = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, 200);
  return {
    range,
    start: event("start"),
    returning: event("return"),
    period: isPeriod(rawPeriod) ? rawPeriod : DEFAULT_PERIOD,
    tz: parseTz(url, problems),
    filters: parseFilters(url, problems),
    problems,
  };
}

/** The query string of `def`: `parseRetention` of it gives the same definition. */
export function toRetentionSearch(def: RetentionDef): string {
  const q = new URLSearchParams();
  writeRange(q, def.range);
  if (def.start) q.set("start", def.start);
  if (def.returning) q.set("return", def.returning);
  if (def.period !== DEFAULT_PERIOD) q.set("period", def.period);
  if (def.tz !== "UTC") q.set("tz", def.tz);
  writeFilters(q, def.filters);
  return q.toString();
}

export interface Cohort {
  /** `2026-03-02`: the cohort's period's first day in the time zone. */
  day: string;
  size: number;
  /** People of the cohort active in period 1, 2, … after theirs, for the periods that have begun. */
  returned: number[];
}

export interface RetentionResult {
  /** Oldest first; every period of the range, empty ones with size 0. */
  cohorts: Cohort[];
  /** The share of people back in period n (index n − 1), over the cohorts that reached it, weighted by their sizes. */
  average: Array<{ n: number; rate: number | null; returned: number; of: number }>;
  /** Where "first seen" came from, for the page's explanation. */
  firstSeen: "profiles" | "events";
  /** Where coming back was read: sessions (any event, unfiltered) or raw events. */
  returns: "sessions" | "events";
}

// The period an instant falls in (a Date, in the zone) and the period's number for differences.
const PERIOD_SQL: Readonly<Record<Period, { start: (ts: string) => string; num: (d: string) => string }>> = {
  day: { start: (ts) => `toDate(${ts}, {tz:String})`, num: (d) => `toRelativeDayNum(${d})` },
  week: { start: (ts) => `toMonday(${ts}, {tz:String})`, num: (d) => `toRelativeWeekNum(${d})` },
  month: { start: (ts) => `toStartOfMonth(${ts}, {tz:String})`, num: (d) => `toRelativeMonthNum(${d})` },
};

/**
 * When each pair of ids (or user key) was first seen, as `user_h`, `anon_h` (idHash) and `first`:
 * the person's cohort is the earliest of their pairs'.
 */
function firstsSql(def: RetentionDef, filters: string): { sql: string; firstSeen: RetentionResult["firstSeen"] } {
  if (!def.start && !hasFilters(def.filters)) {
    // Rows of one user key from different inserts merge later: min over them.
    return {
      firstSeen: "profiles",
      sql: `SELECT ${idHash("uid")} AS user_h, ${idHash("key")} AS anon_h, first FROM (
              SELECT user_key AS key, max(user_id) AS uid, min(first_seen) AS first FROM user_profiles
              WHERE app_id = {app:String} AND first_seen < toDateTime64({to:UInt32}, 3, 'UTC') GROUP BY user_key)`,
    };
  }
  const event = def.start ? " AND event = {start:String}" : "";
  return {
    firstSeen: "events",
    sql: `SELECT ${idHash("user_id")} AS user_h, ${idHash("anonymous_id")} AS anon_h, min(timestamp) AS first FROM events
          WHERE ${appRange()} AND ${hasPerson()}${event}${filters}
          GROUP BY user_h, anon_h`,
  };
}

/** Runs the retention insight for `appId`. */
export async function runRetention(cfg: DashboardEnv["clickhouse"], appId: string, def: RetentionDef): Promise<RetentionResult> {
  const periods = bucketStarts(def.range, def.period, def.tz)
    .slice(-MAX_COHORTS)
    .map((from) => ({ day: zonedDay(from, def.tz), from }));
  const first = periods[0];
  if (!first) return { cohorts: [], average: [], firstSeen: "profiles", returns: "sessions" };
  const f = filtersSql(def.filters);
  const cohorts = firstsSql(def, f.sql);
  const { start, num } = PERIOD_SQL[def.period];
  const returning = def.returning ? " AND event = {returning:String}" : "";
  // The cohorts' scan reaches back for first events; the returns' scan reads the table's periods only.
  const scanFrom = cohorts.firstSeen === "events" ? first.from - FIRST_SEEN_LOOKBACK_DAYS * 86_400 : first.from;
  const params: Params = {
    ...rangeParams({ from: scanFrom, to: def.range.to }),
    ...f.params,
    tz: def.tz,
    first: first.day,
    firstFrom: first.from,
    start: def.start,
    returning: def.returning,
  };
  // Coming back on any event, unfiltered, is read from the session summaries (a tenth of the
  // rows): a session's (day's) first and last events give the periods it touched, and events
  // sent without a session id do not count. FINAL merges a session-day's rows from different
  // inserts (its min and max columns, the table's key) at half the cost of grouping them.
  // Otherwise the matching raw events are read.
  const fromEvents = def.returning !== "" || hasFilters(def.filters);
  const returns = fromEvents
    ? `SELECT ${idHash("user_id")} AS user_h, ${idHash("anonymous_id")} AS anon_h, groupUniqArray(${start("timestamp")}) AS periods FROM events
       WHERE ${appRange()} AND timestamp >= toDateTime64({firstFrom:UInt32}, 3, 'UTC') AND ${hasPerson()}${returning}${f.sql}
       GROUP BY user_h, anon_h`
    : `SELECT ${idHash("uid")} AS user_h, ${idHash("aid")} AS anon_h, groupUniqArrayArray(periods) AS periods FROM (
         SELECT user_id AS uid, anonymous_id AS aid, arrayDistinct([${start("started")}, ${start("ended")}]) AS periods FROM sessions FINAL
         WHERE ${appRange("day")} AND day >= toDate(toDateTime({firstFrom:UInt32}, 'UTC')))
       WHERE uid != '' OR aid != ''
       GROUP BY user_h, anon_h`;
  const rows = await queryApp<{ cohort: string; n: number; people: number }>(
    cfg,
    appId,
    // Both sides in one grouping by person: a person's cohort is their earliest first, their
    // returns every period any of their pairs (or sessions) touched.
    `SELECT toString(cohort) AS cohort, n, toUInt64(count()) AS people FROM (
       SELECT cohort, arrayJoin(arrayConcat([0], arrayFilter(x -> x > 0, arrayMap(p -> ${num("p")} - ${num("cohort")}, periods)))) AS n FROM (
         SELECT person, ${start("minIf(first, side = 0)")} AS cohort, groupUniqArrayArray(periods) AS periods FROM (
           SELECT ${hashedPerson("ids")} AS person, ids.side AS side, ids.first AS first, ids.periods AS periods FROM (
             SELECT 0 AS side, user_h, anon_h, first, CAST([], 'Array(Date)') AS periods FROM (${cohorts.sql})
             UNION ALL
             SELECT 1 AS side, user_h, anon_h, toDateTime64(0, 3, 'UTC') AS first, periods FROM (${returns})) AS ids${identityHashJoin("ids", true)})
         GROUP BY person
         HAVING countIf(side = 0) > 0 AND cohort >= {first:Date}))
     GROUP BY cohort, n ORDER BY cohort, n`,
    params,
  );
  return { ...tabulate(periods, rows), firstSeen: cohorts.firstSeen, returns: fromEvents ? "events" : "sessions" };
}

/** The cohort table and average curve from (cohort, period, people) counts. */
export function tabulate(periods: ReadonlyArray<{ day: string }>, rows: ReadonlyArray<{ cohort: string; n: number; people: number }>): Pick<RetentionResult, "cohorts" | "average"> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.cohort} ${Number(r.n)}`, Number(r.people));
  const cohorts = periods.map((p, i) => ({
    day: p.day,
    size: counts.get(`${p.day} 0`) ?? 0,
    // A cohort sees the periods after its own that have begun by the range's end.
    returned: Array.from({ length: periods.length - 1 - i }, (_, k) => counts.get(`${p.day} ${k + 1}`) ?? 0),
  }));
  const average = Array.from({ length: Math.max(0, periods.length - 1) }, (_, k) => {
    let returned = 0;
    let of = 0;
    for (const c of cohorts) {
      const back = c.returned[k];
      if (back === undefined) continue;
      returned += back;
      of += c.size;
    }
    return { n: k + 1, rate: of > 0 ? returned / of : null, returned, of };
  });
  return { cohorts, average };
}
