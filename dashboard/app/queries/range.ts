// Time ranges as they appear in URLs (`?range=7d`), shared by loaders and the range picker.

export const RANGES = { "1h": 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400, "90d": 90 * 86_400 } as const;
export type RangeKey = keyof typeof RANGES;
export const DEFAULT_RANGE: RangeKey = "7d";

export interface TimeRange {
  key: RangeKey;
  /** Inclusive start and exclusive end, epoch seconds. */
  from: number;
  to: number;
  /** Bucket width for charts, seconds: minutes up to a day, hours up to a week, else days. */
  step: number;
}

const isRangeKey = (v: string | null): v is RangeKey => v !== null && Object.hasOwn(RANGES, v);

/** The range the URL asks for, ending now; unknown values fall back to the default. */
export function parseRange(url: URL, now = Date.now()): TimeRange {
  const raw = url.searchParams.get("range");
  const key = isRangeKey(raw) ? raw : DEFAULT_RANGE;
  const seconds = RANGES[key];
  const step = seconds <= 86_400 ? (seconds <= 3600 ? 60 : 3600) : seconds <= 7 * 86_400 ? 3600 : 86_400;
  const to = Math.ceil(now / 1000 / step) * step;
  return { key, from: to - seconds, to, step };
}

/** `2026-04-20 10:00:00`: how a `DateTime` parameter is written. */
export function chTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The range over an hourly rollup's `hour` column, with the range's bounds as `{from:UInt32}` and
 * `{to:UInt32}` (epoch seconds): a range that starts within an hour counts that whole hour.
 */
export const HOUR_RANGE = "hour >= toStartOfHour(toDateTime({from:UInt32}, 'UTC')) AND hour < toDateTime({to:UInt32}, 'UTC')";
