// A subject access export: everything stored about one person in one app, as JSON. Events come
// in pages (keyset on time and message id); the first page also carries the person's linked ids,
// profile, merged traits and sessions. `exportStream` writes every page into one document.
import { linkedSubject, OWN_EVENTS, subjectParams, type AppRead, type Subject } from "./subject";

/** Events per page, at most. */
export const MAX_EXPORT_PAGE = 1000;
/** Sessions and identify calls read for one person, at most. */
const MAX_SESSIONS = 10_000;
const MAX_TRAIT_ROWS = 10_000;

/** One page of an export. `nextCursor` continues the events; null on the last page. */
export interface ExportPage {
  subject: Subject;
  /** False when the person has more linked ids than are followed (see MAX_LINKED_IDS). */
  linkedIdsComplete: boolean;
  profiles?: Array<Record<string, unknown>>;
  traits?: Record<string, unknown>;
  sessions?: Array<Record<string, unknown>>;
  events: Array<Record<string, unknown>>;
  nextCursor: string | null;
}

type Row = Record<string, unknown>;

const JSON_COLUMNS = ["properties", "traits", "context"] as const;

function parseObject(text: unknown): Record<string, unknown> {
  if (typeof text !== "string" || text === "") return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const encodeCursor = (timestamp: string, messageId: string): string => btoa(JSON.stringify([timestamp, messageId])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** The position a cursor names, or null when it is not one of ours. */
export function decodeCursor(cursor: string): { timestamp: string; messageId: string } | null {
  try {
    const v: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string" && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})?$/.test(v[0])) return { timestamp: v[0], messageId: v[1] };
  } catch {
    // Not base64 or not JSON: not a cursor.
  }
  return null;
}

async function eventsPage(read: AppRead, subject: Subject, after: { timestamp: string; messageId: string } | null, limit: number): Promise<{ events: Row[]; nextCursor: string | null }> {
  const rows = await read<Row>(
    `SELECT * EXCEPT (app_id, batch_id), toString(timestamp) AS timestamp_key
     FROM events
     WHERE app_id = {app:String} AND ${OWN_EVENTS}
       ${after ? "AND (timestamp, message_id) > (toDateTime64({ct:String}, 3, 'UTC'), {cm:String})" : ""}
     ORDER BY timestamp, message_id
     LIMIT {limit:UInt32}`,
    { ...subjectParams(subject), limit: limit + 1, ...(after ? { ct: after.timestamp, cm: after.messageId } : {}) },
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const events = page.map(({ timestamp_key: _key, ...row }) => {
    for (const c of JSON_COLUMNS) row[c] = parseObject(row[c]);
    return row;
  });
  const nextCursor = rows.length > limit && last ? encodeCursor(String(last.timestamp_key), String(last.message_id)) : null;
  return { events, nextCursor };
}

async function profilesOf(read: AppRead, subject: Subject): Promise<Row[]> {
  const rows = await read<Row>(
    `SELECT user_key, toString(min(first_seen)) AS first_seen, toString(max(last_seen)) AS last_seen, toUInt64(sum(events)) AS events, max(user_id) AS user_id,
            toUInt64(uniqMerge(sessions)) AS sessions, argMaxMerge(platform) AS platform, argMaxMerge(country) AS country
     FROM user_profiles
     WHERE app_id = {app:String} AND (user_key IN {u:Array(String)} OR user_key IN {a:Array(String)})
     GROUP BY user_key ORDER BY first_seen`,
    subjectParams(subject),
  );
  return rows.map((r) => ({ ...r, events: Number(r.events), sessions: Number(r.sessions) }));
}

/** The person's traits as their identify calls (and any event's traits) left them, later over earlier. */
async function traitsOf(read: AppRead, subject: Subject): Promise<Record<string, unknown>> {
  const rows = await read<{ traits: string }>(
    `SELECT traits FROM events WHERE app_id = {app:String} AND ${OWN_EVENTS} AND traits NOT IN ('', '{}') ORDER BY timestamp, message_id LIMIT {n:UInt32}`,
    { ...subjectParams(subject), n: MAX_TRAIT_ROWS },
  );
  return Object.assign({}, ...rows.map((r) => parseObject(r.traits))) as Record<string, unknown>;
}

async function sessionsOf(read: AppRead, subject: Subject): Promise<Row[]> {
  const rows = await read<Row>(
    `SELECT session_id, toString(min(started)) AS started, toString(max(ended)) AS ended, toUInt64(sum(events)) AS events, toUInt64(sum(views)) AS views,
            toUInt64(sum(actions)) AS actions, toUInt64(sum(crashes)) AS crashes, max(platform) AS platform, max(country) AS country,
            argMinMerge(entry) AS entry, argMaxMerge(exit) AS exit
     FROM sessions
     WHERE app_id = {app:String}
       AND (session_id IN (SELECT session_id FROM events WHERE app_id = {app:String} AND session_id != '' AND ${OWN_EVENTS}) OR ${OWN_EVENTS})
     GROUP BY session_id ORDER BY started LIMIT {n:UInt32}`,
    { ...subjectParams(subject), n: MAX_SESSIONS },
  );
  const counts = ["events", "views", "actions", "crashes"];
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, counts.includes(k) ? Number(v) : v])));
}

/**
 * One page of `asked`'s export, with every id linked to them. Without a cursor the page carries
 * the profile(s), traits and sessions too; `limit` events at most (up to MAX_EXPORT_PAGE).
 */
export async function exportPage(read: AppRead, asked: Subject, opts: { cursor?: string | null; limit?: number } = {}): Promise<ExportPage | { error: string }> {
  const after = opts.cursor ? decodeCursor(opts.cursor) : null;
  if (opts.cursor && !after) return { error: "cursor: not a cursor this API gave" };
  const limit = Math.min(Math.max(1, opts.limit ?? MAX_EXPORT_PAGE), MAX_EXPORT_PAGE);
  const { subject, complete } = await linkedSubject(read, asked);
  const [page, extra] = await Promise.all([
    eventsPage(read, subject, after, limit),
    after ? Promise.resolve(null) : Promise.all([profilesOf(read, subject), traitsOf(read, subject), sessionsOf(read, subject)]),
  ]);
  return {
    subject,
    linkedIdsComplete: complete,
    ...(extra ? { profiles: extra[0], traits: extra[1], sessions: extra[2] } : {}),
    events: page.events,
    nextCursor: page.nextCursor,
  };
}

/**
 * The whole export as one JSON document, written page by page so no page of events is held
 * longer than it takes to write it. A read that fails mid-way ends the stream with an error.
 */
export function exportStream(read: AppRead, asked: Subject, meta: { appId: string; exportedAt: string }): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const page = await exportPage(read, asked, { cursor });
        if ("error" in page) throw new Error(page.error);
        const events = page.events.map((e) => JSON.stringify(e)).join(",");
        if (!started) {
          started = true;
          const { events: _e, nextCursor: _n, ...head } = page;
          const opening = JSON.stringify({ app: meta.appId, exportedAt: meta.exportedAt, ...head }).slice(0, -1);
          controller.enqueue(encoder.encode(`${opening},"events":[${events}`));
        } else if (events !== "") {
          controller.enqueue(encoder.encode(`,${events}`));
        }
        cursor = page.nextCursor;
        if (cursor === null) {
          controller.enqueue(encoder.encode("]}\n"));
          controller.close();
        }
      } catch (err) {
        controller.error(err);
      }
    },
  });
}
