// Calendar periods (day, week from Monday, month) in an IANA time zone, computed in JavaScript
// the way ClickHouse's toDate/toMonday/toStartOfMonth(ts, tz) compute them, so a view can list
// every period of its range (with the empty ones) and bound its scan at the first one's start.

export const PERIODS = ["day", "week", "month"] as const;
export type Period = (typeof PERIODS)[number];

export const isPeriod = (v: string | null): v is Period => v !== null && (PERIODS as readonly string[]).includes(v);

interface Ymd {
  y: number;
  m: number;
  d: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formats.set(tz, f);
  }
  return f;
}

function wallClock(epochSec: number, tz: string): Ymd & { h: number; mi: number; s: number } {
  const out: Record<string, number> = {};
  for (const p of format(tz).formatToParts(new Date(epochSec * 1000))) if (p.type !== "literal") out[p.type] = Number(p.value);
  return { y: out.year ?? 1970, m: out.month ?? 1, d: out.day ?? 1, h: out.hour ?? 0, mi: out.minute ?? 0, s: out.second ?? 0 };
}

/** How far the zone's wall clock is ahead of UTC at that instant, seconds. */
function offsetAt(epochSec: number, tz: string): number {
  const w = wallClock(epochSec, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) / 1000 - epochSec;
}

/** The instant the zone's day y-m-d begins (its first wall-clock second, across DST changes). */
export function dayStart(day: Ymd, tz: string): number {
  const wall = Date.UTC(day.y, day.m - 1, day.d) / 1000;
  const first = wall - offsetAt(wall, tz);
  return wall - offsetAt(first, tz);
}

const fromUtcDate = (ms: number): Ymd => {
  const t = new Date(ms);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
};

/** The period holding the instant, as the first day of it. */
function periodOf(epochSec: number, period: Period, tz: string): Ymd {
  const w = wallClock(epochSec, tz);
  if (period === "month") return { y: w.y, m: w.m, d: 1 };
  if (period === "day") return { y: w.y, m: w.m, d: w.d };
  const weekday = new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay();
  return fromUtcDate(Date.UTC(w.y, w.m - 1, w.d - ((weekday + 6) % 7)));
}

function next(p: Ymd, period: Period): Ymd {
  if (period === "month") return fromUtcDate(Date.UTC(p.y, p.m, 1));
  return fromUtcDate(Date.UTC(p.y, p.m - 1, p.d + (period === "week" ? 7 : 1)));
}

/** `2026-03-02`, as ClickHouse writes a Date. */
export const isoDay = (p: Ymd): string => `${p.y}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;

export interface PeriodSpan {
  /** `2026-03-02`: the period's first day in the zone. */
  day: string;
  /** When it begins and ends (exclusive), epoch seconds. */
  from: number;
  to: number;
}

/**
 * The periods that overlap [from, to) in the zone, oldest first, at most `max` (the newest kept):
 * the first may begin before `from`, the last may not be over yet.
 */
export function periodsOf(range: { from: number; to: number }, period: Period, tz: string, max: number): PeriodSpan[] {
  const out: PeriodSpan[] = [];
  let p = periodOf(range.from, period, tz);
  let start = dayStart(p, tz);
  while (start < range.to) {
    const n = next(p, period);
    const end = dayStart(n, tz);
    out.push({ day: isoDay(p), from: start, to: end });
    p = n;
    start = end;
  }
  return out.slice(-max);
}
