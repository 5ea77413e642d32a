// The one place a dashboard query gets its app-and-range predicate. Every predicate filters by
// `{app:String}` (which queryApp adds and insists on) and the range's bounds `{from:UInt32}` and
// `{to:UInt32}` (epoch seconds, `rangeParams`), so no value is ever written into SQL and no
// query can leave its app. The column says which table's clock is meant.
import { HOUR_RANGE, type TimeRange } from "./range";

/**
 * The time column of a table: raw `events` (and `timestamp` tables), minute, hour and day
 * rollups; `session_day` is the `day` of summaries whose rows the caller narrows by their own
 * times (sessions, which may cross midnight on either side of the range).
 */
export type TimeColumn = "timestamp" | "minute" | "hour" | "day" | "session_day";

const RANGE_OF: Record<TimeColumn, string> = {
  timestamp: "timestamp >= toDateTime64({from:UInt32}, 3, 'UTC') AND timestamp < toDateTime64({to:UInt32}, 3, 'UTC')",
  minute: "minute >= toDateTime({from:UInt32}, 'UTC') AND minute < toDateTime({to:UInt32}, 'UTC')",
  // A range that starts within an hour counts that whole hour.
  hour: HOUR_RANGE,
  // Days are whole: the day holding `to` counts, as a chart's last bar does.
  day: "day >= toDate(toDateTime({from:UInt32}, 'UTC')) AND day <= toDate(toDateTime({to:UInt32} - 1, 'UTC'))",
  // A day either side: a session that began before midnight has rows on both days.
  session_day: "day >= toDate(toDateTime({from:UInt32}, 'UTC')) - 1 AND day <= toDate(toDateTime({to:UInt32}, 'UTC')) + 1",
};

/** `app_id = {app:String} AND <the range over column>`, e.g. `WHERE ${appRange("hour")} AND …`. */
export function appRange(column: TimeColumn = "timestamp"): string {
  return `app_id = {app:String} AND ${RANGE_OF[column]}`;
}

/**
 * The range alone over `column`, for aggregates that read an app's rows beyond it and count
 * some only (`sumIf(events, ${inRange("hour")})`): the query's WHERE still holds the app.
 */
export function inRange(column: TimeColumn = "timestamp"): string {
  return RANGE_OF[column];
}

/** The parameters `appRange` names: `{from, to}` in epoch seconds. */
export function rangeParams(range: Pick<TimeRange, "from" | "to">): { from: number; to: number } {
  return { from: range.from, to: range.to };
}
