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
