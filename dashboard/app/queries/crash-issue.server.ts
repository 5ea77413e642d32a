// One crash issue: its summary and occurrences from the `crash_issues_hourly` rollup, and its
// tags, events, affected users and breadcrumbs from the raw crashes (90 days; the bloom index
// on `crash_fingerprint` lets a rare issue skip the rest). Every read is scoped to the app.
import type { DashboardEnv } from "../env.server";
import { crashDetailOf, type CrashDetail, type TagName } from "./crash-detail";
import { queryApp, type Params } from "./clickhouse.server";
import type { TimeRange } from "./range";
import { appRange, inRange, rangeParams } from "./scope";
import { asTimeline, TIMELINE_COLUMNS, type TimelineEvent } from "./sessions.server";

/** Breadcrumbs: at most this many of the session's events before the crash… */
export const BREADCRUMB_CAP = 30;
/** …within this long before it. */
const BREADCRUMB_WINDOW_MS = 3600_000;
const TAG_VALUES = 10;
const USERS_SHOWN = 20;

export interface IssueSummary {
  fingerprint: string;
  type: string;
  message: string;
  culprit: string;
  /** All time (the rollup's 365 days). */
  firstSeenMs: number;
  lastSeenMs: number;
  totalEvents: number;
  /** The release the issue was first seen in. */
  firstRelease: string;
  /** In the range. */
  events: number;
  users: number;
  fatal: number;
  firstInRangeMs: number | null;
  lastInRangeMs: number | null;
}

const RAW = `${appRange("timestamp")} AND type = 'crash' AND crash_fingerprint = {fp:String}`;

/** The issue, or null when the app has no crash with this fingerprint. */
export async function getIssue(cfg: DashboardEnv["clickhouse"], app: string, fp: string, range: TimeRange): Promise<IssueSummary | null> {
  const rows = await queryApp<{
    latest: [string, string, string];
    firstSeenMs: number;
    lastSeenMs: number;
    totalEvents: number;
    firstRelease: string;
    rangeEvents: number;
    rangeUsers: number;
    rangeFatal: number;
    firstInRangeMs: number;
    lastInRangeMs: number;
  }>(
    cfg,
    app,
    `SELECT argMaxMerge(latest) AS latest, toUnixTimestamp64Milli(min(first_seen)) AS firstSeenMs, toUnixTimestamp64Milli(max(last_seen)) AS lastSeenMs,
            sum(events) AS totalEvents, toString(argMin(app_version, first_seen)) AS firstRelease,
            sumIf(events, ${inRange("hour")}) AS rangeEvents, toUInt64(uniqMergeIf(users, ${inRange("hour")})) AS rangeUsers, sumIf(fatal, ${inRange("hour")}) AS rangeFatal,
            toUnixTimestamp64Milli(minIf(first_seen, ${inRange("hour")})) AS firstInRangeMs, toUnixTimestamp64Milli(maxIf(last_seen, ${inRange("hour")})) AS lastInRangeMs
     FROM crash_issues_hourly WHERE app_id = {app:String} AND fingerprint = {fp:String} GROUP BY fingerprint`,
    { fp, ...rangeParams(range) },
  );
  const r = rows[0];
  if (!r) return null;
  const events = Number(r.rangeEvents);
  return {
    fingerprint: fp,
    type: r.latest[0],
    message: r.latest[1],
    culprit: r.latest[2],
    firstSeenMs: Number(r.firstSeenMs),
    lastSeenMs: Number(r.lastSeenMs),
    totalEvents: Number(r.totalEvents),
    firstRelease: r.firstRelease,
    events,
    users: Number(r.rangeUsers),
    fatal: Number(r.rangeFatal),
    firstInRangeMs: events > 0 ? Number(r.firstInRangeMs) : null,
    lastInRangeMs: events > 0 ? Number(r.lastInRangeMs) : null,
  };
}

/** Crashes per chart bucket of the range; below an hour from the raw crashes, else the rollup. */
export async function occurrences(cfg: DashboardEnv["clickhouse"], app: string, fp: string, range: TimeRange): Promise<Array<{ t: number; n: number }>> {
  const params: Params = { fp, ...rangeParams(range), step: range.step };
  const sql =
    range.step < 3600
      ? `SELECT intDiv(toUnixTimestamp(timestamp), {step:UInt32}) * {step:UInt32} AS t, count() AS n FROM events WHERE ${RAW} GROUP BY t ORDER BY t`
      : `SELECT intDiv(toUnixTimestamp(hour), {step:UInt32}) * {step:UInt32} AS t, sum(events) AS n FROM crash_issues_hourly
         WHERE ${appRange("hour")} AND fingerprint = {fp:String} GROUP BY t ORDER BY t`;
  const rows = await queryApp<{ t: number; n: number }>(cfg, app, sql, params);
  return rows.map((r) => ({ t: Number(r.t), n: Number(r.n) }));
}

export interface TagValue {
  value: string;
  n: number;
  /** Of the issue's crashes in the range, 0–1. */
  share: number;
}

/** The most common values of each tag among the issue's crashes in the range, with their share. */
export async function tagBreakdown(cfg: DashboardEnv["clickhouse"], app: string, fp: string, range: TimeRange): Promise<Record<TagName, TagValue[]>> {
  const rows = await queryApp<{ tag: TagName; value: string; n: number; total: number }>(
    cfg,
    app,
    `SELECT tag, value, n, total FROM (
       SELECT kv.1 AS tag, kv.2 AS value, count() AS n, sum(n) OVER (PARTITION BY tag) AS total
       FROM events
       ARRAY JOIN [('release', toString(app_version)), ('os', trim(concat(toString(os_name), ' ', toString(os_version)))), ('device', toString(device_model)),
                   ('browser', trim(concat(toString(browser), ' ', toString(browser_version)))), ('country', toString(country))] AS kv
       WHERE ${RAW}
       GROUP BY tag, value
     ) WHERE value != '' ORDER BY tag, n DESC, value LIMIT {limit:UInt32} BY tag`,
    { fp, ...rangeParams(range), limit: TAG_VALUES },
  );
  const out: Record<TagName, TagValue[]> = { release: [], os: [], device: [], browser: [], country: [] };
  for (const r of rows) {
    if (!Object.hasOwn(out, r.tag)) continue;
    const total = Number(r.total);
    out[r.tag].push({ value: r.value, n: Number(r.n), share: total > 0 ? Number(r.n) / total : 0 });
  }
  return out;
}

export interface CrashEvent {
  messageId: string;
  ts: number;
  type: string;
  message: string;
  fatal: boolean;
  release: string;
  platform: string;
  os: string;
  device: string;
  browser: string;
  country: string;
  userId: string;
  anonymousId: string;
  sessionId: string;
  detail: CrashDetail;
}

const EVENT_COLUMNS = `message_id AS messageId, toUnixTimestamp64Milli(timestamp) AS ts, toString(crash_type) AS crashType, crash_message AS message, crash_fatal AS fatal,
  toString(app_version) AS release, toString(platform) AS platform, trim(concat(toString(os_name), ' ', toString(os_version))) AS os, toString(device_model) AS device,
  trim(concat(toString(browser), ' ', toString(browser_version))) AS browser, toString(country) AS country, user_id AS userId, anonymous_id AS anonymousId,
  session_id AS sessionId, properties`;

/** The issue's crash at exactly `ms` (the rollup's first or last seen), if the raw events still hold it. */
async function crashAt(cfg: DashboardEnv["clickhouse"], app: string, fp: string, ms: number, newest: boolean): Promise<CrashEvent | null> {
  // `crashType`, not `type`: an alias named like a column would stand for it in the WHERE clause.
  const rows = await queryApp<Omit<CrashEvent, "detail" | "fatal" | "type"> & { crashType: string; fatal: number; properties: string }>(
    cfg,
    app,
    `SELECT ${EVENT_COLUMNS} FROM events
     WHERE app_id = {app:String} AND type = 'crash' AND crash_fingerprint = {fp:String} AND timestamp = fromUnixTimestamp64Milli({ms:Int64}, 'UTC')
     ORDER BY message_id ${newest ? "DESC" : "ASC"} LIMIT 1`,
    { fp, ms },
  );
  const r = rows[0];
  if (!r) return null;
  const { properties, crashType, ...rest } = r;
  return { ...rest, type: crashType, ts: Number(r.ts), fatal: Number(r.fatal) === 1, detail: crashDetailOf(properties) };
}

/**
 * The latest crash of the range, and the representative one: the first of the range, the crash
 * that opened the issue's run in it, which a reader compares the latest against.
 */
export async function issueEvents(cfg: DashboardEnv["clickhouse"], app: string, issue: IssueSummary): Promise<{ latest: CrashEvent | null; first: CrashEvent | null }> {
  if (issue.firstInRangeMs === null || issue.lastInRangeMs === null) return { latest: null, first: null };
  const [latest, first] = await Promise.all([
    crashAt(cfg, app, issue.fingerprint, issue.lastInRangeMs, true),
    issue.firstInRangeMs === issue.lastInRangeMs ? Promise.resolve(null) : crashAt(cfg, app, issue.fingerprint, issue.firstInRangeMs, false),
  ]);
  return { latest, first };
}

export interface AffectedUser {
  /** The user id, else the anonymous id: the key of the user's profile. */
  key: string;
  identified: boolean;
  crashes: number;
  lastMs: number;
}

/** The users who hit the issue most in the range. */
export async function affectedUsers(cfg: DashboardEnv["clickhouse"], app: string, fp: string, range: TimeRange): Promise<AffectedUser[]> {
  const rows = await queryApp<{ key: string; identified: number; crashes: number; lastMs: number }>(
    cfg,
    app,
    `SELECT if(user_id != '', user_id, anonymous_id) AS key, max(user_id != '') AS identified, count() AS crashes, toUnixTimestamp64Milli(max(timestamp)) AS lastMs
     FROM events WHERE ${RAW} AND key != ''
     GROUP BY key ORDER BY crashes DESC, lastMs DESC, key LIMIT {limit:UInt32}`,
    { fp, ...rangeParams(range), limit: USERS_SHOWN },
  );
  return rows.map((r) => ({ key: r.key, identified: Number(r.identified) === 1, crashes: Number(r.crashes), lastMs: Number(r.lastMs) }));
}

/**
 * What the user did in the crash's session just before it: their events of that session in the
 * hour before, up to BREADCRUMB_CAP, oldest first. None when the crash named no session.
 */
export async function breadcrumbs(cfg: DashboardEnv["clickhouse"], app: string, crash: CrashEvent): Promise<TimelineEvent[]> {
  if (!crash.sessionId) return [];
  // The user's ids narrow the read through their bloom indexes; the session decides.
  const who = crash.userId ? "(user_id = {uid:String} OR anonymous_id = {anon:String})" : "anonymous_id = {anon:String}";
  const rows = await queryApp<TimelineEvent>(
    cfg,
    app,
    `SELECT ${TIMELINE_COLUMNS} FROM events
     WHERE app_id = {app:String} AND session_id = {sid:String} AND ${who}
       AND timestamp >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({ts:Int64}, 'UTC')
     ORDER BY timestamp DESC, message_id DESC LIMIT {limit:UInt32}`,
    { sid: crash.sessionId, uid: crash.userId, anon: crash.anonymousId, since: crash.ts - BREADCRUMB_WINDOW_MS, ts: crash.ts, limit: BREADCRUMB_CAP },
  );
  return rows.map(asTimeline).reverse();
}

/** Crashes the edge's caps dropped in the range, by cap. */
export async function droppedCounts(cfg: DashboardEnv["clickhouse"], app: string, fp: string, range: TimeRange): Promise<{ issueCap: number; appCap: number }> {
  const rows = await queryApp<{ reason: string; n: number }>(
    cfg,
    app,
    `SELECT toString(reason) AS reason, sum(dropped) AS n FROM crash_drops_hourly
     WHERE ${appRange("hour")} AND fingerprint = {fp:String} GROUP BY reason`,
    { fp, ...rangeParams(range) },
  );
  const of = (reason: string): number => Number(rows.find((r) => r.reason === reason)?.n ?? 0);
  return { issueCap: of("issue_cap"), appCap: of("app_cap") };
}

/** The app's releases, most recently seen first: what "resolve in release …" offers. */
export async function appReleases(cfg: DashboardEnv["clickhouse"], app: string): Promise<string[]> {
  const rows = await queryApp<{ v: string }>(
    cfg,
    app,
    `SELECT toString(app_version) AS v FROM events_hourly
     WHERE app_id = {app:String} AND hour >= now() - INTERVAL 90 DAY AND app_version != ''
     GROUP BY v ORDER BY max(hour) DESC, v DESC LIMIT 50`,
  );
  return rows.map((r) => r.v);
}

/** Everything the issue page reads from ClickHouse, or null when the app has no such issue. */
export async function loadIssuePage(cfg: DashboardEnv["clickhouse"], app: string, fp: string, range: TimeRange) {
  const issue = await getIssue(cfg, app, fp, range);
  if (!issue) return null;
  const [series, tags, events, users, dropped, releases] = await Promise.all([
    occurrences(cfg, app, fp, range),
    tagBreakdown(cfg, app, fp, range),
    issueEvents(cfg, app, issue),
    affectedUsers(cfg, app, fp, range),
    droppedCounts(cfg, app, fp, range),
    appReleases(cfg, app),
  ]);
  const trail = events.latest ? await breadcrumbs(cfg, app, events.latest) : [];
  return { issue, series, tags, events, users, dropped, releases, trail };
}
