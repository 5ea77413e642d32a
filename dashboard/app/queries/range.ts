// Time ranges as they appear in URLs (`?range=7d`), shared by loaders and the range picker.

export const RANGES = { "1h": 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400, "90d": 90 * 86_400 } as const;
export type RangeKey = keyof typeof RANGES;
export const DEFAULT_RANGE: RangeKey = "7d";
/** The longest custom range, days: the aggregates are kept a year. */
export const MAX_CUSTOM_DAYS = 366;

export interface TimeRange {
  /** A preset, or "custom" for calendar days chosen in the picker (`range=custom&from=…&to=…`). */
  key: RangeKey | "custom";
  /** Inclusive start and exclusive end, epoch seconds. */
  from: number;
  to: number;
  /** Bucket width for charts, seconds: minutes up to a day, hours up to a week, else days. */
  step: number;
  /** The first and last day of a custom range as picked, `2026-11-01`; absent for presets. */
  days?: { from: string; to: string };
}

const isRangeKey = (v: string | null): v is RangeKey => v !== null && Object.hasOwn(RANGES, v);

const stepFor = (seconds: number): number => (seconds <= 86_400 ? (seconds <= 3600 ? 60 : 3600) : seconds <= 7 * 86_400 ? 3600 : 86_400);

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Midnight UTC of a `2026-11-01` day, epoch seconds; null when it is not a real date. */
export function utcDay(day: string): number | null {
  const m = DAY_RE.exec(day);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === day ? ms / 1000 : null;
}

/**
 * The custom days the URL asks for (`range=custom&from=2026-11-01&to=2026-11-15`, both days
 * included), or why they cannot be used; null when the URL asks for no custom range.
 */
export function customDays(url: URL, now = Date.now()): { from: string; to: string } | { problem: string } | null {
  if (url.searchParams.get("range") !== "custom") return null;
  const from = (url.searchParams.get("from") ?? "").trim();
  const to = (url.searchParams.get("to") ?? "").trim();
  const start = utcDay(from);
  const end = utcDay(to);
  if (start === null || end === null) return { problem: "A custom range needs a first and a last day, as 2026-11-01." };
  if (end < start) return { problem: `The last day (${to}) is before the first (${from}).` };
  if ((end - start) / 86_400 + 1 > MAX_CUSTOM_DAYS) return { problem: `A custom range is at most ${MAX_CUSTOM_DAYS} days.` };
  if (start > now / 1000 + 86_400) return { problem: `The first day (${from}) is in the future.` };
  return { from, to };
}

/**
 * The range the URL asks for: a preset ending now (unknown values fall back to the default), or
 * custom days, midnight to midnight UTC (insights read them in their own time zone).
 */
export function parseRange(url: URL, now = Date.now()): TimeRange {
  const days = customDays(url, now);
  if (days && !("problem" in days)) {
    const from = utcDay(days.from) ?? 0;
    const to = (utcDay(days.to) ?? 0) + 86_400;
    return { key: "custom", from, to, step: stepFor(to - from), days };
  }
  const raw = url.searchParams.get("range");
  const key = isRangeKey(raw) ? raw : DEFAULT_RANGE;
  const seconds = RANGES[key];
  const step = stepFor(seconds);
  const to = Math.ceil(now / 1000 / step) * step;
  return { key, from: to - seconds, to, step };
}

/** `range` written into `q` (`range=7d`, or `range=custom&from=…&to=…`), replacing any range it held. */
export function writeRange(q: URLSearchParams, range: Pick<TimeRange, "key" | "days">): URLSearchParams {
  q.set("range", range.key);
  if (range.key === "custom" && range.days) {
    q.set("from", range.days.from);
    q.set("to", range.days.to);
  } else {
    q.delete("from");
    q.delete("to");
  }
  return q;
}

/** The query string of `range` alone, for links that carry it: `range=7d`. */
export const rangeSearch = (range: Pick<TimeRange, "key" | "days">): string => writeRange(new URLSearchParams(), range).toString();

/** `2026-04-20 10:00:00`: how a `DateTime` parameter is written. */
export function chTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The range over an hourly rollup's `hour` column, with the range's bounds as `{from:UInt32}` and
 * `{to:UInt32}` (epoch seconds): a range that starts within an hour counts that whole hour.
 */
export const HOUR_RANGE = "hour >= toStartOfHour(toDateTime({from:UInt32}, 'UTC')) AND hour < toDateTime({to:UInt32}, 'UTC')";

type Named = Pick<TimeRange, "key" | "days">;

/** How a range reads in a sentence: `in the last 7d`, `from 2026-11-01 to 2026-11-15`. */
export const rangeText = (r: Named): string => (r.key === "custom" && r.days ? `from ${r.days.from} to ${r.days.to}` : `in the last ${r.key}`);

/** A range's short name, for labels and file names: `7d`, `2026-11-01_2026-11-15`. */
export const rangeName = (r: Named): string => (r.key === "custom" && r.days ? `${r.days.from}_${r.days.to}` : r.key);
