// Sessions from the `sessions` summaries of 0005_sessions_users.sql: the list, the duration
// and events-per-session distributions, the bounce rate, and one session with its events.
// A session belongs to the range it started in. Rows of one session from different inserts
// are merged here with GROUP BY session_id, so a view is right before ClickHouse merges parts.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { SESSION_EVENTS_CAP } from "./caps";
import { dimsSql, parseDims, type Dims } from "./dims";
import type { TimeRange } from "./range";

export const SESSION_PAGE_SIZE = 50;
export const SESSION_EXPORT_CAP = 10_000;

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
  { label: "< 10 s", min: 0 },
  { label: "10–30 s", min: 10_000 },
  { label: "30 s–1 min", min: 30_000 },
  { label: "1–3 min", min: 60_000 },
  { label: "3–10 min", min: 180_000 },
  { label: "10–30 min", min: 600_000 },
  { label: "30 min–1 h", min: 1_800_000 },
  { label: "≥ 1 h", min: 3_600_000 },
] as const;

export const EVENT_BUCKETS = [
  { label: "1", min: 1 },
  { label: "2–3", min: 2 },
  { label: "4–7", min: 4 },
  { label: "8–15", min: 8 },
  { label: "16–31", min: 16 },
  { label: "32–63", min: 32 },
  { label: "≥ 64", min: 64 },
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

/** Every session of `app` that started in the range, one row each, with the filters applied. */
function sessionsSql(range: TimeRange, f: SessionFilters): { sql: string; params: Params } {
  const d = dimsSql(f.dims);
  const sql = `SELECT * FROM (SELECT session_id AS id, min(started) AS start, max(ended) AS end, dateDiff('millisecond', start, end) AS duration_ms,
             sum(events) AS events, sum(views) AS views, sum(actions) AS actions, sum(crashes) AS crashes,
             max(user_id) AS user_id, max(anonymous_id) AS anonymous_id, toString(max(platform)) AS platform, toString(max(country)) AS country,
             argMinMerge(entry) AS entry, argMaxMerge(exit) AS exit
      FROM sessions WHERE app_id = {app:String}
      GROUP BY session_id
      HAVING start >= toDateTime64({from:UInt32}, 3, 'UTC') AND start < toDateTime64({to:UInt32}, 3, 'UTC')${d.sql}
    )${f.bounced ? ` WHERE ${BOUNCE}` : ""}`;
  return { sql, params: { from: range.from, to: range.to, ...d.params } };
}

const ROW = `id, toUnixTimestamp64Milli(start) AS startedMs, duration_ms AS durationMs, events, views, actions, crashes,
  user_id AS userId, anonymous_id AS anonymousId, platform, country, entry, exit, ${BOUNCE} AS bounced`;

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

/** One page of sessions, newest first, after `before` (keyset on start, id). */
export async function listSessions(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  range: TimeRange,
  f: SessionFilters,
  before: SessionCursor | null,
  limit = SESSION_PAGE_SIZE,
): Promise<SessionPage> {
  const s = sessionsSql(range, f);
  const params: Params = { ...s.params, limit: limit + 1 };
  let keyset = "";
  if (before) {
    keyset = "WHERE (start, id) < (fromUnixTimestamp64Milli({cursorTs:Int64}, 'UTC'), {cursorId:String})";
    params.cursorTs = before.ts;
    params.cursorId = before.id;
  }
  const rows = (await queryApp<SessionRow>(cfg, app, `SELECT ${ROW} FROM (${s.sql}) ${keyset} ORDER BY start DESC, id DESC LIMIT {limit:UInt32}`, params)).map(asSession);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, next: rows.length > limit && last ? sessionCursor(last) : null };
}

/** Up to SESSION_EXPORT_CAP sessions for the CSV, newest first. */
export async function exportSessions(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: SessionFilters): Promise<SessionRow[]> {
  const s = sessionsSql(range, f);
  const rows = await queryApp<SessionRow>(cfg, app, `SELECT ${ROW} FROM (${s.sql}) ORDER BY start DESC, id DESC LIMIT {limit:UInt32}`, { ...s.params, limit: SESSION_EXPORT_CAP });
  return rows.map(asSession);
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

/** Totals, bounce rate, distributions and the sessions-over-time series, in two reads. */
export async function sessionStats(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: SessionFilters): Promise<SessionStats> {
  const s = sessionsSql(range, f);
  const [totals, series] = await Promise.all([
    queryApp<Record<string, number>>(
      cfg,
      app,
      `SELECT count() AS sessions, countIf(${BOUNCE}) AS bounced, quantileExact(0.5)(duration_ms) AS median_ms, avg(duration_ms) AS avg_ms, avg(events) AS avg_events,
              ${bucketColumns("duration_ms", DURATION_BUCKETS, "d")}, ${bucketColumns("events", EVENT_BUCKETS, "e")}
       FROM (${s.sql})`,
      s.params,
    ),
    queryApp<{ t: number; sessions: number; bounced: number }>(
      cfg,
      app,
      `SELECT toUnixTimestamp(toStartOfInterval(start, toIntervalSecond({step:UInt32}))) AS t, count() AS sessions, countIf(${BOUNCE}) AS bounced
       FROM (${s.sql}) GROUP BY t ORDER BY t`,
      { ...s.params, step: range.step },
    ),
  ]);
  const t = totals[0] ?? {};
  const num = (k: string): number => {
    const v = Number(t[k] ?? 0);
    return Number.isFinite(v) ? v : 0;
  };
  const sessions = num("sessions");
  const bounced = num("bounced");
  return {
    sessions,
    bounced,
    bounceRate: sessions > 0 ? bounced / sessions : 0,
    medianDurationMs: sessions > 0 ? num("median_ms") : 0,
    avgDurationMs: sessions > 0 ? num("avg_ms") : 0,
    avgEvents: sessions > 0 ? num("avg_events") : 0,
    durations: DURATION_BUCKETS.map((b, i) => ({ label: b.label, n: num(`d${i}`) })),
    eventsPerSession: EVENT_BUCKETS.map((b, i) => ({ label: b.label, n: num(`e${i}`) })),
    series: series.map((r) => ({ t: Number(r.t), sessions: Number(r.sessions), bounced: Number(r.bounced) })),
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
  const found = await queryApp<SessionRow>(
    cfg,
    app,
    `SELECT ${ROW} FROM (SELECT session_id AS id, min(started) AS start, max(ended) AS end, dateDiff('millisecond', start, end) AS duration_ms,
              sum(events) AS events, sum(views) AS views, sum(actions) AS actions, sum(crashes) AS crashes,
              max(user_id) AS user_id, max(anonymous_id) AS anonymous_id, toString(max(platform)) AS platform, toString(max(country)) AS country,
              argMinMerge(entry) AS entry, argMaxMerge(exit) AS exit
       FROM sessions WHERE app_id = {app:String} AND session_id = {id:String} GROUP BY session_id)`,
    { id },
  );
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
