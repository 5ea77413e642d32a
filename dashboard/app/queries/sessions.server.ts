// Sessions from the `sessions` summaries of 0005_sessions_users.sql: the list, the duration
// and events-per-session distributions, the bounce rate, and one session with its events.
// A session belongs to the range it started in. Rows of one session from different inserts
// are merged here with GROUP BY session_id, so a view is right before ClickHouse merges parts.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { SESSION_EVENTS_CAP } from "./caps";
import { dimsSql, parseDims, type Dims } from "./dims";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

export const SESSION_PAGE_SIZE = 50;

/**
 * A bounce: a session shorter than ten seconds with at most one page or screen view and no
 * tracked action, i.e. someone who arrived and left without doing anything.
 */
const BOUNCE = "(views <= 1 AND actions = 0 AND duration_ms < 10000)";

export interface SessionFilters {
  dims: Dims;
  /** Only bounced sessions. */
  bounced: boolean;
}

export function parseSessionFilters(url: URL): SessionFilters {
  return { dims: parseDims(url), bounced: url.searchParams.get("bounced") === "1" };
}

export interface SessionRow {
  id: string;
  /** Epoch milliseconds. */
  startedMs: number;
  durationMs: number;
  events: number;
  views: number;
  actions: number;
  crashes: number;
  userId: string;
  anonymousId: string;
  platform: string;
  country: string;
  entry: string;
  exit: string;
  bounced: number;
}

/** Histogram buckets: label and the lower bound of the bucket (the next bound is its top). */
export const DURATION_BUCKETS = [
  { label: "<10s", min: 0 },
  { label: "10–30s", min: 10_000 },
  { label: "30s–1m", min: 30_000 },
  { label: "1–3m", min: 60_000 },
  { label: "3–10m", min: 180_000 },
  { label: "10–30m", min: 600_000 },
  { label: "30m–1h", min: 1_800_000 },
  { label: "≥1h", min: 3_600_000 },
] as const;

export const EVENT_BUCKETS = [
  { label: "1", min: 1 },
  { label: "2–3", min: 2 },
  { label: "4–7", min: 4 },
  { label: "8–15", min: 8 },
  { label: "16–31", min: 16 },
  { label: "32–63", min: 32 },
  { label: "≥64", min: 64 },
] as const;

export interface Bucket {
  label: string;
  n: number;
}

export interface SessionStats {
  sessions: number;
  bounced: number;
  /** bounced / sessions, 0 when there are none. */
  bounceRate: number;
  medianDurationMs: number;
  avgDurationMs: number;
  avgEvents: number;
  durations: Bucket[];
  eventsPerSession: Bucket[];
  /** Sessions and bounced sessions per chart bucket (range.step seconds). */
  series: Array<{ t: number; sessions: number; bounced: number }>;
}

/**
 * The days whose summary rows a range needs: its own, and the day before for sessions that
 * crossed midnight into it. A session is taken to last under a day (the SDK ends one after 30
 * idle minutes); an older part of a longer one is not read.
 */
const DAYS = appRange("session_day");

/**
 * Every session of `app` that started in the range, one row each, with the filters applied:
 * the cheap columns only. Entry and exit pages are merged for the page of rows shown.
 */
function sessionsSql(range: TimeRange, f: SessionFilters): { sql: string; params: Params } {
  const d = dimsSql(f.dims);
  const sql = `SELECT * FROM (
      SELECT session_id AS id, min(started) AS start, max(ended) AS end, dateDiff('millisecond', start, end) AS duration_ms,
             sum(events) AS events, sum(views) AS views, sum(actions) AS actions, toString(max(platform)) AS platform, toString(max(country)) AS country
      FROM sessions WHERE ${DAYS}
      GROUP BY session_id
      HAVING start >= toDateTime64({from:UInt32}, 3, 'UTC') AND start < toDateTime64({to:UInt32}, 3, 'UTC')${d.sql}
    )${f.bounced ? ` WHERE ${BOUNCE}` : ""}`;
  return { sql, params: { ...rangeParams(range), ...d.params } };
}

/** Whole rows for the given sessions (a page of the list, or one session). */
async function sessionRows(cfg: DashboardEnv["clickhouse"], app: string, days: string, ids: readonly string[], params: Params): Promise<SessionRow[]> {
  if (ids.length === 0) return [];
  const rows = await queryApp<SessionRow>(
    cfg,
    app,
    `SELECT id, toUnixTimestamp64Milli(start) AS startedMs, duration_ms AS durationMs, events, views, actions, crashes,
            user_id AS userId, anonymous_id AS anonymousId, platform, country, entry, exit, ${BOUNCE} AS bounced
     FROM (
       SELECT session_id AS id, min(started) AS start, max(ended) AS end, dateDiff('millisecond', start, end) AS duration_ms,
              sum(events) AS events, sum(views) AS views, sum(actions) AS actions, sum(crashes) AS crashes,
              max(user_id) AS user_id, max(anonymous_id) AS anonymous_id, toString(max(platform)) AS platform, toString(max(country)) AS country,
              argMinMerge(entry) AS entry, argMaxMerge(exit) AS exit
       FROM sessions WHERE ${days} AND session_id IN {ids:Array(String)} GROUP BY session_id)`,
    { ...params, ids },
  );
  return rows.map(asSession);
}

const asSession = (r: SessionRow): SessionRow => ({
  ...r,
  startedMs: Number(r.startedMs),
  durationMs: Number(r.durationMs),
  events: Number(r.events),
  views: Number(r.views),
  actions: Number(r.actions),
  crashes: Number(r.crashes),
  bounced: Number(r.bounced),
});

/** Position in the newest-first list: `<start epoch ms>_<session id>`. */
export interface SessionCursor {
  ts: number;
  id: string;
}

export const sessionCursor = (r: SessionRow): string => `${r.startedMs}_${r.id}`;

export interface SessionPage {
  rows: SessionRow[];
  next: string | null;
}

/** Ids of the sessions in the range, newest first, after `before`, up to `limit`. */
async function sessionIds(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: SessionFilters, before: SessionCursor | null, limit: number): Promise<string[]> {
  const s = sessionsSql(range, f);
  const params: Params = { ...s.params, limit };
  let keyset = "";
  if (before) {
    keyset = "WHERE (start, id) < (fromUnixTimestamp64Milli({cursorTs:Int64}, 'UTC'), {cursorId:String})";
    params.cursorTs = before.ts;
    params.cursorId = before.id;
  }
  const rows = await queryApp<{ id: string }>(cfg, app, `SELECT id FROM (${s.sql}) ${keyset} ORDER BY start DESC, id DESC LIMIT {limit:UInt32}`, params);
  return rows.map((r) => r.id);
}

const newestFirst = (a: SessionRow, b: SessionRow): number => b.startedMs - a.startedMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** One page of sessions, newest first, after `before` (keyset on start, id). */
export async function listSessions(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: SessionFilters, before: SessionCursor | null, limit = SESSION_PAGE_SIZE): Promise<SessionPage> {
  const ids = await sessionIds(cfg, app, range, f, before, limit + 1);
  const page = ids.slice(0, limit);
  const rows = (await sessionRows(cfg, app, DAYS, page, rangeParams(range))).sort(newestFirst);
  const last = rows.at(-1);
  return { rows, next: ids.length > limit && last ? sessionCursor(last) : null };
}

/** One page of sessions for the CSV, newest first, after `before`; `next` continues it. */
export async function exportSessions(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: SessionFilters, before: SessionCursor | null, limit: number): Promise<{ rows: SessionRow[]; next: SessionCursor | null }> {
  const ids = await sessionIds(cfg, app, range, f, before, limit + 1);
  const rows = (await sessionRows(cfg, app, DAYS, ids.slice(0, limit), rangeParams(range))).sort(newestFirst);
  const last = rows.at(-1);
  return { rows, next: ids.length > limit && last ? { ts: last.startedMs, id: last.id } : null };
}

function bucketColumns(column: string, buckets: ReadonlyArray<{ min: number }>, prefix: string): string {
  return buckets
    .map((b, i) => {
      const next = buckets[i + 1];
      const cond = next ? `${column} >= ${b.min} AND ${column} < ${next.min}` : `${column} >= ${b.min}`;
      return `countIf(${cond}) AS ${prefix}${i}`;
    })
    .join(", ");
}

type StatsRow = Record<string, number | string> & { series: [number[], number[], number[]] };

/** Totals, bounce rate, distributions and the sessions-over-time series, in one pass. */
export async function sessionStats(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: SessionFilters): Promise<SessionStats> {
  const s = sessionsSql(range, f);
  const rows = await queryApp<StatsRow>(
    cfg,
    app,
    `SELECT count() AS sessions, countIf(${BOUNCE}) AS bounced, quantileExact(0.5)(duration_ms) AS median_ms, avg(duration_ms) AS avg_ms, avg(events) AS avg_events,
            ${bucketColumns("duration_ms", DURATION_BUCKETS, "d")}, ${bucketColumns("events", EVENT_BUCKETS, "e")},
            sumMap([toUInt32(toUnixTimestamp(toStartOfInterval(start, toIntervalSecond({step:UInt32}))))], [toUInt64(1)], [toUInt64(${BOUNCE})]) AS series
     FROM (${s.sql})`,
    { ...s.params, step: range.step },
  );
  const t = rows[0];
  const num = (k: string): number => {
    const v = Number(t?.[k] ?? 0);
    return Number.isFinite(v) ? v : 0;
  };
  const sessions = num("sessions");
  const bounced = num("bounced");
  const [ts, counts, bounces] = t?.series ?? [[], [], []];
  return {
    sessions,
    bounced,
    bounceRate: sessions > 0 ? bounced / sessions : 0,
    medianDurationMs: sessions > 0 ? num("median_ms") : 0,
    avgDurationMs: sessions > 0 ? num("avg_ms") : 0,
    avgEvents: sessions > 0 ? num("avg_events") : 0,
    durations: DURATION_BUCKETS.map((b, i) => ({ label: b.label, n: num(`d${i}`) })),
    eventsPerSession: EVENT_BUCKETS.map((b, i) => ({ label: b.label, n: num(`e${i}`) })),
    series: ts.map((time, i) => ({ t: Number(time), sessions: Number(counts[i] ?? 0), bounced: Number(bounces[i] ?? 0) })),
  };
}

export interface TimelineEvent {
  ts: number;
  messageId: string;
  type: string;
  event: string;
  path: string;
  sessionId: string;
  platform: string;
  country: string;
  /** Crash message, perf metric or network request, when the type has one. */
  detail: string;
}

/** What a timeline shows of an event, shared by the session page and the user journey. */
export const TIMELINE_COLUMNS = `toUnixTimestamp64Milli(timestamp) AS ts, message_id AS messageId, toString(type) AS type, toString(event) AS event, path,
  session_id AS sessionId, toString(platform) AS platform, toString(country) AS country,
  multiIf(type = 'crash', concat(toString(crash_type), ': ', crash_message),
          type = 'perf', concat(toString(perf_metric), ' ', toString(round(perf_value, 1)), ' ', toString(perf_unit)),
          type = 'network', concat(toString(net_method), ' ', toString(net_host), net_path, ' → ', toString(net_status), ' in ', toString(round(duration_ms)), ' ms'),
          '') AS detail`;

export const asTimeline = (r: TimelineEvent): TimelineEvent => ({ ...r, ts: Number(r.ts) });

export interface SessionDetail {
  session: SessionRow;
  events: TimelineEvent[];
  /** More events than SESSION_EVENTS_CAP. */
  truncated: boolean;
}

/** One session of `app` with its events in order, or null when the app has no such session. */
export async function getSession(cfg: DashboardEnv["clickhouse"], app: string, id: string): Promise<SessionDetail | null> {
  const found = await sessionRows(cfg, app, "app_id = {app:String}", [id], {});
  const first = found[0];
  if (!first) return null;
  const session = asSession(first);
  // The summary's start and end bound the scan to the days the session touched.
  const events = await queryApp<TimelineEvent>(
    cfg,
    app,
    `SELECT ${TIMELINE_COLUMNS} FROM events
     WHERE app_id = {app:String} AND session_id = {id:String}
       AND timestamp >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND timestamp <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')
     ORDER BY timestamp, message_id LIMIT {limit:UInt32}`,
    { id, start: session.startedMs, end: session.startedMs + session.durationMs, limit: SESSION_EVENTS_CAP + 1 },
  );
  return { session, events: events.slice(0, SESSION_EVENTS_CAP).map(asTimeline), truncated: events.length > SESSION_EVENTS_CAP };
}
