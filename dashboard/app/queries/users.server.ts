// Users from the `user_profiles` summaries of 0005_sessions_users.sql (search and list), and
// one user's profile and journey. A user is their user id, or their anonymous id until they
// are identified; an identified user's journey includes what they did anonymously before,
// through the anonymous ids their events carried.
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { JOURNEY_CAP } from "./caps";
import { dimsSql, parseDims, type Dims } from "./dims";
import { usersTable } from "./overview.server";
import type { TimeRange } from "./range";
import { identityJoin, joinedPersonKey } from "../insights/person";
import { appRange, rangeParams } from "./scope";
import { asTimeline, TIMELINE_COLUMNS, type TimelineEvent } from "./sessions.server";

export const USER_PAGE_SIZE = 50;
export const USER_EXPORT_CAP = 10_000;

export interface UserFilters {
  dims: Dims;
  /** Part of a user id or anonymous id (case-insensitive), or an exact anonymous id. */
  q: string;
  /** Only these people: a subquery of person keys (`user_key`) and its parameters, from an insight. */
  people?: { sql: string; params: Params } | undefined;
}

export function parseUserFilters(url: URL): UserFilters {
  return { dims: parseDims(url), q: (url.searchParams.get("q") ?? "").trim().slice(0, 200) };
}

export interface UserRow {
  key: string;
  /** Set once the user was identified. */
  userId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Lifetime counts (the summaries keep 365 days). */
  events: number;
  sessions: number;
  platform: string;
  country: string;
}

/**
 * Users of `app` last seen in the range (or later), matching the search and filters, with the
 * columns that order them. The rest of a row is merged for the page of users shown.
 */
function usersSql(range: TimeRange, f: UserFilters): { sql: string; params: Params } {
  const d = dimsSql(f.dims);
  const params: Params = { ...rangeParams(range), ...d.params };
  let search = "";
  if (f.q) {
    // A key containing the text, or the user behind an exact anonymous id (bloom-indexed).
    search = `AND (positionCaseInsensitive(user_key, {q:String}) > 0 OR user_key IN (
      SELECT DISTINCT if(user_id != '', user_id, anonymous_id) FROM events WHERE app_id = {app:String} AND anonymous_id = {q:String}))`;
    params.q = f.q;
  }
  if (f.people) {
    search += ` AND user_key IN (${f.people.sql})`;
    Object.assign(params, f.people.params);
  }
  // The latest platform and country are merged for every user only when a filter needs them.
  const dims = d.sql ? ", argMaxMerge(platform) AS platform, argMaxMerge(country) AS country" : "";
  const sql = `SELECT user_key AS key, max(last_seen) AS last${dims}
               FROM user_profiles WHERE app_id = {app:String} ${search}
               GROUP BY user_key
               HAVING last >= toDateTime64({from:UInt32}, 3, 'UTC')${d.sql}`;
  return { sql, params };
}

/** Whole rows for the given users. */
async function userRows(cfg: DashboardEnv["clickhouse"], app: string, keys: readonly string[]): Promise<UserRow[]> {
  if (keys.length === 0) return [];
  const rows = await queryApp<UserRow>(
    cfg,
    app,
    `SELECT user_key AS key, max(user_id) AS userId, toUnixTimestamp64Milli(min(first_seen)) AS firstSeenMs, toUnixTimestamp64Milli(max(last_seen)) AS lastSeenMs,
            sum(events) AS events, uniqMerge(sessions) AS sessions, argMaxMerge(platform) AS platform, argMaxMerge(country) AS country
     FROM user_profiles WHERE app_id = {app:String} AND user_key IN {keys:Array(String)} GROUP BY user_key`,
    { keys },
  );
  return rows.map(asUser).sort((a, b) => b.lastSeenMs - a.lastSeenMs || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
}

const asUser = (r: UserRow): UserRow => ({
  ...r,
  firstSeenMs: Number(r.firstSeenMs),
  lastSeenMs: Number(r.lastSeenMs),
  events: Number(r.events),
  sessions: Number(r.sessions),
});

export interface UserCursor {
  ts: number;
  key: string;
}

export const userCursor = (r: UserRow): string => `${r.lastSeenMs}_${r.key}`;

export interface UserPage {
  /** With `name`: the user's own name or e-mail, from identify traits, when they sent one. */
  rows: Array<UserRow & { name: string }>;
  next: string | null;
}

/** Keys of the matching users, most recently seen first, after `before`, up to `limit`. */
async function userKeys(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: UserFilters, before: UserCursor | null, limit: number): Promise<string[]> {
  const u = usersSql(range, f);
  const params: Params = { ...u.params, limit };
  let keyset = "";
  if (before) {
    keyset = "WHERE (last, key) < (fromUnixTimestamp64Milli({cursorTs:Int64}, 'UTC'), {cursorKey:String})";
    params.cursorTs = before.ts;
    params.cursorKey = before.key;
  }
  const rows = await queryApp<{ key: string }>(cfg, app, `SELECT key FROM (${u.sql}) ${keyset} ORDER BY last DESC, key DESC LIMIT {limit:UInt32}`, params);
  return rows.map((r) => r.key);
}

/** One page of users, most recently seen first, after `before` (keyset on last seen, key). */
export async function listUsers(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: UserFilters, before: UserCursor | null, limit = USER_PAGE_SIZE): Promise<UserPage> {
  const keys = await userKeys(cfg, app, range, f, before, limit + 1);
  const rows = await userRows(cfg, app, keys.slice(0, limit));
  const names = await displayNames(cfg, app, rows.flatMap((r) => (r.userId ? [r.userId] : [])));
  const last = rows.at(-1);
  return { rows: rows.map((r) => ({ ...r, name: names.get(r.userId) ?? "" })), next: keys.length > limit && last ? userCursor(last) : null };
}

/**
 * What identified users call themselves: the latest `name` trait, else `email`, from their
 * identify calls (raw events, bloom-indexed user ids), for the page of users shown.
 */
async function displayNames(cfg: DashboardEnv["clickhouse"], app: string, userIds: readonly string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await queryApp<{ id: string; name: string }>(
    cfg,
    app,
    `SELECT user_id AS id,
            if(argMaxIf(JSONExtractString(traits, 'name'), timestamp, JSONExtractString(traits, 'name') != '') AS n != '', n,
               argMaxIf(JSONExtractString(traits, 'email'), timestamp, JSONExtractString(traits, 'email') != '')) AS name
     FROM events WHERE app_id = {app:String} AND type = 'identify' AND user_id IN {ids:Array(String)} AND traits NOT IN ('', '{}')
     GROUP BY user_id`,
    { ids: userIds },
  );
  return new Map(rows.filter((r) => r.name !== "").map((r) => [r.id, r.name]));
}

/** One page of users for the CSV, most recently seen first, after `before`; `next` continues it. */
export async function exportUsers(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: UserFilters, before: UserCursor | null, limit: number): Promise<{ rows: UserRow[]; next: UserCursor | null }> {
  const keys = await userKeys(cfg, app, range, f, before, limit + 1);
  const rows = await userRows(cfg, app, keys.slice(0, limit));
  const last = rows.at(-1);
  return { rows, next: keys.length > limit && last ? { ts: last.lastSeenMs, key: last.key } : null };
}

/** How many users were active per day (users_daily), for the chart above the list. */
/**
 * Distinct users per UTC day over the range, from the daily rollup; narrowed to the `people` of
 * an insight (a funnel's drop-off, a path), the same count over their raw events instead, each
 * person counted as the insight counts them (anonymous visits for the user they became).
 */
export async function activeUsersPerDay(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, dims: Dims, people?: UserFilters["people"]): Promise<Array<{ t: number; n: number }>> {
  const d = dimsSql(dims);
  const rows = people
    ? await queryApp<{ t: number; n: number }>(
        cfg,
        app,
        `SELECT toUnixTimestamp(toStartOfDay(ts, 'UTC')) AS t, toUInt64(uniq(person)) AS n FROM (
           SELECT e.timestamp AS ts, ${joinedPersonKey("e")} AS person FROM events AS e${identityJoin("e")}
           WHERE ${appRange("timestamp")}${d.sql})
         WHERE person IN (${people.sql})
         GROUP BY t ORDER BY t`,
        { ...rangeParams(range), ...d.params, ...people.params },
      )
    : await queryApp<{ t: number; n: number }>(
        cfg,
        app,
        `SELECT toUnixTimestamp(toDateTime(day, 'UTC')) AS t, toUInt64(uniqMerge(users)) AS n FROM ${usersTable(d.sql)}
         WHERE ${appRange("day")}${d.sql}
         GROUP BY t ORDER BY t`,
        { ...rangeParams(range), ...d.params },
      );
  return rows.map((r) => ({ t: Number(r.t), n: Number(r.n) }));
}

export interface Device {
  platform: string;
  os: string;
  model: string;
  browser: string;
  appVersion: string;
}

export interface UserProfile extends UserRow {
  anonymousIds: string[];
  /** Identify traits folded oldest to newest: a later identify overrides a key, keeps the rest. */
  traits: Record<string, unknown>;
  devices: Device[];
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The raw events of one user: by user id, plus anonymous ones from before they were identified. */
function whoSql(p: { userId: string }): string {
  return p.userId ? "(user_id = {uid:String} OR (user_id = '' AND anonymous_id IN {anon:Array(String)}))" : "(user_id = '' AND anonymous_id = {key:String})";
}

/** The profile of the user `key` in `app`, or null when the app has no such user. */
export async function getProfile(cfg: DashboardEnv["clickhouse"], app: string, key: string): Promise<UserProfile | null> {
  const found = await queryApp<UserRow>(
    cfg,
    app,
    `SELECT user_key AS key, max(user_id) AS userId, toUnixTimestamp64Milli(min(first_seen)) AS firstSeenMs, toUnixTimestamp64Milli(max(last_seen)) AS lastSeenMs,
            sum(events) AS events, uniqMerge(sessions) AS sessions, argMaxMerge(platform) AS platform, argMaxMerge(country) AS country
     FROM user_profiles WHERE app_id = {app:String} AND user_key = {key:String} GROUP BY user_key`,
    { key },
  );
  const row = found[0];
  if (!row) return null;
  const base = asUser(row);
  // The anonymous ids an identified user's events carried (the raw events' 90 days).
  const anonymousIds = base.userId
    ? ((
        await queryApp<{ ids: string[] }>(
          cfg,
          app,
          "SELECT groupUniqArray(50)(anonymous_id) AS ids FROM events WHERE app_id = {app:String} AND user_id = {uid:String} AND anonymous_id != ''",
          { uid: base.userId },
        )
      )[0]?.ids ?? [])
    : [base.key];
  const params: Params = { uid: base.userId, anon: anonymousIds, key: base.key };
  const [history, devices] = await Promise.all([
    // Segment clients often send only the traits that changed: every identify is folded in order.
    queryApp<{ traits: string }>(
      cfg,
      app,
      `SELECT traits FROM events WHERE app_id = {app:String} AND type = 'identify' AND ${whoSql(base)} AND traits NOT IN ('', '{}')
       ORDER BY timestamp DESC LIMIT 200`,
      params,
    ),
    queryApp<Device>(
      cfg,
      app,
      `SELECT DISTINCT toString(platform) AS platform, toString(os_name) AS os, toString(device_model) AS model, toString(browser) AS browser, toString(app_version) AS appVersion
       FROM events WHERE app_id = {app:String} AND ${whoSql(base)} LIMIT 20`,
      params,
    ),
  ]);
  return {
    ...base,
    anonymousIds: [...anonymousIds].sort(),
    traits: Object.assign({}, ...history.reverse().map((h) => parseObject(h.traits))) as Record<string, unknown>,
    devices: devices.sort((a, b) => `${a.platform}${a.os}${a.model}${a.browser}`.localeCompare(`${b.platform}${b.os}${b.model}${b.browser}`)),
  };
}

/** The events of one user: by user id, plus anonymous events from before they were identified. */
function journeySql(p: UserProfile, range: TimeRange): { sql: string; params: Params } {
  return {
    sql: `${appRange("timestamp")} AND ${whoSql(p)}`,
    params: { uid: p.userId, anon: p.anonymousIds, key: p.key, ...rangeParams(range) },
  };
}

export interface Journey {
  /** Newest first, at most JOURNEY_CAP. */
  events: TimelineEvent[];
  truncated: boolean;
  /** Events per chart bucket of the range. */
  activity: Array<{ t: number; n: number }>;
}

/** The user's events in the range, newest first, and their activity over it. */
export async function getJourney(cfg: DashboardEnv["clickhouse"], app: string, p: UserProfile, range: TimeRange, cap = JOURNEY_CAP): Promise<Journey> {
  const j = journeySql(p, range);
  const [events, activity] = await Promise.all([
    queryApp<TimelineEvent>(cfg, app, `SELECT ${TIMELINE_COLUMNS} FROM events WHERE ${j.sql} ORDER BY timestamp DESC, message_id DESC LIMIT {limit:UInt32}`, {
      ...j.params,
      limit: cap + 1,
    }),
    queryApp<{ t: number; n: number }>(
      cfg,
      app,
      `SELECT toUnixTimestamp(toStartOfInterval(timestamp, toIntervalSecond({step:UInt32}))) AS t, count() AS n FROM events WHERE ${j.sql} GROUP BY t ORDER BY t`,
      { ...j.params, step: range.step },
    ),
  ]);
  return { events: events.slice(0, cap).map(asTimeline), truncated: events.length > cap, activity: activity.map((r) => ({ t: Number(r.t), n: Number(r.n) })) };
}
