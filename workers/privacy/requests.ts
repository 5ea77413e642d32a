// Deletion requests and the privacy audit log in D1: the one owner of both, for the admin API,
// the dashboard and the cron job. Every read and write names the app.
import { storedIdOf } from "../apps/stored-ids";
import { SUPPRESSION_TTL_MS, suppressStatements } from "./suppression";
import { withStoredIds, type Subject } from "./subject";

/**
 * How long after a request its rows are deleted: the edge drops the person's new events within
 * SUPPRESSION_TTL_MS, and an event accepted just before then reaches ClickHouse within seconds
 * (a batcher flushes within FLUSH_MAX_AGE_MS); the rest is margin.
 */
export const DELETE_AFTER_MS = SUPPRESSION_TTL_MS + 90_000;

/** What a deletion removed, rows by table: `{events: 120, sessions: 4, user_profiles: 2, person_identities: 1, people_hourly: 6}`. */
export type RemovedRows = Record<string, number>;

/** A request to delete a person, as the API and the dashboard show it. Times are epoch ms. */
export interface DeletionRequest {
  id: string;
  appId: string;
  requested: Subject;
  /** The asked ids and every id linked to them, once the job resolved them. */
  resolved: Subject | null;
  status: "pending" | "done";
  requestedBy: string;
  requestedAt: number;
  /** Not deleted before then: the edge has stopped taking the person's events by that time. */
  notBefore: number;
  /** Runs that failed; each next minute tries again. */
  attempts: number;
  /** Why the last run failed; the next run tries again. */
  lastError: string | null;
  removed: RemovedRows;
  completedAt: number | null;
}

/** One line of the audit log: who did what to whose data, and when. */
export interface AuditEntry {
  id: number;
  requestId: string | null;
  action: "deletion_requested" | "deletion_completed" | "export";
  actor: string;
  at: number;
  detail: Record<string, unknown>;
}

interface RequestRow {
  id: string;
  app_id: string;
  requested: string;
  resolved: string | null;
  status: string;
  requested_by: string;
  requested_at: number;
  not_before: number;
  attempts: number;
  last_error: string | null;
  counts: string;
  completed_at: number | null;
}

/** Stored JSON text, or `fallback` when there is none or it does not parse. */
export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function toRequest(r: RequestRow): DeletionRequest {
  return {
    id: r.id,
    appId: r.app_id,
    requested: parseJson<Subject>(r.requested, { userIds: [], anonymousIds: [] }),
    resolved: parseJson<Subject | null>(r.resolved, null),
    status: r.status === "done" ? "done" : "pending",
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    notBefore: r.not_before,
    attempts: r.attempts,
    lastError: r.last_error,
    removed: parseJson<RemovedRows>(r.counts, {}),
    completedAt: r.completed_at,
  };
}

const COLUMNS = "id, app_id, requested, resolved, status, requested_by, requested_at, not_before, attempts, last_error, counts, completed_at";

/** An audit entry's statement, for a D1 batch beside the change it records. */
export function auditStatement(db: D1Database, appId: string, entry: Omit<AuditEntry, "id">): D1PreparedStatement {
  return db
    .prepare("INSERT INTO privacy_audit (app_id, request_id, action, actor, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
    .bind(appId, entry.requestId, entry.action, entry.actor, entry.at, JSON.stringify(entry.detail));
}

/**
 * Stores a request to delete `subject` and answers at once: the asked ids are suppressed at the
 * edge from now on, and the cron deletes their rows (and those of every linked id) after
 * DELETE_AFTER_MS. The request and its audit entry are written together.
 */
export async function requestDeletion(db: D1Database, appId: string, asked: Subject, actor: string, now = Date.now()): Promise<DeletionRequest> {
  const id = `del_${crypto.randomUUID().replace(/-/g, "")}`;
  const subject = withStoredIds(asked, await storedIdOf(db, appId));
  await db.batch([
    db
      .prepare("INSERT INTO privacy_requests (id, app_id, requested, requested_by, requested_at, not_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(id, appId, JSON.stringify(subject), actor, now, now + DELETE_AFTER_MS),
    ...suppressStatements(db, appId, subject, id, now),
    auditStatement(db, appId, { requestId: id, action: "deletion_requested", actor, at: now, detail: { ...asked } }),
  ]);
  const made = await getDeletion(db, appId, id);
  if (!made) throw new Error(`deletion request ${id} was not stored`);
  return made;
}

export async function getDeletion(db: D1Database, appId: string, id: string): Promise<DeletionRequest | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM privacy_requests WHERE app_id = ?1 AND id = ?2`).bind(appId, id).first<RequestRow>();
  return row ? toRequest(row) : null;
}

/** The app's deletion requests, newest first. */
export async function listDeletions(db: D1Database, appId: string, limit = 100): Promise<DeletionRequest[]> {
  const { results } = await db.prepare(`SELECT ${COLUMNS} FROM privacy_requests WHERE app_id = ?1 ORDER BY requested_at DESC, id LIMIT ?2`).bind(appId, limit).all<RequestRow>();
  return results.map(toRequest);
}

/** The app's audit log, newest first. */
export async function listAudit(db: D1Database, appId: string, limit = 100): Promise<AuditEntry[]> {
  const { results } = await db
    .prepare("SELECT id, request_id, action, actor, at, detail FROM privacy_audit WHERE app_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2")
    .bind(appId, limit)
    .all<{ id: number; request_id: string | null; action: AuditEntry["action"]; actor: string; at: number; detail: string }>();
  return results.map((r) => ({ id: r.id, requestId: r.request_id, action: r.action, actor: r.actor, at: r.at, detail: parseJson<Record<string, unknown>>(r.detail, {}) }));
}

/** Records that `actor` exported `subject`'s data. */
export async function recordExport(db: D1Database, appId: string, subject: Subject, actor: string, now = Date.now()): Promise<void> {
  await auditStatement(db, appId, { requestId: null, action: "export", actor, at: now, detail: { ...subject } }).run();
}
