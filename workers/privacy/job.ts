// The cron's half of a deletion: resolve the person's linked ids, suppress them at the edge, and
// once the edge has stopped taking their events, delete their rows from every per-person table,
// counting what went. A failed run leaves the request pending with its error for the next run.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { describeClickHouseError } from "../lib/clickhouse";
import { auditStatement, DELETE_AFTER_MS, toRequest, type DeletionRequest, type RemovedRows } from "./requests";
import { clientRead, linkedSubject, MAX_LINKED_IDS, OWN_EVENTS, sameSubject, subjectParams, type Subject } from "./subject";
import { suppressStatements } from "./suppression";

/** Requests one run takes on: each may wait on several mutations. */
const PER_RUN = 10;
/** How long a run holds a request; one that dies mid-way frees it for a later run after this. */
const LEASE_MS = 15 * 60_000;
/** Session ids per mutation: they travel in the request's URL. */
const SESSIONS_PER_DELETE = 1000;

/** Who the audit log names for what the job did. */
export const JOB_ACTOR = "system";

export interface DeletionDeps {
  db: D1Database;
  client: ClickHouseClient;
}

export interface DeletionRun {
  done: number;
  /** Requests whose linked ids were just found, or whose time has not come. */
  waiting: number;
  failed: Array<{ id: string; appId: string; error: string }>;
}

/**
 * The per-person tables and which of their rows are the subject's. Aggregates whose states only
 * count people (users_daily, users_daily_dims, crash and release rollups: uniq sketches of
 * hashed ids) cannot give a person back and stay. Events go last: the sessions to delete are found
 * through them, so a run that fails half-way still finds them next time.
 */
const TABLES: ReadonlyArray<{ table: string; where: string }> = [
  { table: "sessions", where: `(session_id IN {s:Array(String)} OR ${OWN_EVENTS})` },
  { table: "user_profiles", where: "(user_key IN {u:Array(String)} OR user_key IN {a:Array(String)} OR user_id IN {u:Array(String)})" },
  { table: "person_identities", where: "anonymous_id IN {a:Array(String)}" },
  { table: "people_hourly", where: OWN_EVENTS },
  { table: "events", where: OWN_EVENTS },
];

async function count(client: ClickHouseClient, table: string, where: string, params: Record<string, unknown>): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM {t:Identifier} WHERE app_id = {app:String} AND ${where}`, query_params: { ...params, t: table }, format: "JSONEachRow" });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

/** Deletes the subject's rows of one table, waiting until the mutation is done; returns the rows it removed. */
async function deleteRows(client: ClickHouseClient, table: string, where: string, params: Record<string, unknown>): Promise<number> {
  const n = await count(client, table, where, params);
  if (n === 0) return 0;
  // A mutation rewrites the parts that hold the rows, so they are gone from disk when it returns
  // (a lightweight DELETE would only mask them until the parts merge).
  await client.command({ query: `ALTER TABLE {t:Identifier} DELETE WHERE app_id = {app:String} AND ${where}`, query_params: { ...params, t: table }, clickhouse_settings: { mutations_sync: "2" } });
  return n;
}

async function sessionIdsOf(client: ClickHouseClient, appId: string, subject: Subject): Promise<string[]> {
  const read = clientRead(client, appId);
  const rows = await read<{ session_id: string }>(`SELECT DISTINCT session_id FROM events WHERE app_id = {app:String} AND session_id != '' AND ${OWN_EVENTS}`, subjectParams(subject));
  return rows.map((r) => r.session_id);
}

const union = (x: Subject, y: Subject | null): Subject => ({
  userIds: [...new Set([...x.userIds, ...(y?.userIds ?? [])])],
  anonymousIds: [...new Set([...x.anonymousIds, ...(y?.anonymousIds ?? [])])],
});

/** Removes the subject's rows, table by table; the counts are saved after each so a retry adds to them. */
async function deleteSubject(deps: DeletionDeps, req: DeletionRequest, subject: Subject): Promise<RemovedRows> {
  const removed: RemovedRows = { ...req.removed };
  const base = { app: req.appId, ...subjectParams(subject) };
  const sessions = await sessionIdsOf(deps.client, req.appId, subject);
  for (const { table, where } of TABLES) {
    let n = 0;
    if (table === "sessions") {
      // At least once, even without session ids: summaries are also found by the person's ids.
      for (let i = 0; i === 0 || i < sessions.length; i += SESSIONS_PER_DELETE) n += await deleteRows(deps.client, table, where, { ...base, s: sessions.slice(i, i + SESSIONS_PER_DELETE) });
    } else {
      n = await deleteRows(deps.client, table, where, base);
    }
    removed[table] = (removed[table] ?? 0) + n;
    await deps.db.prepare("UPDATE privacy_requests SET counts = ?1 WHERE id = ?2").bind(JSON.stringify(removed), req.id).run();
  }
  return removed;
}

/** One step of one request: resolve and suppress its ids, and delete its rows when their time has come. */
async function step(deps: DeletionDeps, req: DeletionRequest, now: number): Promise<"done" | "waiting"> {
  const { subject, complete } = await linkedSubject(clientRead(deps.client, req.appId), union(req.requested, req.resolved));
  if (!complete) throw new Error(`more than ${MAX_LINKED_IDS} ids are linked to this person by identify and alias; nothing was deleted`);
  if (req.resolved === null || !sameSubject(subject, req.resolved)) {
    // Ids found just now are suppressed first; their rows go once the edge drops their events too.
    const grew = !sameSubject(subject, union(req.requested, req.resolved));
    const notBefore = grew ? Math.max(req.notBefore, now + DELETE_AFTER_MS) : req.notBefore;
    await deps.db.batch([
      deps.db.prepare("UPDATE privacy_requests SET resolved = ?1, not_before = ?2 WHERE id = ?3").bind(JSON.stringify(subject), notBefore, req.id),
      ...suppressStatements(deps.db, req.appId, subject, req.id, now),
    ]);
    req = { ...req, resolved: subject, notBefore };
  }
  if (now < req.notBefore) return "waiting";
  const removed = await deleteSubject(deps, req, subject);
  await deps.db.batch([
    deps.db.prepare("UPDATE privacy_requests SET status = 'done', completed_at = ?1, last_error = NULL, lease_until = NULL, counts = ?2 WHERE id = ?3").bind(now, JSON.stringify(removed), req.id),
    auditStatement(deps.db, req.appId, { requestId: req.id, action: "deletion_completed", actor: JOB_ACTOR, at: now, detail: { ...subject, removed } }),
    // Dashboard cards computed before the deletion may name the person (a breakdown by a property).
    deps.db.prepare("DELETE FROM card_results WHERE app_id = ?1").bind(req.appId),
  ]);
  return "done";
}

/** One cron run: the pending requests of live apps, oldest first, each on its own. */
export async function runDeletions(deps: DeletionDeps, now: number): Promise<DeletionRun> {
  const { results } = await deps.db
    .prepare(
      `SELECT r.id, r.app_id, r.requested, r.resolved, r.status, r.requested_by, r.requested_at, r.not_before, r.attempts, r.last_error, r.counts, r.completed_at
       FROM privacy_requests r JOIN apps a ON a.id = r.app_id AND a.deleted_at IS NULL
       WHERE r.status = 'pending' AND (r.lease_until IS NULL OR r.lease_until <= ?1)
       ORDER BY r.requested_at LIMIT ?2`,
    )
    .bind(now, PER_RUN)
    .all<Parameters<typeof toRequest>[0]>();
  const run: DeletionRun = { done: 0, waiting: 0, failed: [] };
  for (const row of results) {
    const claim = await deps.db
      .prepare("UPDATE privacy_requests SET lease_until = ?1 WHERE id = ?2 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?3)")
      .bind(now + LEASE_MS, row.id, now)
      .run();
    if (claim.meta.changes === 0) continue;
    const req = toRequest(row);
    try {
      if ((await step(deps, req, now)) === "done") run.done += 1;
      else {
        run.waiting += 1;
        await deps.db.prepare("UPDATE privacy_requests SET lease_until = NULL WHERE id = ?1").bind(req.id).run();
      }
    } catch (err) {
      const error = describeClickHouseError(err).slice(0, 500);
      run.failed.push({ id: req.id, appId: req.appId, error });
      await deps.db.prepare("UPDATE privacy_requests SET lease_until = NULL, last_error = ?1, attempts = attempts + 1 WHERE id = ?2").bind(error, req.id).run();
    }
  }
  return run;
}
