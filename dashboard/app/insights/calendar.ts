// The calendar periods retention groups people by (weeks start on Monday), and how a period's
// first day reads in a time zone. Where each period begins is trends.server.ts's bucketStarts.

export const PERIODS = ["day", "week", "month"] as const;
export type Period = (typeof PERIODS)[number];

export const isPeriod = (v: string | null): v is Period => v !== null && (PERIODS as readonly string[]).includes(v);

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** `2026-03-02`: the zone's date at the instant (epoch seconds), as ClickHouse writes a Date. */
export function zonedDay(epochSec: number, tz: string): string {
  let f = dayFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
    dayFormats.set(tz, f);
  }
  return f.format(new Date(epochSec * 1000));
}

/**
 * The first instant (epoch seconds) of the day `2026-03-02` in the zone: its midnight, or the
 * hour where a clock change skips midnight. Zones run from UTC−12 to UTC+14, so the day begins
 * within 14 hours before and 12 hours after midnight UTC; dates only grow across that span.
 */
export function zoneDayStart(day: string, tz: string): number {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`) / 1000;
  let lo = utcMidnight - 14 * 3600;
  let hi = utcMidnight + 12 * 3600;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (zonedDay(mid, tz) >= day) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
