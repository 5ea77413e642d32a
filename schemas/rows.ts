import { z } from "zod";
import { EVENT_TYPES } from "./events";
import { TallyMessage } from "./pipeline";

/** ClickHouse `DateTime64(3, 'UTC')` as text: `"2026-11-22 10:00:00.123"`. */
const ChDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);

/**
 * One row of the ClickHouse `events` table, as the edge builds it and the queue consumer
 * inserts it. Dimensions dashboards filter on are typed columns; the rest of properties,
 * traits and context stays queryable as JSON text (`JSONExtractString(properties, 'plan')`).
 */
export const EventRow = z.object({
  // First, so the sink tells this encoding from earlier ones by its opening bytes (ROW_FORMAT).
  row_format: z.literal(2),
  app_id: z.string(),
  type: z.enum(EVENT_TYPES),
  event: z.string(),
  message_id: z.string(),
  user_id: z.string(),
  anonymous_id: z.string(),
  session_id: z.string(),
  timestamp: ChDateTime,
  original_timestamp: ChDateTime,
  sent_at: ChDateTime,
  received_at: ChDateTime,
  platform: z.string(),
  os_name: z.string(),
  os_version: z.string(),
  app_version: z.string(),
  app_build: z.string(),
  device_type: z.string(),
  device_model: z.string(),
  device_manufacturer: z.string(),
  browser: z.string(),
  browser_version: z.string(),
  library_name: z.string(),
  library_version: z.string(),
  locale: z.string(),
  timezone: z.string(),
  country: z.string(),
  region: z.string(),
  city: z.string(),
  ip: z.string(),
  path: z.string(),
  url: z.string(),
  referrer: z.string(),
  utm_source: z.string(),
  utm_medium: z.string(),
  utm_campaign: z.string(),
  crash_type: z.string(),
  crash_message: z.string(),
  crash_fingerprint: z.string(),
  crash_fatal: z.number().int().min(0).max(1),
  perf_metric: z.string(),
  perf_value: z.number(),
  perf_unit: z.string(),
  net_method: z.string(),
  net_host: z.string(),
  net_path: z.string(),
  net_status: z.number().int(),
  duration_ms: z.number(),
  // Sent as JSON objects and stored as their JSON text (input_format_json_read_objects_as_strings),
  // so the edge serializes them once instead of escaping them again inside the row.
  properties: z.record(z.string(), z.unknown()),
  traits: z.record(z.string(), z.unknown()),
  context: z.record(z.string(), z.unknown()),
  redactions: z.number().int().nonnegative(),
  // The page path or screen with ids collapsed (`/orders/:id`), and a network call's path so.
  path_template: z.string(),
  net_template: z.string(),
  net_outcome: z.string(),
  net_request_bytes: z.number().int().nonnegative(),
  net_response_bytes: z.number().int().nonnegative(),
  batch_id: z.string(),
});
/** One row of the ClickHouse `events` table. */
export type EventRow = z.infer<typeof EventRow>;

/** A Queue message from an AppBatcher to the ClickHouse sink: `{batchId, appId, rows}`. */
export const SinkMessage = z.object({
  batchId: z.string().min(1),
  appId: z.string().min(1),
  rows: z.array(z.string()),
  /**
   * Rows (by index) whose messageId the batcher could not rule out as stored before: the sink
   * looks them up in `event_ids` and drops those it finds (decision record 0021).
   */
  check: z.array(z.number().int().nonnegative()).optional(),
  /** The app's shard that sent it, told once the batch is stored; `eu` when the app's data stays in the EU. */
  shard: z.number().int().nonnegative().optional(),
  eu: z.literal(true).optional(),
  /**
   * The batch ids its rows carry, one per chunk the batcher stored them in (the first is
   * `batchId`); absent when the rows carry none and the sink gives them `batchId`.
   */
  chunks: z.array(z.string().min(1)).optional(),
  /** How many rows follow, so a sink can count them without unpacking them. */
  count: z.number().int().nonnegative().optional(),
});
/** A Queue message from an AppBatcher to the ClickHouse sink; each row is one JSON-encoded `EventRow`. */
export type SinkMessage = z.infer<typeof SinkMessage>;

/** Encodes a sink message as text: a JSON header line, then one JSON row per line. */
export function encodeSinkMessage(batchId: string, appId: string, rows: readonly string[], extra: SinkMessageExtra = {}): string {
  return `${sinkMessageHead(batchId, appId, extra)}\n${rows.join("\n")}`;
}

/** A sink message's header line, without its newline: what `encodeSinkMessage` writes before the rows. */
export function sinkMessageHead(batchId: string, appId: string, extra: SinkMessageExtra = {}): string {
  return JSON.stringify({
    batchId,
    appId,
    ...(extra.check && extra.check.length > 0 ? { check: extra.check } : {}),
    ...(extra.shard === undefined ? {} : { shard: extra.shard }),
    ...(extra.eu ? { eu: true } : {}),
    ...(extra.chunks ? { chunks: extra.chunks } : {}),
    ...(extra.count === undefined ? {} : { count: extra.count }),
  });
}

/** What a sink message's header may say besides its batch and app. */
export type SinkMessageExtra = Pick<SinkMessage, "check" | "shard" | "eu" | "chunks" | "count">;

// A message's header line, parsed, and the text after it.
function splitMessage(text: unknown): { head: Record<string, unknown>; body: string } | null {
  if (typeof text !== "string") return null;
  const cut = text.indexOf("\n");
  try {
    const head: unknown = JSON.parse(cut < 0 ? text : text.slice(0, cut));
    if (head === null || typeof head !== "object" || Array.isArray(head)) return null;
    return { head: head as Record<string, unknown>, body: cut < 0 ? "" : text.slice(cut + 1) };
  } catch {
    return null;
  }
}

const linesOf = (body: string): string[] => body.split("\n").filter((r) => r.length > 0);

// The header alone is checked: the rows are lines of text, which split gave, and a check per row was a sixth of the sink's time.
export const SinkMessageHead = SinkMessage.omit({ rows: true });
export type SinkMessageHead = z.infer<typeof SinkMessageHead>;

function sinkMessageOf(m: { head: Record<string, unknown>; body: string }): SinkMessage | null {
  if (m.head.kind !== undefined && m.head.kind !== "events") return null;
  const parsed = SinkMessageHead.safeParse(m.head);
  return parsed.success ? { ...parsed.data, rows: linesOf(m.body) } : null;
}

/** Decodes `encodeSinkMessage` output; `null` when the text is not a message of event rows. */
export function decodeSinkMessage(text: unknown): SinkMessage | null {
  const m = splitMessage(text);
  return m ? sinkMessageOf(m) : null;
}

/** Any message on the events queue: rows for `events` (`kind: "events"`) or per-minute counters (`kind: "tallies"`). */
export type QueueMessage = ({ kind: "events" } & SinkMessage) | TallyMessage;

/**
 * Decodes either kind of queue message: `decodeQueueMessage(encodeTallyMessage("a:0:t1", "a", []))?.kind === "tallies"`.
 * A header without `kind` is a message of event rows, as every earlier version wrote them.
 */
export function decodeQueueMessage(text: unknown): QueueMessage | null {
  const m = splitMessage(text);
  if (!m) return null;
  if (m.head.kind !== "tallies") {
    const sink = sinkMessageOf(m);
    return sink ? { kind: "events", ...sink } : null;
  }
  try {
    const parsed = TallyMessage.safeParse({ ...m.head, tallies: linesOf(m.body).map((l) => JSON.parse(l) as unknown) });
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The `events` columns a row fills, in the order `encodeEventRow` writes them; `batch_id` is last. */
export const EVENT_COLUMNS = Object.keys(EventRow.shape) as ReadonlyArray<keyof EventRow>;

/**
 * Serializes a row for ClickHouse's JSONCompactEachRow: its values as a JSON array in
 * `EVENT_COLUMNS` order. Without the 55 key names a row is about a quarter smaller, and both
 * the edge and ClickHouse spend far less time on it than on a JSON object.
 */
export function encodeEventRow(r: EventRow): string {
  // Written out rather than looped over EVENT_COLUMNS: fixed property reads are several times
  // cheaper than keyed ones on the hot path. A unit test holds the order to EVENT_COLUMNS.
  const values = [
    r.row_format, r.app_id, r.type, r.event, r.message_id, r.user_id, r.anonymous_id, r.session_id, r.timestamp,
    r.original_timestamp, r.sent_at, r.received_at, r.platform, r.os_name, r.os_version, r.app_version,
    r.app_build, r.device_type, r.device_model, r.device_manufacturer, r.browser, r.browser_version,
    r.library_name, r.library_version, r.locale, r.timezone, r.country, r.region, r.city, r.ip, r.path,
    r.url, r.referrer, r.utm_source, r.utm_medium, r.utm_campaign, r.crash_type, r.crash_message,
    r.crash_fingerprint, r.crash_fatal, r.perf_metric, r.perf_value, r.perf_unit, r.net_method, r.net_host,
    r.net_path, r.net_status, r.duration_ms, r.properties, r.traits, r.context, r.redactions, r.path_template,
    r.net_template, r.net_outcome, r.net_request_bytes, r.net_response_bytes, r.batch_id
  ];
  const text = JSON.stringify(values);
  // A lone UTF-16 surrogate ("\ud800" is valid JSON from any client) is written as a \udXXX
  // escape, which ClickHouse refuses for the whole insert (CANNOT_PARSE_ESCAPE_SEQUENCE): such
  // text is stored with U+FFFD instead, as a UTF-8 decoder would. Only rows with the escape pay.
  return text.includes("\\ud") ? JSON.stringify(values, wellFormed) : text;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every lone UTF-16 surrogate replaced by U+FFFD: `toWellFormed("a\ud800") === "a\ufffd"`. */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\ufffd");
}

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === "string" ? toWellFormed(value) : value;
}

/** The encoding `encodeEventRow` writes; its rows open with `[2,`. */
export const ROW_FORMAT = 2;
const CURRENT_ROW_PREFIX = `[${ROW_FORMAT},`;

// The columns of the first value-list encoding, which had no row_format: rows an AppBatcher
// buffered before an upgrade are still queued in it, and are mapped by name, never by position.
const ROW_FORMAT_1_COLUMNS = EVENT_COLUMNS.filter(
  (c) => !["row_format", "path_template", "net_template", "net_outcome", "net_request_bytes", "net_response_bytes"].includes(c),
);

/**
 * A queued row in the current compact form. Rows of earlier encodings (JSON objects, or value
 * lists without `row_format`) are put in column order by name; a column they lack becomes null,
 * which ClickHouse stores as its default. Current rows pass untouched, without parsing.
 */
export function toCompactRow(row: string): string {
  if (row.startsWith(CURRENT_ROW_PREFIX)) return row;
  try {
    const parsed: unknown = JSON.parse(row);
    let record: Record<string, unknown>;
    if (Array.isArray(parsed)) {
      if (parsed.length !== ROW_FORMAT_1_COLUMNS.length) return row;
      record = Object.fromEntries(ROW_FORMAT_1_COLUMNS.map((c, i) => [c, parsed[i]]));
    } else if (parsed !== null && typeof parsed === "object") {
      record = parsed as Record<string, unknown>;
    } else {
      return row;
    }
    return JSON.stringify(EVENT_COLUMNS.map((c) => record[c] ?? null));
  } catch {
    // Left as it is: ClickHouse refuses it and the batch goes to the dead-letter queue.
    return row;
  }
}

// An encoded row ends with the batch_id, left empty at the edge: the batch id is only known
// when the AppBatcher packs rows, so the sink fills it without parsing the row.
const EMPTY_BATCH_ID = ',""]';

const MESSAGE_ID_AT = EVENT_COLUMNS.indexOf("message_id");

/**
 * The `nth` value (from 1) of a current row read from `at`, when it and the values before it are
 * strings: the text is scanned to its quotes and only that value parsed. Undefined otherwise.
 */
function leadingString(row: string, at: number, nth: number): string | null | undefined {
  for (let value = 1; value <= nth; value++) {
    if (row.charCodeAt(at) !== 34) return undefined;
    // The closing quote: a backslash always escapes the character after it.
    let end = at + 1;
    while (end < row.length && row.charCodeAt(end) !== 34) end += row.charCodeAt(end) === 92 ? 2 : 1;
    if (end >= row.length) return undefined;
    if (value === nth) {
      try {
        const text: unknown = JSON.parse(row.slice(at, end + 1));
        return typeof text === "string" ? text : null;
      } catch {
        return null;
      }
    }
    at = end + 1;
    if (row.charCodeAt(at) !== 44) return undefined;
    at++;
  }
  return undefined;
}

/**
 * The messageId of a queued row in any encoding; null when the row is not one. The sink asks it
 * of every row a batcher marked for checking, up to a sixth of them: a current row is read up to
 * its message id (after three strings) instead of parsed whole.
 */
export function messageIdOfRow(row: string): string | null {
  if (row.startsWith(CURRENT_ROW_PREFIX)) {
    const id = leadingString(row, CURRENT_ROW_PREFIX.length, MESSAGE_ID_AT);
    if (id !== undefined) return id;
  }
  try {
    const values: unknown = JSON.parse(toCompactRow(row));
    const id = Array.isArray(values) ? values[MESSAGE_ID_AT] : undefined;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** Whether `row` is in the current compact form with no `batch_id` yet, as the edge writes every row. */
export function isCurrentRow(row: string): boolean {
  return row.startsWith(CURRENT_ROW_PREFIX) && row.endsWith(EMPTY_BATCH_ID);
}

/** Sets `batch_id` on a row from `encodeEventRow` or `toCompactRow` (whose last value it is). */
export function withBatchId(row: string, batchId: string): string {
  return row.endsWith(EMPTY_BATCH_ID) ? `${row.slice(0, -EMPTY_BATCH_ID.length)},${JSON.stringify(batchId)}]` : row;
}

/**
 * A batch's rows for the insert, one per line, in the current compact form with `batch_id` set:
 * `rowsWithBatchId(rows, id) === rows.map((r) => withBatchId(toCompactRow(r), id)).join("\n")`.
 * Current rows (nearly all) are joined and filled in one pass instead of a string per row: a
 * row is one line, since JSON escapes a newline inside a string.
 */
export function rowsWithBatchId(rows: readonly string[], batchId: string): string {
  const fill = `,${JSON.stringify(batchId)}]`;
  if (rows.length > 0 && rows.every(isCurrentRow)) {
    const text = rows.join("\n").replaceAll(`${EMPTY_BATCH_ID}\n`, `${fill}\n`);
    return `${text.slice(0, -EMPTY_BATCH_ID.length)}${fill}`;
  }
  return rows.map((r) => withBatchId(toCompactRow(r), batchId)).join("\n");
}
