// Deleting an app, the one use case behind the admin API, the dashboard (through AppsService)
// and the cron that finishes what a deletion left undone.
import { MAX_SHARD_COUNT } from "../../schemas";
import { pendingPurges, markPurged, tombstoneApp, type AppScope } from "./store";
import { errorText, log } from "../lib/log";

/** What a deletion acts on; the Worker's are in workers/apps/service.ts. */
export interface DeletionDeps {
  db: D1Database;
  /** Retires every batcher shard the app may have used: they drop their buffers and refuse its keys. */
  retire(appId: string): Promise<void>;
  /** Removes the app's rows from ClickHouse, its source maps from R2 and its crash rules and issue states from D1. */
  purge(appId: string): Promise<void>;
}

/** What became of a deletion: `purged` is false when the cron has to finish it. */
export interface DeletionResult {
  deleted: boolean;
  purged: boolean;
}

/**
 * What the edge Worker offers the dashboard over a service binding (AppsService). Deleting
 * needs the app's Durable Objects and a ClickHouse user allowed to delete, which only the
 * Worker has.
 */
export interface AppsApi {
  /** Deletes the organisation's app; `deleted` is false when it has no such live app. */
  deleteApp(orgId: string, appId: string): Promise<DeletionResult>;
}

/**
 * A purge counts as final once it ran this long after the deletion: by then no batch of the
 * app is still queued (the sink gives up on a message after about eight hours).
 */
export const PURGE_SETTLE_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes a live app of the scope. D1 first (tombstone and revoked keys in one batch), so the id
 * stays taken and the keys stop within 30 s whatever fails next; then its batchers are retired,
 * which stops its keys at once on every edge, and its rows are purged from ClickHouse. A failure
 * after the tombstone leaves the purge to the cron.
 */
export async function deleteApp(deps: DeletionDeps, scope: AppScope, appId: string, now = Date.now()): Promise<DeletionResult> {
  if (!(await tombstoneApp(deps.db, scope, appId, now))) return { deleted: false, purged: false };
  return { deleted: true, purged: await finishDeletion(deps, appId, { retire: true, now }) };
}

async function finishDeletion(deps: DeletionDeps, appId: string, opts: { retire: boolean; now: number }): Promise<boolean> {
  try {
    if (opts.retire) await deps.retire(appId);
    await deps.purge(appId);
    await markPurged(deps.db, appId, opts.now);
    return true;
  } catch (err) {
    log.warn("apps.delete_deferred", { app: appId, error: errorText(err) });
    return false;
  }
}

/**
 * The cron's part: retires and purges deleted apps a deletion did not finish, and purges again
 * those last purged too soon after their deletion for rows that landed late. Returns how many
 * apps are settled for now.
 */
export async function finishPendingDeletions(deps: DeletionDeps, now: number): Promise<{ purged: number; failed: number }> {
  let purged = 0;
  let failed = 0;
  for (const app of await pendingPurges(deps.db, PURGE_SETTLE_MS)) {
    if (await finishDeletion(deps, app.id, { retire: app.purgedAt === null, now })) purged++;
    else failed++;
  }
  return { purged, failed };
}

/** Every shard id an app may have used, whatever its shard count was over time. */
export const allShards = (): number[] => Array.from({ length: MAX_SHARD_COUNT }, (_, i) => i);
