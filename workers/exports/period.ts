// The periods a schedule exports and when a failed one is tried again: whole UTC hours or days,
// the latest one that has fully passed when the cron runs, and retries at later hourly cron runs.
import type { ExportFormat, ExportFrequency } from "../../schemas";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Attempts a period gets, the first included, before it fails for good and alerts. */
export const MAX_ATTEMPTS = 4;

/** A period: its first millisecond and the first millisecond after it (UTC). */
export interface Period {
  start: number;
  end: number;
}

const lengthOf = (frequency: ExportFrequency): number => (frequency === "hourly" ? HOUR : DAY);

/** The latest whole period before `now`: at 10:41 the hour from 09:00, or the day before today. */
export function latestPeriod(frequency: ExportFrequency, now: number): Period {
  const length = lengthOf(frequency);
  const end = Math.floor(now / length) * length;
  return { start: end - length, end };
}

/** The period starting at `start`, or null when `start` does not begin one. */
export function periodAt(frequency: ExportFrequency, start: number): Period | null {
  const length = lengthOf(frequency);
  return Number.isSafeInteger(start) && start % length === 0 ? { start, end: start + length } : null;
}

/** How the period is named in object keys: `2026-12-01T10` for an hour, `2026-12-01` for a day. */
export function periodLabel(frequency: ExportFrequency, start: number): string {
  const iso = new Date(start).toISOString();
  return frequency === "hourly" ? iso.slice(0, 13) : iso.slice(0, 10);
}

/** `exports/<app>/<schedule>/<period>.<csv|parquet>`, after the destination's prefix. */
export function objectKey(prefix: string, appId: string, scheduleId: string, frequency: ExportFrequency, start: number, format: ExportFormat): string {
  return `${prefix}exports/${appId}/${scheduleId}/${periodLabel(frequency, start)}.${format}`;
}

/**
 * When to try a period again after its `attempts`-th failure: 1, 2 then 4 hours later (a few
 * minutes early, so the hourly cron that far off finds it due); null once it has had MAX_ATTEMPTS.
 */
export function retryAt(attempts: number, now: number): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  return now + 2 ** Math.max(0, attempts - 1) * HOUR - 5 * 60_000;
}
