// What the retention job needs of D1: every live app's retention, and the log of its runs that
// the app's settings page reads. The deleting itself is workers/cron/retention.cron.ts.
import { MAX_RETENTION_DAYS } from "../../schemas";
import type { AppScope } from "./store";

const DAY_MS = 86_400_000;
// The log is for "when did this last run and what did it remove": a quarter is plenty.
const KEEP_RUNS_MS = 90 * DAY_MS;
// D1 takes at most 100 bound parameters per statement; a run row has 6.
const RUNS_PER_STATEMENT = 15;

/** An app's retention as the job applies it. */
export interface RetentionTarget {
  appId: string;
  retentionDays: number;
}

/** The instant before which an app's rows are due: `retentionCutoff(now, 7)` is seven days ago, to the millisecond. */
export function retentionCutoff(now: number, retentionDays: number): number {
  // A value stored before the limit existed still gets the limit the tables keep.
  const days = Math.min(MAX_RETENTION_DAYS, Math.max(1, Math.floor(retentionDays)));
  return now - days * DAY_MS;
}

/** Every live app and its retention, in id order. */
export async function retentionTargets(db: D1Database): Promise<RetentionTarget[]> {
  const rs = await db.prepare("SELECT id, retention_days FROM apps WHERE deleted_at IS NULL ORDER BY id").all<{ id: string; retention_days: number }>();
  return rs.results.map((r) => ({ appId: r.id, retentionDays: r.retention_days }));
}

/** One app's part of one run of the retention job. */
export interface RetentionRun {
  appId: string;
  ranAt: number;
  cutoff: number;
  eventsDeleted: number;
  /** Sessions, profiles and identity rows of people last seen before the cutoff. */
  personRowsDeleted: number;
  error: string | null;
}

/** Logs a run (one row per app) and forgets runs older than 90 days. A repeated run at the same instant replaces its rows. */
export async function recordRetentionRuns(db: D1Database, runs: readonly RetentionRun[], now: number): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < runs.length; i += RUNS_PER_STATEMENT) {
    const chunk = runs.slice(i, i + RUNS_PER_STATEMENT);
    statements.push(
      db
        .prepare(
          `INSERT OR REPLACE INTO retention_runs (app_id, ran_at, cutoff, events_deleted, person_rows_deleted, error) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`,
        )
        .bind(...chunk.flatMap((r) => [r.appId, r.ranAt, r.cutoff, r.eventsDeleted, r.personRowsDeleted, r.error])),
    );
  }
  statements.push(db.prepare("DELETE FROM retention_runs WHERE ran_at < ?").bind(now - KEEP_RUNS_MS));
  await db.batch(statements);
}

/** The last run of the retention job for a live app of the scope; null before its first run or when the scope has no such app. */
export async function lastRetentionRun(db: D1Database, scope: AppScope, appId: string): Promise<RetentionRun | null> {
  const row = await db
    .prepare(
      `SELECT r.app_id, r.ran_at, r.cutoff, r.events_deleted, r.person_rows_deleted, r.error
       FROM retention_runs r JOIN apps a ON a.id = r.app_id
       WHERE r.app_id = ?2 AND a.deleted_at IS NULL AND (?1 IS NULL OR a.org_id = ?1)
       ORDER BY r.ran_at DESC LIMIT 1`,
    )
    .bind(scope.orgId, appId)
    .first<{ app_id: string; ran_at: number; cutoff: number; events_deleted: number; person_rows_deleted: number; error: string | null }>();
  return row
    ? { appId: row.app_id, ranAt: row.ran_at, cutoff: row.cutoff, eventsDeleted: row.events_deleted, personRowsDeleted: row.person_rows_deleted, error: row.error }
    : null;
}
