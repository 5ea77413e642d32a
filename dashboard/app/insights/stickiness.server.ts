// Stickiness: for each person and calendar period (week or month in the time zone), on how many
// days they did the event; then how many person-periods had 1, 2, … days. The scan starts at the
// first period's beginning, not the range's, so no period is cut short at the start; the last
// one may still be running. Without an event name or filters beyond country, the hours people
// were active (people_hourly) answer it, else raw events.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "../queries/clickhouse.server";
import { appRange, rangeParams } from "../queries/scope";
import { filtersSql } from "./filters";
import { PEOPLE_HOURLY, peopleHourlyServes, typeFilter } from "./people-hourly";
import { identityHashJoin, joinedPersonHash } from "./person";
import { STICKY_PERIODS, type StickinessDef, type StickyPeriod } from "./stickiness";
import { bucketStarts } from "./trends.server";

export { parseStickiness, toStickinessSearch } from "./stickiness";
export type { StickinessDef } from "./stickiness";

export interface StickinessResult {
  period: StickyPeriod;
  /** `people[k]`: person-periods active on k + 1 days; as long as the period's most days (7 or 31). */
  people: number[];
  /** Person-periods with at least one day. */
  total: number;
  /** Distinct people among them. */
  persons: number;
  /** The periods counted, each one's start (epoch seconds). */
  periods: number[];
}

const PERIOD_SQL: Record<StickyPeriod, string> = {
  week: "toMonday(timestamp, {tz:String})",
  month: "toStartOfMonth(timestamp, {tz:String})",
};

// The day of its period an event fell on, 0 to 6 or 0 to 30: a person's days are the bits of one
// OR-ed integer, far cheaper than a set of dates per person and period.
const DAY_BIT: Record<StickyPeriod, string> = {
  week: "bitShiftLeft(toUInt32(1), toDayOfWeek(timestamp, 0, {tz:String}) - 1)",
  month: "bitShiftLeft(toUInt32(1), toDayOfMonth(timestamp, {tz:String}) - 1)",
};

export async function runStickiness(cfg: DashboardEnv["clickhouse"], appId: string, def: StickinessDef): Promise<StickinessResult> {
  const periods = bucketStarts(def.range, def.period, def.tz);
  const scan = { from: Math.min(def.range.from, periods[0] ?? def.range.from), to: def.range.to };
  const f = filtersSql(def.filters);
  const hourly = peopleHourlyServes(def, [scan]);
  const type = typeFilter(def.type, hourly);
  const params: Params = { ...rangeParams(scan), ...f.params, ...type.params, tz: def.tz };
  let where = appRange("timestamp") + type.sql;
  if (def.event) {
    where += " AND event = {s_event:String}";
    params.s_event = def.event;
  }
  // The grouping set without `days` (whole = 1) counts the distinct people of every period.
  const rows = await queryApp<{ days: number; whole: number; n: number; persons: number }>(
    cfg,
    appId,
    `SELECT days, grouping(days) AS whole, count() AS n, uniqExact(person) AS persons FROM (
       SELECT ${joinedPersonHash("e")} AS person, ${PERIOD_SQL[def.period]} AS period, bitCount(groupBitOr(${DAY_BIT[def.period]})) AS days
       FROM ${hourly ? PEOPLE_HOURLY : "events"} AS e${identityHashJoin("e")} WHERE ${where}${f.sql}
       GROUP BY person, period HAVING person != 0)
     GROUP BY GROUPING SETS ((days), ())`,
    params,
  );
  const max = STICKY_PERIODS[def.period];
  const people = Array.from({ length: max }, () => 0);
  let total = 0;
  let persons = 0;
  for (const r of rows) {
    if (Number(r.whole) !== 0) {
      total = Number(r.n);
      persons = Number(r.persons);
    } else if (r.days >= 1 && r.days <= max) people[r.days - 1] = Number(r.n);
  }
  return { period: def.period, people, total, persons, periods };
}
