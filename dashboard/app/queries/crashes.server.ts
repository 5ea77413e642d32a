// The crash issues list, from the `crash_issues_hourly` rollup of 0008_crash_rollups.sql: one
// read finds the page's fingerprints in the chosen order (keyset on the sort value and the
// fingerprint), then the page's rows, sparklines, all-time first seen and dropped counts are
// read for those fingerprints only. Issue states live in D1; the status filter reaches
// ClickHouse as lists of fingerprints to keep or to leave out.
import type { IssueState } from "../db/crash-issues.server";
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import type { Cursor } from "./cursor";
import type { IssueFilters, StatusFilter } from "./crash-filters";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

export const ISSUE_PAGE_SIZE = 50;
/** Points in a list row's trend line. */
export const SPARK_POINTS = 24;

export interface IssueRow {
  fingerprint: string;
  type: string;
  message: string;
  culprit: string;
  /** In the range (and filters). */
  events: number;
  users: number;
  fatal: number;
  /** All time (the rollup's 365 days), whatever the range and filters. */
  firstSeenMs: number;
  /** In the range (and filters). */
  lastSeenMs: number;
  releases: string[];
  platforms: string[];
  /** Events per sparkline bucket, oldest first. */
  trend: number[];
  /** Crashes the edge's caps dropped in the range. */
  dropped: number;
}

/** Fingerprints the status filter keeps (null: any) and leaves out, from the app's D1 states. */
export function statusLists(status: StatusFilter, states: ReadonlyMap<string, IssueState>): { include: string[] | null; exclude: string[] } {
  const having = (wanted: readonly string[]): string[] => [...states.values()].filter((s) => wanted.includes(s.status)).map((s) => s.fingerprint);
  switch (status) {
    case "all":
      return { include: null, exclude: [] };
    case "unresolved":
      // Issues without a state row are unresolved; regressed ones are unresolved again.
      return { include: null, exclude: having(["resolved", "ignored"]) };
    default:
      return { include: having([status]), exclude: [] };
  }
}


/** The range, release, platform, environment and status predicate over the rollup. */
function whereSql(range: TimeRange, f: IssueFilters, lists: { include: string[] | null; exclude: string[] }): { sql: string; params: Params } {
  const parts = [appRange("hour")];
  const params: Params = rangeParams(range);
  for (const [column, value] of [
    ["app_version", f.release],
    ["platform", f.platform],
    ["environment", f.environment],
  ] as const) {
    if (!value) continue;
    parts.push(`${column} = {${column}:String}`);
    params[column] = value;
  }
  if (lists.include) {
    parts.push("fingerprint IN {include:Array(String)}");
    params.include = lists.include;
  }
  if (lists.exclude.length > 0) {
    parts.push("fingerprint NOT IN {exclude:Array(String)}");
    params.exclude = lists.exclude;
  }
  return { sql: parts.join(" AND "), params };
}

// The search looks at the title and culprit an issue shows: those of its latest crash.
const TEXT_MATCH = "HAVING positionCaseInsensitive(concat(argMaxMerge(latest).1, ': ', argMaxMerge(latest).2, '\\n', argMaxMerge(latest).3), {q:String}) > 0";

/** The fingerprints matching everything, text search included. */
function matchingSql(w: { sql: string }, f: IssueFilters): string {
  return `SELECT fingerprint FROM crash_issues_hourly WHERE ${w.sql} GROUP BY fingerprint ${f.q ? TEXT_MATCH : ""}`;
}

/** Each matching issue with the number it is sorted by (newest: its all-time first seen). */
function sortedSql(w: { sql: string }, f: IssueFilters): string {
  if (f.sort === "newest") {
    return `SELECT fingerprint, toUnixTimestamp64Milli(min(first_seen)) AS v FROM crash_issues_hourly
            WHERE app_id = {app:String} AND fingerprint IN (SELECT fingerprint FROM (${matchingSql(w, f)})) GROUP BY fingerprint`;
  }
  const value = { events: "sum(events)", users: "uniqMerge(users)", last: "toUnixTimestamp64Milli(max(last_seen))" }[f.sort];
  return `SELECT fingerprint, ${value} AS v FROM crash_issues_hourly WHERE ${w.sql} GROUP BY fingerprint ${f.q ? TEXT_MATCH : ""}`;
}

/** Fingerprints of the page after `after`, in the sort's order (largest first). */
async function issueKeys(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  range: TimeRange,
  f: IssueFilters,
  lists: { include: string[] | null; exclude: string[] },
  after: Cursor | null,
  limit: number,
): Promise<Array<{ fingerprint: string; v: number }>> {
  if (lists.include?.length === 0) return [];
  const w = whereSql(range, f, lists);
  const params: Params = { ...w.params, limit };
  if (f.q) params.q = f.q;
  let keyset = "";
  if (after) {
    keyset = "WHERE (v, fingerprint) < ({cursorV:UInt64}, {cursorFp:String})";
    params.cursorV = after.ts;
    params.cursorFp = after.id;
  }
  const rows = await queryApp<{ fingerprint: string; v: number }>(
    cfg,
    app,
    `SELECT fingerprint, toUInt64(v) AS v FROM (${sortedSql(w, f)}) ${keyset} ORDER BY v DESC, fingerprint DESC LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map((r) => ({ fingerprint: r.fingerprint, v: Number(r.v) }));
}

/** Bucket width of the sparklines: whole hours, about SPARK_POINTS of them over the range. */
export function sparkStep(range: TimeRange): number {
  return Math.max(3600, Math.ceil((range.to - range.from) / SPARK_POINTS / 3600) * 3600);
}

/** Whole rows for the given fingerprints, in the given order. */
async function issueRows(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange, f: IssueFilters, fingerprints: readonly string[]): Promise<IssueRow[]> {
  if (fingerprints.length === 0) return [];
  const w = whereSql(range, f, { include: [...fingerprints], exclude: [] });
  const start = Math.floor(range.from / 3600) * 3600;
  const step = sparkStep(range);
  const buckets = Math.ceil((range.to - start) / step);
  const [rows, firsts, trends, drops] = await Promise.all([
    queryApp<{ fingerprint: string; events: number; users: number; fatal: number; lastSeenMs: number; latest: [string, string, string]; releases: string[]; platforms: string[] }>(
      cfg,
      app,
      `SELECT fingerprint, sum(events) AS events, toUInt64(uniqMerge(users)) AS users, sum(fatal) AS fatal, toUnixTimestamp64Milli(max(last_seen)) AS lastSeenMs,
              argMaxMerge(latest) AS latest,
              arraySort(groupUniqArrayIf(20)(toString(app_version), app_version != '')) AS releases,
              arraySort(groupUniqArrayIf(20)(toString(platform), platform != '')) AS platforms
       FROM crash_issues_hourly WHERE ${w.sql} GROUP BY fingerprint`,
      w.params,
    ),
    queryApp<{ fingerprint: string; ms: number }>(
      cfg,
      app,
      "SELECT fingerprint, toUnixTimestamp64Milli(min(first_seen)) AS ms FROM crash_issues_hourly WHERE app_id = {app:String} AND fingerprint IN {include:Array(String)} GROUP BY fingerprint",
      { include: w.params.include ?? [] },
    ),
    queryApp<{ fingerprint: string; b: number; n: number }>(
      cfg,
      app,
      `SELECT fingerprint, intDiv(toUnixTimestamp(hour) - {start:UInt32}, {step:UInt32}) AS b, sum(events) AS n
       FROM crash_issues_hourly WHERE ${w.sql} GROUP BY fingerprint, b`,
      { ...w.params, start, step },
    ),
    queryApp<{ fingerprint: string; n: number }>(
      cfg,
      app,
      `SELECT fingerprint, sum(dropped) AS n FROM crash_drops_hourly WHERE ${appRange("hour")} AND fingerprint IN {include:Array(String)} GROUP BY fingerprint`,
      { ...rangeParams(range), include: w.params.include ?? [] },
    ),
  ]);
  const first = new Map(firsts.map((r) => [r.fingerprint, Number(r.ms)]));
  const dropped = new Map(drops.map((r) => [r.fingerprint, Number(r.n)]));
  const trend = new Map<string, number[]>();
  for (const t of trends) {
    const line = trend.get(t.fingerprint) ?? Array.from({ length: buckets }, () => 0);
    const b = Number(t.b);
    if (b >= 0 && b < buckets) line[b] = (line[b] ?? 0) + Number(t.n);
    trend.set(t.fingerprint, line);
  }
  const byFp = new Map(
    rows.map((r): [string, IssueRow] => [
      r.fingerprint,
      {
        fingerprint: r.fingerprint,
        type: r.latest[0],
        message: r.latest[1],
        culprit: r.latest[2],
        events: Number(r.events),
        users: Number(r.users),
        fatal: Number(r.fatal),
        firstSeenMs: first.get(r.fingerprint) ?? Number(r.lastSeenMs),
        lastSeenMs: Number(r.lastSeenMs),
        releases: r.releases,
        platforms: r.platforms,
        trend: trend.get(r.fingerprint) ?? Array.from({ length: buckets }, () => 0),
        dropped: dropped.get(r.fingerprint) ?? 0,
      },
    ]),
  );
  return fingerprints.flatMap((fp) => byFp.get(fp) ?? []);
}

export interface IssuePage {
  rows: IssueRow[];
  next: string | null;
}

/** One page of issues in the filters' order, after `after` (keyset on the sort value and fingerprint). */
export async function listIssues(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  range: TimeRange,
  f: IssueFilters,
  states: ReadonlyMap<string, IssueState>,
  after: Cursor | null,
  limit = ISSUE_PAGE_SIZE,
): Promise<IssuePage> {
  const page = await exportIssues(cfg, app, range, f, states, after, limit);
  return { rows: page.rows, next: page.next ? `${page.next.ts}_${page.next.id}` : null };
}

/** One page of issues for the CSV (and the list), in the filters' order, after `after`; `next` continues it. */
export async function exportIssues(
  cfg: DashboardEnv["clickhouse"],
  app: string,
  range: TimeRange,
  f: IssueFilters,
  states: ReadonlyMap<string, IssueState>,
  after: Cursor | null,
  limit: number,
): Promise<{ rows: IssueRow[]; next: Cursor | null }> {
  const keys = await issueKeys(cfg, app, range, f, statusLists(f.status, states), after, limit + 1);
  const page = keys.slice(0, limit);
  const rows = await issueRows(
    cfg,
    app,
    range,
    f,
    page.map((k) => k.fingerprint),
  );
  const last = page.at(-1);
  return { rows, next: keys.length > limit && last ? { ts: last.v, id: last.fingerprint } : null };
}

export interface IssueFilterOptions {
  releases: string[];
  platforms: string[];
  environments: string[];
}

/** The releases, platforms and environments crashes came from in the range, busiest first. */
export async function issueFilterOptions(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange): Promise<IssueFilterOptions> {
  const rows = await queryApp<{ releases: string[]; platforms: string[]; environments: string[] }>(
    cfg,
    app,
    `SELECT arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, n), kind = 'r'))) AS releases,
            arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, n), kind = 'p'))) AS platforms,
            arrayMap(x -> x.1, arraySort(x -> (-x.2, x.1), groupArrayIf(100)((v, n), kind = 'e'))) AS environments
     FROM (
       SELECT kv.1 AS kind, kv.2 AS v, sum(events) AS n FROM crash_issues_hourly
       ARRAY JOIN [('r', toString(app_version)), ('p', toString(platform)), ('e', toString(environment))] AS kv
       WHERE ${appRange("hour")} AND kv.2 != ''
       GROUP BY kind, v
     )`,
    rangeParams(range),
  );
  return rows[0] ?? { releases: [], platforms: [], environments: [] };
}
