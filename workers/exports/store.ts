// Export schedules and their run log in D1 (0019_exports.sql): the one place that reads and
// writes them. Every call names the app, so no query reaches another app's schedule. An S3
// destination's secret access key is sealed on the way in (workers/lib/seal.ts), read back only
// by the run, and never part of what is listed.
import type { CreateExport, ExportDestination, ExportDestinationInput, ExportFormat, ExportFrequency, ExportRun, ExportRunStatus, ExportSchedule, ExportSource, UpdateExport } from "../../schemas";
import { randomHex } from "../apps/keys";
import { seal, unseal } from "../lib/seal";
import { checkS3Endpoint } from "./endpoint";
import { sourceProblem } from "./sources";

const SEAL_PURPOSE = "edge-telemetry export credentials";

interface ScheduleRow {
  id: string;
  app_id: string;
  name: string;
  source: string;
  format: ExportFormat;
  frequency: ExportFrequency;
  destination: string;
  sealed_secret: string | null;
  enabled: number;
  created_at: number;
  created_by: string;
  updated_at: number;
}

interface RunRow {
  id: string;
  schedule_id: string;
  app_id: string;
  period_start: number;
  period_end: number;
  status: ExportRunStatus;
  attempts: number;
  next_attempt_at: number | null;
  rows: number | null;
  bytes: number | null;
  object_key: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

const SCHEDULE_COLUMNS = "s.id, s.app_id, s.name, s.source, s.format, s.frequency, s.destination, s.sealed_secret, s.enabled, s.created_at, s.created_by, s.updated_at";
const RUN_COLUMNS = "id, schedule_id, app_id, period_start, period_end, status, attempts, next_attempt_at, rows, bytes, object_key, error, started_at, finished_at";

const toSchedule = (r: ScheduleRow): ExportSchedule => ({
  id: r.id,
  appId: r.app_id,
  name: r.name,
  source: JSON.parse(r.source) as ExportSource,
  format: r.format,
  frequency: r.frequency,
  destination: JSON.parse(r.destination) as ExportDestination,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  createdBy: r.created_by,
  updatedAt: r.updated_at,
});

const toRun = (r: RunRow): ExportRun => ({
  id: r.id,
  scheduleId: r.schedule_id,
  appId: r.app_id,
  periodStart: r.period_start,
  periodEnd: r.period_end,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  rows: r.rows,
  bytes: r.bytes,
  objectKey: r.object_key,
  error: r.error,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** What storing needs: who changes it, when, the Worker secret credentials are sealed under, and whether local endpoints are allowed. */
export interface StoreOptions {
  by: string;
  sealSecret: string;
  localMode?: boolean;
  now?: number;
}

export type ScheduleChange = { ok: true; schedule: ExportSchedule } | { ok: false; reason: string };

/** The destination as stored (no secret) and its secret sealed for the schedule; or why it is refused. */
async function storedDestination(id: string, dest: ExportDestinationInput, opts: StoreOptions): Promise<{ ok: true; json: string; sealed: string | null } | { ok: false; reason: string }> {
  if (dest.kind === "r2") return { ok: true, json: JSON.stringify(dest), sealed: null };
  const checked = checkS3Endpoint(dest.endpoint, opts);
  if (!checked.ok) return checked;
  if (!opts.sealSecret) return { ok: false, reason: "this deployment cannot store credentials: set the OAUTH_KEY_SECRET secret first" };
  const { secretAccessKey, ...stored } = dest;
  return { ok: true, json: JSON.stringify(stored), sealed: await seal(opts.sealSecret, SEAL_PURPOSE, id, secretAccessKey) };
}

/** Creates a schedule for a live app; null when there is no such app. */
export async function createSchedule(db: D1Database, appId: string, input: CreateExport, opts: StoreOptions): Promise<ScheduleChange | null> {
  const app = await db.prepare("SELECT id FROM apps WHERE id = ?1 AND deleted_at IS NULL").bind(appId).first();
  if (app === null) return null;
  const problem = await sourceProblem(db, appId, input.source);
  if (problem !== null) return { ok: false, reason: problem };
  const id = `exp_${randomHex(12)}`;
  const dest = await storedDestination(id, input.destination, opts);
  if (!dest.ok) return dest;
  const now = opts.now ?? Date.now();
  await db
    .prepare(
      `INSERT INTO export_schedules (id, app_id, name, source, format, frequency, destination, sealed_secret, enabled, created_at, created_by, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10)`,
    )
    .bind(id, appId, input.name, JSON.stringify(input.source), input.format, input.frequency, dest.json, dest.sealed, input.enabled ? 1 : 0, now, opts.by)
    .run();
  const schedule = await getSchedule(db, appId, id);
  if (!schedule) throw new Error(`export schedule ${id} was not stored`);
  return { ok: true, schedule };
}

async function scheduleRow(db: D1Database, appId: string, id: string): Promise<ScheduleRow | null> {
  return db.prepare(`SELECT ${SCHEDULE_COLUMNS} FROM export_schedules s WHERE s.app_id = ?1 AND s.id = ?2`).bind(appId, id).first<ScheduleRow>();
}

/** One of the app's schedules, or null. */
export async function getSchedule(db: D1Database, appId: string, id: string): Promise<ExportSchedule | null> {
  const row = await scheduleRow(db, appId, id);
  return row ? toSchedule(row) : null;
}

/** The app's schedules, oldest first. */
export async function listSchedules(db: D1Database, appId: string): Promise<ExportSchedule[]> {
  const { results } = await db.prepare(`SELECT ${SCHEDULE_COLUMNS} FROM export_schedules s WHERE s.app_id = ?1 ORDER BY s.created_at, s.id`).bind(appId).all<ScheduleRow>();
  return results.map(toSchedule);
}

/** Changes a schedule; null when the app has no such schedule. A new destination replaces the stored secret. */
export async function updateSchedule(db: D1Database, appId: string, id: string, change: UpdateExport, opts: StoreOptions): Promise<ScheduleChange | null> {
  const row = await scheduleRow(db, appId, id);
  if (!row) return null;
  if (change.source) {
    const problem = await sourceProblem(db, appId, change.source);
    if (problem !== null) return { ok: false, reason: problem };
  }
  const dest = change.destination ? await storedDestination(id, change.destination, opts) : { ok: true as const, json: row.destination, sealed: row.sealed_secret };
  if (!dest.ok) return dest;
  await db
    .prepare(`UPDATE export_schedules SET name = ?3, source = ?4, format = ?5, frequency = ?6, destination = ?7, sealed_secret = ?8, enabled = ?9, updated_at = ?10 WHERE app_id = ?1 AND id = ?2`)
    .bind(
      appId,
      id,
      change.name ?? row.name,
      change.source ? JSON.stringify(change.source) : row.source,
      change.format ?? row.format,
      change.frequency ?? row.frequency,
      dest.json,
      dest.sealed,
      change.enabled === undefined ? row.enabled : change.enabled ? 1 : 0,
      opts.now ?? Date.now(),
    )
    .run();
  const schedule = await getSchedule(db, appId, id);
  return schedule ? { ok: true, schedule } : null;
}

/** Deletes a schedule and its run log (files already written stay); false when there was none. */
export async function deleteSchedule(db: D1Database, appId: string, id: string): Promise<boolean> {
  const [, deleted] = await db.batch([
    db.prepare("DELETE FROM export_runs WHERE app_id = ?1 AND schedule_id = ?2").bind(appId, id),
    db.prepare("DELETE FROM export_schedules WHERE app_id = ?1 AND id = ?2").bind(appId, id),
  ]);
  return (deleted?.meta.changes ?? 0) > 0;
}

/** A schedule with what its run needs beyond the listing: the app's data location and its destination's secret. */
export interface RunnableSchedule {
  schedule: ExportSchedule;
  location: string;
  orgId: string;
  secretAccessKey: string | null;
}

/** The schedule of a run, with its app's location and secret unsealed; null when the schedule or the app is gone. */
export async function runnableSchedule(db: D1Database, sealSecret: string, scheduleId: string): Promise<RunnableSchedule | null> {
  const row = await db
    .prepare(`SELECT ${SCHEDULE_COLUMNS}, a.location AS location, a.org_id AS org_id FROM export_schedules s JOIN apps a ON a.id = s.app_id WHERE s.id = ?1 AND a.deleted_at IS NULL`)
    .bind(scheduleId)
    .first<ScheduleRow & { location: string; org_id: string | null }>();
  if (!row) return null;
  const secretAccessKey = row.sealed_secret === null ? null : await unseal(sealSecret, SEAL_PURPOSE, row.id, row.sealed_secret);
  return { schedule: toSchedule(row), location: row.location, orgId: row.org_id ?? "", secretAccessKey };
}

/** Enabled schedules of live apps, for the cron. */
export async function enabledSchedules(db: D1Database): Promise<ExportSchedule[]> {
  const { results } = await db
    .prepare(`SELECT ${SCHEDULE_COLUMNS} FROM export_schedules s JOIN apps a ON a.id = s.app_id WHERE s.enabled = 1 AND a.deleted_at IS NULL ORDER BY s.id`)
    .all<ScheduleRow>();
  return results.map(toSchedule);
}

/** The run of a schedule's period, recorded as pending when there was none yet. */
export async function ensureRun(db: D1Database, schedule: ExportSchedule, period: { start: number; end: number }, now: number): Promise<ExportRun> {
  await db
    .prepare(
      `INSERT INTO export_runs (id, schedule_id, app_id, period_start, period_end, status, next_attempt_at, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6) ON CONFLICT (schedule_id, period_start) DO NOTHING`,
    )
    .bind(`exr_${randomHex(12)}`, schedule.id, schedule.appId, period.start, period.end, now)
    .run();
  const row = await db.prepare(`SELECT ${RUN_COLUMNS} FROM export_runs WHERE schedule_id = ?1 AND period_start = ?2`).bind(schedule.id, period.start).first<RunRow>();
  if (!row) throw new Error(`export run of ${schedule.id} at ${period.start} was not stored`);
  return toRun(row);
}

/** One of the app's runs, or null. */
export async function getRun(db: D1Database, appId: string, id: string): Promise<ExportRun | null> {
  const row = await db.prepare(`SELECT ${RUN_COLUMNS} FROM export_runs WHERE app_id = ?1 AND id = ?2`).bind(appId, id).first<RunRow>();
  return row ? toRun(row) : null;
}

/** A schedule's runs, newest period first. */
export async function listRuns(db: D1Database, appId: string, scheduleId: string, limit = 50): Promise<ExportRun[]> {
  const { results } = await db
    .prepare(`SELECT ${RUN_COLUMNS} FROM export_runs WHERE app_id = ?1 AND schedule_id = ?2 ORDER BY period_start DESC LIMIT ?3`)
    .bind(appId, scheduleId, Math.min(Math.max(1, limit), 500))
    .all<RunRow>();
  return results.map(toRun);
}

/** Runs whose next attempt is due, oldest first. */
export async function dueRuns(db: D1Database, now: number, limit: number): Promise<ExportRun[]> {
  const { results } = await db
    .prepare(`SELECT ${RUN_COLUMNS} FROM export_runs WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2`)
    .bind(now, limit)
    .all<RunRow>();
  return results.map(toRun);
}

/**
 * Takes a run for an attempt: running, one more attempt. False when another cron run or a
 * "run now" took it first. A run left running longer than `staleAfterMs` (its Worker died) may
 * be taken again; `force` takes a finished run again (an export run by hand).
 */
export async function claimRun(db: D1Database, id: string, now: number, opts: { staleAfterMs: number; force?: boolean }): Promise<boolean> {
  const statuses = opts.force ? "('pending', 'retrying', 'ok', 'failed')" : "('pending', 'retrying')";
  const res = await db
    .prepare(
      `UPDATE export_runs SET status = 'running', attempts = CASE WHEN ?3 = 1 AND status IN ('ok', 'failed') THEN 1 ELSE attempts + 1 END, started_at = ?2, finished_at = NULL, error = NULL
       WHERE id = ?1 AND (status IN ${statuses} OR (status = 'running' AND started_at < ?2 - ?4))`,
    )
    .bind(id, now, opts.force ? 1 : 0, opts.staleAfterMs)
    .run();
  return res.meta.changes > 0;
}

/** Records a run's attempt: done with its file, or failed with the error and, unless it gave up, when to try again. */
export async function finishRun(
  db: D1Database,
  id: string,
  outcome: { ok: true; rows: number; bytes: number; objectKey: string } | { ok: false; error: string; retryAt: number | null },
  now: number,
): Promise<ExportRun> {
  if (outcome.ok) {
    await db
      .prepare(`UPDATE export_runs SET status = 'ok', rows = ?2, bytes = ?3, object_key = ?4, error = NULL, next_attempt_at = NULL, finished_at = ?5 WHERE id = ?1`)
      .bind(id, outcome.rows, outcome.bytes, outcome.objectKey, now)
      .run();
  } else {
    await db
      .prepare(`UPDATE export_runs SET status = ?2, error = ?3, next_attempt_at = ?4, finished_at = ?5 WHERE id = ?1`)
      .bind(id, outcome.retryAt === null ? "failed" : "retrying", outcome.error.slice(0, 1000), outcome.retryAt, now)
      .run();
  }
  const row = await db.prepare(`SELECT ${RUN_COLUMNS} FROM export_runs WHERE id = ?1`).bind(id).first<RunRow>();
  if (!row) throw new Error(`export run ${id} is gone`);
  return toRun(row);
}
