// Raw event reads for the explorer, the event detail and the CSV export. Filters come from the
// URL and reach ClickHouse only as query parameters; every read is scoped to one app.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { cursorOf, type Cursor } from "./cursor";
import { parseRange, type TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

export const PAGE_SIZE = 50;
/** Live tail polls fetch at most this many newer rows per poll. */
const TAIL_CAP = 200;
const OPEN_END = 4_294_967_295;

export interface EventFilters {
  range: TimeRange;
  type: string;
  event: string;
  /** Matches either the user id or the anonymous id. */
  user: string;
  /** `key:value`, both parts non-empty, else "". */
  prop: string;
}

export interface EventRow {
  /** Epoch milliseconds. */
  ts: number;
  messageId: string;
  type: string;
  event: string;
  userId: string;
  anonymousId: string;
  platform: string;
  country: string;
  path: string;
}

const param = (url: URL, name: string, max = 200): string => (url.searchParams.get(name) ?? "").trim().slice(0, max);

export function parseEventFilters(url: URL, now = Date.now()): EventFilters {
  const prop = param(url, "prop", 400);
  const colon = prop.indexOf(":");
  return {
    range: parseRange(url, now),
    type: param(url, "type"),
    event: param(url, "event"),
    user: param(url, "user"),
    prop: colon > 0 && colon < prop.length - 1 ? prop : "",
  };
}

/** The WHERE clause and its parameters for `f`; empty filters add nothing. */
function where(f: EventFilters, openEnd = false): { sql: string; params: Params } {
  const parts = [appRange("timestamp")];
  // The live tail has no end: its far bound is the last second a UInt32 holds (2106).
  const params: Params = rangeParams({ from: f.range.from, to: openEnd ? OPEN_END : f.range.to });
  if (f.type) {
    parts.push("type = {type:String}");
    params.type = f.type;
  }
  if (f.event) {
    parts.push("event = {event:String}");
    params.event = f.event;
  }
  if (f.user) {
    parts.push("(user_id = {user:String} OR anonymous_id = {user:String})");
    params.user = f.user;
  }
  if (f.prop) {
    const colon = f.prop.indexOf(":");
    parts.push("JSONExtractString(properties, {propKey:String}) = {propValue:String}");
    params.propKey = f.prop.slice(0, colon);
    params.propValue = f.prop.slice(colon + 1);
  }
  return { sql: parts.join(" AND "), params };
}

const ROW_COLUMNS = `toUnixTimestamp64Milli(timestamp) AS ts, message_id AS messageId, toString(type) AS type, toString(event) AS event,
  user_id AS userId, anonymous_id AS anonymousId, toString(platform) AS platform, toString(country) AS country, path`;
const AT = "fromUnixTimestamp64Milli({cursorTs:Int64}, 'UTC')";

const asRow = (r: EventRow): EventRow => ({ ...r, ts: Number(r.ts) });

export interface EventPage {
  rows: EventRow[];
  /** Cursor for the next (older) page, or null at the end. */
  next: string | null;
}

/** Rows of `columns` newest first after `before` (keyset on timestamp, message id), up to `limit`; `next` continues them. */
async function keysetPage<T>(cfg: DashboardEnv["clickhouse"], app: string, f: EventFilters, before: Cursor | null, limit: number, columns: string, cursor: (r: T) => Cursor): Promise<{ rows: T[]; next: Cursor | null }> {
  const w = where(f);
  const params: Params = { ...w.params, limit: limit + 1 };
  let keyset = "";
  if (before) {
    keyset = `AND (timestamp, message_id) < (${AT}, {cursorId:String})`;
    params.cursorTs = before.ts;
    params.cursorId = before.id;
  }
  const rows = await queryApp<T>(cfg, app, `SELECT ${columns} FROM events WHERE ${w.sql} ${keyset} ORDER BY timestamp DESC, message_id DESC LIMIT {limit:UInt32}`, params);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, next: rows.length > limit && last ? cursor(last) : null };
}

/** One page newest first, starting after `before`. */
export async function listEvents(cfg: DashboardEnv["clickhouse"], app: string, f: EventFilters, before: Cursor | null, limit = PAGE_SIZE): Promise<EventPage> {
  const page = await keysetPage<EventRow>(cfg, app, f, before, limit, ROW_COLUMNS, (r) => ({ ts: Number(r.ts), id: r.messageId }));
  return { rows: page.rows.map(asRow), next: page.next ? cursorOf({ ts: page.next.ts, messageId: page.next.id }) : null };
}

/** Events newer than `after` (the live tail), newest first. */
export async function eventsAfter(cfg: DashboardEnv["clickhouse"], app: string, f: EventFilters, after: Cursor): Promise<EventRow[]> {
  // A tail keeps going past the range's end, which was fixed when the page loaded.
  const w = where(f, true);
  const rows = await queryApp<EventRow>(
    cfg,
    app,
    `SELECT ${ROW_COLUMNS} FROM events WHERE ${w.sql} AND (timestamp, message_id) > (${AT}, {cursorId:String})
     ORDER BY timestamp DESC, message_id DESC LIMIT {limit:UInt32}`,
    { ...w.params, cursorTs: after.ts, cursorId: after.id, limit: TAIL_CAP },
  );
  return rows.map(asRow);
}

export type EventDetail = Record<string, string | number>;

/** Every column of one event of `app`, or null (also when the id belongs to another app). */
export async function getEvent(cfg: DashboardEnv["clickhouse"], app: string, messageId: string): Promise<EventDetail | null> {
  const rows = await queryApp<EventDetail>(
    cfg,
    app,
    "SELECT * FROM events WHERE app_id = {app:String} AND message_id = {id:String} ORDER BY timestamp DESC LIMIT 1",
    { id: messageId },
  );
  return rows[0] ?? null;
}

export const EXPORT_COLUMNS = ["timestamp", "type", "event", "message_id", "user_id", "anonymous_id", "session_id", "platform", "country", "path", "properties"] as const;
export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string>;

/** One page of matching events for the CSV, newest first, after `before`; `next` continues it. */
export function exportEvents(cfg: DashboardEnv["clickhouse"], app: string, f: EventFilters, before: Cursor | null, limit: number): Promise<{ rows: ExportRow[]; next: Cursor | null }> {
  // Every column is text in JSON already (DateTime64 as "2026-04-20 10:00:00.000"); an alias
  // would shadow the column the WHERE compares.
  const columns = `${EXPORT_COLUMNS.join(", ")}, toUnixTimestamp64Milli(timestamp) AS at`;
  return keysetPage<ExportRow & { at: number }>(cfg, app, f, before, limit, columns, (r) => ({ ts: Number(r.at), id: r.message_id }));
}
