// Operational logs: one line of JSON per call, so Workers Logs can filter and group by its
// fields (`event`, `app`, `shard`, counts, `ms`) and `wrangler tail` or a test reads one line per
// entry. Field names are fixed across the Worker and the batchers (docs/decisions/0029).

/** A value a log field may hold: flat values, or a small map of counts (`{inserted: 12}`). */
export type LogValue = string | number | boolean | null | undefined | readonly string[] | Readonly<Record<string, number>>;

/** A log line's fields beside `level` and `event`, e.g. `{app: "app_1", shard: 0, events: 120, ms: 14}`. */
export type LogFields = Readonly<Record<string, LogValue>>;

export type LogLevel = "info" | "warn" | "error";

/** The text of one log line: `{"level":"info","event":"sink.batch","app":…}`; fields left undefined are left out. */
export function logLine(level: LogLevel, event: string, fields: LogFields = {}): string {
  return JSON.stringify({ level, event, ...fields });
}

/**
 * An error as a log field: its message (a ClickHouse error's is already its code and text),
 * never its stack, which would make one event span many lines.
 */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/**
 * `log.info("batcher.flush", {app, shard, events, ms})`: info lines go to console.log, warnings
 * and errors to console.warn and console.error, which Workers Logs files under their level.
 */
export const log = {
  info: (event: string, fields?: LogFields): void => console.log(logLine("info", event, fields)),
  warn: (event: string, fields?: LogFields): void => console.warn(logLine("warn", event, fields)),
  error: (event: string, fields?: LogFields): void => console.error(logLine("error", event, fields)),
};
