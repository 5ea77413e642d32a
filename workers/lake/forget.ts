// A person's deletion in the data lake: once the privacy job has deleted their rows from ClickHouse,
// every file of the app's lake is gone through, and one holding their events is rewritten without
// them by ClickHouse (loaded into a temporary table, selected back as Parquet to the same
// key), a page of files a run (docs/decisions/0025-data-lake.md).
import type { AppLocation } from "../../schemas";
import { archiveBucket } from "../apps/location";
import { toLocation } from "../apps/store";
import { insertFile } from "../lib/clickhouse";
import { parseJson } from "../privacy/requests";
import { OWN_EVENTS, subjectParams, type Subject } from "../privacy/subject";
import { eventColumns, rows, writeParquet, type LakeDeps } from "./archive";
import { filesAfter, recordFiles, type LakeFile } from "./manifest";
import { withScratchTable } from "../lib/scratch";

/** Files gone through per run, across requests: each is read from R2 into ClickHouse once. */
const FILES_PER_RUN = 50;

interface PendingForget {
  id: string;
  appId: string;
  location: AppLocation;
  subject: Subject;
  cursor: string | null;
}

async function pending(db: D1Database, limit: number): Promise<PendingForget[]> {
  const { results } = await db
    .prepare(
      `SELECT r.id, r.app_id, r.resolved, r.lake_cursor, a.location FROM privacy_requests r JOIN apps a ON a.id = r.app_id AND a.deleted_at IS NULL
       WHERE r.status = 'done' AND r.lake_done_at IS NULL ORDER BY r.completed_at, r.id LIMIT ?1`,
    )
    .bind(limit)
    .all<{ id: string; app_id: string; resolved: string | null; lake_cursor: string | null; location: string | null }>();
  return results.map((r) => ({ id: r.id, appId: r.app_id, location: toLocation(r.location), subject: parseJson<Subject>(r.resolved, { userIds: [], anonymousIds: [] }), cursor: r.lake_cursor }));
}

type Outcome = { file: LakeFile } | { removed: LakeFile } | null;

/** Rewrites one file without the subject's events; null when it holds none of them. */
async function rewriteWithout(deps: LakeDeps & { clickhouse: Parameters<typeof insertFile>[0] }, bucket: R2Bucket, appId: string, f: LakeFile, subject: Subject, schema: string, now: number): Promise<Outcome> {
  const object = await bucket.get(f.key);
  if (object === null) return null;
  return withScratchTable(deps.client, "lake_forget_", { like: "events" }, async (t) => {
    await insertFile(deps.clickhouse, { table: t, format: "Parquet", body: object.body });
    const params = { t, app: appId, ...subjectParams(subject) };
    const [held] = await rows<{ theirs: string; kept: string; min_ts: string; max_ts: string }>(
      deps.client,
      `SELECT countIf(${OWN_EVENTS}) AS theirs, countIf(NOT ${OWN_EVENTS}) AS kept,
              toUnixTimestamp64Milli(minIf(timestamp, NOT ${OWN_EVENTS})) AS min_ts, toUnixTimestamp64Milli(maxIf(timestamp, NOT ${OWN_EVENTS})) AS max_ts
       FROM {t:Identifier} WHERE app_id = {app:String}`,
      params,
    );
    if (held === undefined || Number(held.theirs) === 0) return null;
    if (Number(held.kept) === 0) {
      await bucket.delete(f.key);
      return { removed: f };
    }
    const written = await writeParquet(deps, bucket, f.key, `SELECT * FROM {t:Identifier} WHERE app_id = {app:String} AND NOT ${OWN_EVENTS} ORDER BY timestamp, message_id`, params);
    return {
      file: { ...f, rows: Number(held.kept), bytes: written.bytes, minTimestamp: new Date(Number(held.min_ts)).toISOString(), maxTimestamp: new Date(Number(held.max_ts)).toISOString(), schema, writtenAt: new Date(now).toISOString() },
    };
  });
}

/** What one run did: files rewritten or removed, requests whose lake is now clean, and failures. */
export interface ForgetRun {
  rewritten: number;
  done: number;
  failed: Array<{ id: string; appId: string; error: string }>;
}

/**
 * Goes on with the deletions ClickHouse is done with: the next files of each app's lake, in key
 * order, until {@link FILES_PER_RUN}. A request's cursor is saved after each page, so a failed
 * or cut-off run goes on where it stopped; its lake is done when no file is left after the cursor.
 */
export async function forgetInLakes(deps: LakeDeps & { db: D1Database; clickhouse: Parameters<typeof insertFile>[0] }, now: number): Promise<ForgetRun> {
  const run: ForgetRun = { rewritten: 0, done: 0, failed: [] };
  let budget = FILES_PER_RUN;
  for (const req of await pending(deps.db, 10)) {
    if (budget === 0) break;
    const bucket = archiveBucket(deps.buckets, req.location);
    try {
      const files = await filesAfter(bucket, req.appId, { after: req.cursor ?? undefined, limit: budget });
      budget -= files.length;
      const { id: schema, columns } = await eventColumns(deps.client);
      const written: LakeFile[] = [];
      const removed: LakeFile[] = [];
      for (const f of files) {
        const outcome = await rewriteWithout(deps, bucket, req.appId, f, req.subject, schema, now);
        if (outcome !== null && "file" in outcome) written.push(outcome.file);
        if (outcome !== null && "removed" in outcome) removed.push(outcome.removed);
      }
      if (written.length + removed.length > 0) await recordFiles(bucket, req.appId, { files: written, removed, schemas: { [schema]: columns }, archivedThrough: 0 }, now);
      run.rewritten += written.length + removed.length;
      const last = files.at(-1);
      if (budget > 0 || last === undefined) {
        await deps.db.prepare("UPDATE privacy_requests SET lake_cursor = ?1, lake_done_at = ?2 WHERE id = ?3").bind(last?.key ?? req.cursor, now, req.id).run();
        run.done += 1;
      } else {
        await deps.db.prepare("UPDATE privacy_requests SET lake_cursor = ?1 WHERE id = ?2").bind(last.key, req.id).run();
      }
    } catch (err) {
      run.failed.push({ id: req.id, appId: req.appId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return run;
}
