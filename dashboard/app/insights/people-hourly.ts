// When an insight that only asks who was there reads `people_hourly` (0017_people_hourly.sql,
// docs/decisions/0031-people-hourly.md) instead of raw events, and how it narrows it. The rollup
// keeps, per hour, each pair of ids, their country and the types they sent: it answers the same
// as the events for a range of whole hours in a zone whose every hour starts on a UTC hour, with
// no filter but country and a type, and no breakdown but country. Anything else reads events.
import { EVENT_TYPES } from "../../../schemas/events";
import type { Params } from "../queries/clickhouse.server";
import type { InsightFilters, TimeRange } from "./filters";

export const PEOPLE_HOURLY = "people_hourly";

/** The bit of the rollup's `types` a known type sets: its position in EVENT_TYPES, from 1. */
function typeBit(type: string): number | null {
  const i = (EVENT_TYPES as readonly string[]).indexOf(type);
  return i < 0 ? null : i + 1;
}

/**
 * Whether a count of people (who did `type`, or anything; with `filters`) over `ranges` in `tz`
 * may read the rollup instead of events: no event name, a known type, filters it holds, whole hours.
 */
export function peopleHourlyServes(q: { event: string; type: string; filters: InsightFilters; tz: string }, ranges: ReadonlyArray<Pick<TimeRange, "from" | "to">>): boolean {
  return q.event === "" && (q.type === "" || typeBit(q.type) !== null) && rollupFilters(q.filters) && wholeHours(ranges, q.tz);
}

/** ` AND` the rows of `type` ("" for any) in the table read: a bit of the rollup's `types`, or the events' column. */
export function typeFilter(type: string, hourly: boolean): { sql: string; params: Params } {
  if (type === "") return { sql: "", params: {} };
  const bit = hourly ? typeBit(type) : null;
  return bit === null ? { sql: " AND type = {s_type:String}", params: { s_type: type } } : { sql: " AND bitTest(types, {s_bit:UInt8})", params: { s_bit: bit } };
}

/**
 * Whether every range's bounds, and every hour of it in `tz`, fall on a UTC hour: then each of
 * the rollup's hours lies within one bucket (hour, day, week or month) of the zone, as each of
 * its events would. Zones half or three quarters of an hour off UTC, and ranges of minutes, don't.
 */
function wholeHours(ranges: ReadonlyArray<Pick<TimeRange, "from" | "to">>, tz: string): boolean {
  return ranges.every((r) => {
    if (r.from % 3600 !== 0 || r.to % 3600 !== 0) return false;
    if (tz === "UTC") return true;
    for (let t = r.from; t < r.to; t += 3600) if (wallMinute(t, tz) !== 0) return false;
    return true;
  });
}

const minuteFormats = new Map<string, Intl.DateTimeFormat>();
const wallMinute = (epochSec: number, tz: string): number => {
  let f = minuteFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, minute: "numeric" });
    minuteFormats.set(tz, f);
  }
  return Number(f.format(new Date(epochSec * 1000)));
};

/** Whether the filters are ones the rollup holds: country, or none. */
const rollupFilters = (f: InsightFilters): boolean => f.platform === "" && f.release === "" && f.props.length === 0;
