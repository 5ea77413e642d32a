// Issue states that change by themselves: a resolved issue that crashes again is regressed, an
// ignore ends after its date or its number of events. Every minute, one bulk D1 read of the
// states that can change, then per app one ClickHouse read of the crashes those issues had since
// their state was set. Nothing is written when nothing happened; a transition is written only if
// the state is still the one read, so a person's change made meanwhile wins.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { describeClickHouseError } from "../lib/clickhouse";
import { log } from "../lib/log";

/** Who the history names for changes made here. */
export const SYSTEM = "system";

/**
 * How far back a resolved issue's crashes are looked for. Each run sees the crashes that arrived
 * since the last; the margin covers crashes that arrive late (offline devices) and runs that did
 * not happen. An ignore "until N more events" counts from the ignore itself, however long ago.
 */
export const REGRESSION_LOOKBACK_MS = 3 * 86_400_000;

/** Issues per ClickHouse read: their fingerprints travel in the request's URL. */
const ISSUES_PER_READ = 2000;

interface StateRow {
  app_id: string;
  fingerprint: string;
  status: string;
  resolved_in: string;
  resolved_next: number;
  ignore_count: number | null;
  ignore_until: number | null;
  changed_at: number;
}

interface Transition {
  fingerprint: string;
  from: StateRow;
  status: "regressed" | "unresolved";
  detail: string;
}

interface CrashesSince {
  fingerprint: string;
  release: string;
  events: number;
}

export interface CrashStatesRun {
  apps: number;
  changed: number;
  /** Apps whose check failed this time; the next run tries them again. */
  failed: number;
}

const when = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** `1.10.0` as [1, 10, 0] with its pre-release; a `name@` prefix (Sentry's `app@1.2.0`) kept apart. Null when not a version. */
export function parseVersion(release: string): { scope: string; parts: number[]; pre: string[] } | null {
  const at = release.lastIndexOf("@");
  const scope = at >= 0 ? release.slice(0, at) : "";
  const m = /^v?(\d+(?:\.\d+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?(?:\s*\((\d+)\))?$/.exec(release.slice(at + 1).trim());
  if (!m?.[1]) return null;
  const parts = m[1].split(".").map(Number);
  while (parts.length < 3) parts.push(0);
  // "2.1.0 (345)": the build number orders builds of one version.
  parts.push(m[3] === undefined ? 0 : Number(m[3]));
  return { scope, parts, pre: m[2] === undefined ? [] : m[2].split(".") };
}

/** Semantic-version order of two releases (a pre-release before its release); null when either is not a version of the same name. */
export function compareVersions(a: string, b: string): number | null {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y || x.scope !== y.scope) return null;
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre.length === 0 || y.pre.length === 0) return Math.sign(y.pre.length - x.pre.length);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * Whether `release` came after `fixedIn`: by version when both are versions, else by when each
 * was first seen. A fix release never seen yet is later than any release seen before the issue
 * was resolved, and not later than one that appeared since.
 */
export function isLaterRelease(release: string, fixedIn: string, firstSeen: ReadonlyMap<string, number>, resolvedAt: number): boolean {
  const byVersion = compareVersions(release, fixedIn);
  if (byVersion !== null) return byVersion > 0;
  const seen = firstSeen.get(release);
  const fixSeen = firstSeen.get(fixedIn);
  if (seen === undefined) return false;
  return fixSeen === undefined ? seen > resolvedAt : seen > fixSeen;
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));

async function crashesSince(client: ClickHouseClient, appId: string, states: readonly StateRow[], now: number): Promise<CrashesSince[]> {
  const after = states.map((s) => (s.status === "ignored" ? s.changed_at : Math.max(s.changed_at, now - REGRESSION_LOOKBACK_MS)));
  const rs = await client.query({
    query: `SELECT crash_fingerprint AS fingerprint, toString(app_version) AS release, count() AS events
            FROM events
            WHERE app_id = {app:String} AND type = 'crash'
              AND timestamp > fromUnixTimestamp64Milli({since:Int64}, 'UTC')
              AND crash_fingerprint IN {fps:Array(String)}
              AND toUnixTimestamp64Milli(timestamp) > {after:Array(Int64)}[indexOf({fps:Array(String)}, crash_fingerprint)]
            GROUP BY fingerprint, release`,
    query_params: { app: appId, since: after.reduce((a, b) => Math.min(a, b)), fps: states.map((s) => s.fingerprint), after },
    format: "JSONEachRow",
  });
  return (await rs.json<{ fingerprint: string; release: string; events: number | string }>()).map((r) => ({ fingerprint: r.fingerprint, release: r.release, events: num(r.events) }));
}

/** When each release was first seen in the app (any event), from the release-health rollup. */
async function releasesFirstSeen(client: ClickHouseClient, appId: string, releases: readonly string[]): Promise<Map<string, number>> {
  const rs = await client.query({
    query: `SELECT toString(app_version) AS release, toUnixTimestamp64Milli(min(first_seen)) AS first
            FROM release_health_hourly
            WHERE app_id = {app:String} AND app_version IN {releases:Array(String)}
            GROUP BY release`,
    query_params: { app: appId, releases },
    format: "JSONEachRow",
  });
  return new Map((await rs.json<{ release: string; first: number | string }>()).map((r) => [r.release, num(r.first)]));
}

/** The latest of `releases`, by version where they are versions. */
function latest(releases: readonly string[], firstSeen: ReadonlyMap<string, number>): string {
  return releases.reduce((best, r) => {
    const c = compareVersions(r, best);
    if (c !== null) return c > 0 ? r : best;
    return (firstSeen.get(r) ?? 0) > (firstSeen.get(best) ?? 0) ? r : best;
  });
}

/** What should change for one app's states, given the crashes since each was set. */
async function transitionsFor(client: ClickHouseClient, appId: string, states: readonly StateRow[], now: number): Promise<Transition[]> {
  const out: Transition[] = [];
  const watched: StateRow[] = [];
  for (const s of states) {
    if (s.status === "ignored" && s.ignore_until !== null) {
      if (s.ignore_until <= now) out.push({ fingerprint: s.fingerprint, from: s, status: "unresolved", detail: `ignore ended: ${when(s.ignore_until)} passed` });
    } else if (s.status === "resolved" || (s.status === "ignored" && s.ignore_count !== null)) {
      watched.push(s);
    }
  }
  if (watched.length === 0) return out;
  const rows: CrashesSince[] = [];
  for (let i = 0; i < watched.length; i += ISSUES_PER_READ) rows.push(...(await crashesSince(client, appId, watched.slice(i, i + ISSUES_PER_READ), now)));
  if (rows.length === 0) return out;
  const byIssue = new Map<string, CrashesSince[]>();
  for (const r of rows) {
    const list = byIssue.get(r.fingerprint);
    if (list) list.push(r);
    else byIssue.set(r.fingerprint, [r]);
  }
  const needsReleases = watched.some((s) => byIssue.has(s.fingerprint) && s.status === "resolved" && (s.resolved_next === 1 || s.resolved_in !== ""));
  const releases = new Set<string>();
  if (needsReleases) for (const s of watched) for (const r of byIssue.get(s.fingerprint) ?? []) releases.add(r.release).add(s.resolved_in);
  const firstSeen = needsReleases ? await releasesFirstSeen(client, appId, [...releases]) : new Map<string, number>();

  for (const s of watched) {
    const crashes = byIssue.get(s.fingerprint);
    if (!crashes) continue;
    if (s.status === "ignored") {
      const more = crashes.reduce((n, r) => n + r.events, 0);
      const count = s.ignore_count ?? 0;
      if (more >= count) out.push({ fingerprint: s.fingerprint, from: s, status: "unresolved", detail: `ignore ended: ${more} more event${more === 1 ? "" : "s"} since it was ignored (until ${count})` });
      continue;
    }
    const regressing = crashes
      .map((r) => r.release)
      .filter((release) => {
        if (s.resolved_next === 1) return (firstSeen.get(release) ?? 0) > s.changed_at;
        if (s.resolved_in !== "") return isLaterRelease(release, s.resolved_in, firstSeen, s.changed_at);
        return true;
      });
    if (regressing.length === 0) continue;
    const release = latest(regressing, firstSeen);
    out.push({ fingerprint: s.fingerprint, from: s, status: "regressed", detail: release === "" ? "seen again" : `seen again in ${release}` });
  }
  return out;
}

/** Writes the transitions whose state is still the one read; returns how many were written. */
async function apply(db: D1Database, appId: string, transitions: readonly Transition[], now: number): Promise<number> {
  if (transitions.length === 0) return 0;
  const statements = transitions.flatMap((t) => [
    db
      .prepare(
        `UPDATE crash_issue_states SET status = ?, resolved_in = '', resolved_next = 0, ignore_count = NULL, ignore_base = NULL, ignore_until = NULL, changed_at = ?, changed_by = ?
         WHERE app_id = ? AND fingerprint = ? AND status = ? AND changed_at = ?`,
      )
      .bind(t.status, now, SYSTEM, appId, t.fingerprint, t.from.status, t.from.changed_at),
    // Only when the UPDATE above took: the row then carries this run's time and author.
    db
      .prepare(
        `INSERT INTO crash_issue_history (app_id, fingerprint, status, detail, at, by)
         SELECT app_id, fingerprint, status, ?, changed_at, changed_by FROM crash_issue_states
         WHERE app_id = ? AND fingerprint = ? AND status = ? AND changed_at = ? AND changed_by = ?`,
      )
      .bind(t.detail, appId, t.fingerprint, t.status, now, SYSTEM),
  ]);
  const results = await db.batch(statements);
  return results.filter((r, i) => i % 2 === 0 && r.meta.changes > 0).length;
}

/** One run: every live app's resolved and ignored issues, each app on its own. */
export async function updateCrashStates(deps: { db: D1Database; client: ClickHouseClient }, now: number): Promise<CrashStatesRun> {
  const rs = await deps.db
    .prepare(
      `SELECT s.app_id, s.fingerprint, s.status, s.resolved_in, s.resolved_next, s.ignore_count, s.ignore_until, s.changed_at
       FROM crash_issue_states s JOIN apps a ON a.id = s.app_id AND a.deleted_at IS NULL
       WHERE s.status IN ('resolved', 'ignored') AND (s.status = 'resolved' OR s.ignore_count IS NOT NULL OR s.ignore_until IS NOT NULL)
       ORDER BY s.app_id`,
    )
    .all<StateRow>();
  const byApp = new Map<string, StateRow[]>();
  for (const row of rs.results) {
    const list = byApp.get(row.app_id);
    if (list) list.push(row);
    else byApp.set(row.app_id, [row]);
  }
  const run: CrashStatesRun = { apps: byApp.size, changed: 0, failed: 0 };
  for (const [appId, states] of byApp) {
    try {
      run.changed += await apply(deps.db, appId, await transitionsFor(deps.client, appId, states, now), now);
    } catch (err) {
      run.failed += 1;
      log.error("crash_states.failed", { app: appId, error: describeClickHouseError(err) });
    }
  }
  return run;
}
