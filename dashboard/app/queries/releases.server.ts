// Release health from release_health_hourly (0009) and crash issues from crash_issues_hourly
// (0008): per release, users, sessions, adoption, crash-free users and sessions, crashes and new
// issues, and crash-free rates over time for the releases most used. Rows of one release from
// different inserts are merged here with GROUP BY, so a view is right before ClickHouse merges.
//
// Crash-free users = 1 - crashed users / users; crash-free sessions = 1 - (crashed sessions +
// Sentry's aggregated crashed) / (sessions + Sentry's aggregated sessions). A user or session is
// crashed when a fatal crash of ours or a crashed Sentry session touched it.
import type { DashboardEnv } from "../env.server";
import { queryApp } from "./clickhouse.server";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

/** Releases listed at most; an app ships far fewer in a range. */
export const RELEASES_CAP = 200;
/** Releases drawn in the crash-free chart: the most used in the range. */
export const CHART_RELEASES = 5;

export interface ReleaseHealth {
  release: string;
  /** Epoch ms of the release's first event, all time. */
  firstSeen: number;
  users: number;
  crashedUsers: number;
  /** Our SDK's and Sentry's individual sessions plus Sentry's aggregated ones. */
  sessions: number;
  crashedSessions: number;
  /** Share of the range's users who used this release (a user on two releases counts in both). */
  adoption: number | null;
  crashFreeUsers: number | null;
  crashFreeSessions: number | null;
  crashes: number;
  /** Issues whose first crash, in this range, came from this release. */
  newIssues: number;
}

export interface CrashFreePoint {
  /** Bucket start, epoch seconds. */
  t: number;
  release: string;
  crashFreeUsers: number | null;
  crashFreeSessions: number | null;
}

export interface ReleasesView {
  releases: ReleaseHealth[];
  totalUsers: number;
  series: CrashFreePoint[];
  /** Bucket width of `series`, seconds: an hour up to a day's range, else a day. */
  step: number;
}

const ratioFree = (crashed: number, total: number): number | null => (total > 0 ? Math.max(0, 1 - crashed / total) : null);

interface HealthRow {
  release: string;
  users: number;
  crashed_users: number;
  sessions: number;
  crashed_sessions: number;
  agg_sessions: number;
  agg_crashed: number;
}

const HEALTH_COLUMNS = `uniqMerge(users) AS users, uniqMerge(crashed_users) AS crashed_users,
  uniqMerge(sessions) AS sessions, uniqMerge(crashed_sessions) AS crashed_sessions,
  sum(agg_sessions) AS agg_sessions, sum(agg_crashed) AS agg_crashed`;

const RANGE = appRange("hour");

/**
 * Each release's first event of any kind, all time, epoch ms: the order releases came out in.
 * For the given releases, or for every release seen in a range (so the releases page asks it
 * beside its other reads instead of after them).
 */
export async function releaseFirstSeen(
  cfg: DashboardEnv["clickhouse"],
  appId: string,
  which: { releases: readonly string[] } | { range: TimeRange },
): Promise<Map<string, number>> {
  if ("releases" in which && which.releases.length === 0) return new Map();
  const rows = await queryApp<{ release: string; first: number }>(
    cfg,
    appId,
    `SELECT toString(app_version) AS release, toUnixTimestamp64Milli(min(first_seen)) AS first
     FROM release_health_hourly
     WHERE app_id = {app:String} AND app_version IN ${"range" in which ? `(SELECT DISTINCT app_version FROM release_health_hourly WHERE ${RANGE})` : "{releases:Array(String)}"}
     GROUP BY release`,
    "range" in which ? rangeParams(which.range) : { releases: [...which.releases] },
  );
  return new Map(rows.map((r) => [r.release, Number(r.first)]));
}

export async function loadReleases(cfg: DashboardEnv["clickhouse"], appId: string, range: TimeRange): Promise<ReleasesView> {
  const params = { ...rangeParams(range), cap: RELEASES_CAP };
  // Rates over few sessions swing wildly: hours up to a day, then days.
  const step = range.to - range.from > 86_400 ? 86_400 : 3600;
  const [rows, totals, crashes, firstBy] = await Promise.all([
    queryApp<HealthRow>(
      cfg,
      appId,
      `SELECT toString(app_version) AS release, ${HEALTH_COLUMNS}
       FROM release_health_hourly WHERE ${RANGE}
       GROUP BY release ORDER BY users DESC, sessions + agg_sessions DESC, release LIMIT {cap:UInt32}`,
      params,
    ),
    queryApp<{ users: number }>(cfg, appId, `SELECT uniqMerge(users) AS users FROM release_health_hourly WHERE ${RANGE}`, params),
    // Crashes per release in the range, and the issues first seen in the range by the release of their first crash.
    queryApp<{ release: string; crashes: number; new_issues: number }>(
      cfg,
      appId,
      `SELECT release, sum(crashes) AS crashes, sum(new_issues) AS new_issues FROM
       (
         SELECT toString(app_version) AS release, sum(events) AS crashes, 0 AS new_issues
         FROM crash_issues_hourly WHERE ${RANGE} GROUP BY release
         UNION ALL
         SELECT release, 0 AS crashes, count() AS new_issues FROM
         (
           SELECT fingerprint, argMin(toString(app_version), first) AS release, min(first) AS first_ever
           FROM (
             SELECT fingerprint, app_version, min(first_seen) AS first FROM crash_issues_hourly
             WHERE app_id = {app:String}
               AND fingerprint IN (SELECT DISTINCT fingerprint FROM crash_issues_hourly WHERE ${RANGE})
             GROUP BY fingerprint, app_version
           )
           GROUP BY fingerprint
           HAVING first_ever >= toDateTime64({from:UInt32}, 3, 'UTC') AND first_ever < toDateTime64({to:UInt32}, 3, 'UTC')
         )
         GROUP BY release
       )
       GROUP BY release`,
      params,
    ),
    releaseFirstSeen(cfg, appId, { range }),
  ]);
  const totalUsers = Number(totals[0]?.users ?? 0);
  const crashesBy = new Map(crashes.map((c) => [c.release, c]));
  const releases = rows.map((r): ReleaseHealth => {
    const sessions = Number(r.sessions) + Number(r.agg_sessions);
    const crashedSessions = Number(r.crashed_sessions) + Number(r.agg_crashed);
    const users = Number(r.users);
    const crashedUsers = Number(r.crashed_users);
    const c = crashesBy.get(r.release);
    return {
      release: r.release,
      firstSeen: firstBy.get(r.release) ?? 0,
      users,
      crashedUsers,
      sessions,
      crashedSessions,
      adoption: totalUsers > 0 ? users / totalUsers : null,
      crashFreeUsers: ratioFree(crashedUsers, users),
      crashFreeSessions: ratioFree(crashedSessions, sessions),
      crashes: Number(c?.crashes ?? 0),
      newIssues: Number(c?.new_issues ?? 0),
    };
  });

  const top = releases.slice(0, CHART_RELEASES).map((r) => r.release);
  const series =
    top.length === 0
      ? []
      : (
          await queryApp<HealthRow & { t: number }>(
            cfg,
            appId,
            `SELECT toUnixTimestamp(toStartOfInterval(hour, INTERVAL {step:UInt32} SECOND)) AS t, toString(app_version) AS release, ${HEALTH_COLUMNS}
             FROM release_health_hourly WHERE ${RANGE} AND app_version IN {top:Array(String)}
             GROUP BY t, release ORDER BY t, release`,
            { ...params, step, top },
          )
        ).map((r) => ({
          t: Number(r.t),
          release: r.release,
          crashFreeUsers: ratioFree(Number(r.crashed_users), Number(r.users)),
          crashFreeSessions: ratioFree(Number(r.crashed_sessions) + Number(r.agg_crashed), Number(r.sessions) + Number(r.agg_sessions)),
        }));
  return { releases, totalUsers, series, step };
}
