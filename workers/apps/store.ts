// Apps and their write keys in D1: the one place that reads and writes them, for the admin API,
// ingest, the dashboard and the test seeds. Every call names a scope: one organisation, or the
// operator (admin API, jobs), who sees every organisation's apps. A deleted app is a tombstone
// that every read here ignores and that keeps its id taken for good.
import { AppLocation, AttributionSettings, DEFAULT_ATTRIBUTION, LIMITS, UrlTemplates, type AppInfo, type CreateApp, type WriteKeyInfo } from "../../schemas";
import { hashWriteKey, newWriteKey, randomHex, writeKeyPrefix } from "./keys";
import { SHARD_SWITCH_DELAY_MS, shardsLockedUntil, toShardKey } from "./shards";

/** Whose apps a call may touch. */
export interface AppScope {
  /** null: every organisation's, and apps that belong to none yet. */
  readonly orgId: string | null;
}

/** The operator's scope: the admin API and scheduled jobs. */
export const OPERATOR: AppScope = { orgId: null };

/** One organisation's apps. */
export const inOrg = (orgId: string): AppScope => ({ orgId });

interface AppRow {
  id: string;
  name: string;
  created_at: number;
  rate_limit: number;
  shard_count: number;
  shard_key: string;
  auto_shards: number;
  previous_shard_count: number | null;
  shards_from: number | null;
  retention_days: number;
  redaction_policy: string | null;
  location: string;
}

interface KeyRow {
  id: string;
  app_id: string;
  prefix: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

const APP_COLUMNS = "id, name, created_at, rate_limit, shard_count, shard_key, auto_shards, previous_shard_count, shards_from, retention_days, redaction_policy, location";
const KEY_COLUMNS = "id, app_id, prefix, name, created_at, revoked_at";
// ?1 is the scope's organisation (or null); live apps only.
const LIVE_IN_SCOPE = "deleted_at IS NULL AND (?1 IS NULL OR org_id = ?1)";

const toApp = (r: AppRow): AppInfo => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  rateLimit: r.rate_limit,
  shardCount: r.shard_count,
  shardKey: toShardKey(r.shard_key),
  autoShards: r.auto_shards !== 0,
  previousShardCount: r.previous_shard_count,
  shardsFrom: r.shards_from,
  retentionDays: r.retention_days,
  redactionPolicy: r.redaction_policy,
  location: toLocation(r.location),
});

/** A stored location; anything D1 holds that is not a known one reads as the default. */
export const toLocation = (stored: string | null | undefined): AppLocation => (stored === "eu" ? "eu" : "default");
const toKey = (r: KeyRow): WriteKeyInfo => ({ id: r.id, appId: r.app_id, prefix: r.prefix, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at });

/**
 * Creates an app in the scope's organisation with a fresh HMAC salt. "unavailable" when the id
 * is held by any app, live or deleted, in any organisation: the answer never says which.
 */
export async function createApp(db: D1Database, scope: AppScope, input: CreateApp): Promise<AppInfo | "unavailable"> {
  const result = await db
    .prepare(
      `INSERT INTO apps (id, name, created_at, rate_limit, shard_count, retention_days, redaction_policy, hash_salt, org_id, location, auto_shards)
       VALUES (?1, ?2, ?3, coalesce(?4, 2000), coalesce(?5, 1), coalesce(?6, 90), ?7, ?8, ?9, ?10, ?11)
       ON CONFLICT(id) DO NOTHING`,
    )
    .bind(
      input.id,
      input.name,
      Date.now(),
      input.rateLimit ?? null,
      input.shardCount ?? null,
      input.retentionDays ?? null,
      input.redactionPolicy ? JSON.stringify(input.redactionPolicy) : null,
      randomHex(32),
      scope.orgId,
      input.location ?? "default",
      input.autoShards === false ? 0 : 1,
    )
    .run();
  if (result.meta.changes === 0) return "unavailable";
  const app = await getApp(db, scope, input.id);
  if (!app) throw new Error(`app ${input.id} was not stored`);
  return app;
}

/** A live app in the scope, or null. */
export async function getApp(db: D1Database, scope: AppScope, id: string): Promise<AppInfo | null> {
  const row = await db.prepare(`SELECT ${APP_COLUMNS} FROM apps WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id).first<AppRow>();
  return row ? toApp(row) : null;
}

/** The scope's live apps, oldest first. */
export async function listApps(db: D1Database, scope: AppScope): Promise<AppInfo[]> {
  const rs = await db.prepare(`SELECT ${APP_COLUMNS} FROM apps WHERE ${LIVE_IN_SCOPE} ORDER BY created_at, id`).bind(scope.orgId).all<AppRow>();
  return rs.results.map(toApp);
}

/** Renames a live app; false when the scope has no such app. */
export async function renameApp(db: D1Database, scope: AppScope, id: string, name: string): Promise<boolean> {
  const r = await db.prepare(`UPDATE apps SET name = ?3 WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id, name).run();
  return r.meta.changes > 0;
}

/**
 * Where an app's batchers and archives live, deleted apps included (their batchers are retired
 * and their archives removed after the tombstone); null when no app ever had the id.
 */
export async function appLocation(db: D1Database, id: string): Promise<AppLocation | null> {
  const row = await db.prepare("SELECT location FROM apps WHERE id = ?").bind(id).first<{ location: string }>();
  return row ? toLocation(row.location) : null;
}

/** What an app's settings form changes; `redactionPolicy` as stored JSON, null for the defaults. */
export interface AppSettingsChange {
  rateLimit: number;
  shardCount: number;
  autoShards: boolean;
  retentionDays: number;
  redactionPolicy: string | null;
}

/** What saving an app's settings did. */
export type SettingsSaved =
  | { status: "saved"; shardChange: { from: number; to: number; at: number } | null }
  | { status: "missing" }
  /** The shard count changed less than a dedup window ago: it may change again at `until` (epoch ms). */
  | { status: "shards_locked"; until: number };

/**
 * Saves a live app's settings. The edge applies them within a minute; a shorter retention takes
 * effect at the retention job's next daily run; a new shard count takes effect
 * SHARD_SWITCH_DELAY_MS after `now`, and is refused while the last change's dedup window lasts
 * (workers/apps/shards.ts). The check and the change are one statement, so two saves cannot race.
 */
export async function updateAppSettings(db: D1Database, scope: AppScope, id: string, s: AppSettingsChange, now = Date.now()): Promise<SettingsSaved> {
  const lockedAfter = now - LIMITS.dedupWindowMs;
  const from = now + SHARD_SWITCH_DELAY_MS;
  const row = await db
    .prepare(
      `UPDATE apps SET rate_limit = ?3, retention_days = ?5, redaction_policy = ?6, auto_shards = ?9,
         previous_shard_count = CASE WHEN shard_count != ?4 THEN shard_count ELSE previous_shard_count END,
         previous_shard_key = CASE WHEN shard_count != ?4 THEN shard_key ELSE previous_shard_key END,
         shard_key = CASE WHEN shard_count != ?4 THEN 'device' ELSE shard_key END,
         shards_from = CASE WHEN shard_count != ?4 THEN ?7 ELSE shards_from END,
         shard_count = ?4
       WHERE ${LIVE_IN_SCOPE} AND id = ?2 AND (shard_count = ?4 OR shards_from IS NULL OR shards_from <= ?8)
       RETURNING previous_shard_count AS previous, shards_from AS since`,
    )
    .bind(scope.orgId, id, s.rateLimit, s.shardCount, s.retentionDays, s.redactionPolicy, from, lockedAfter, s.autoShards ? 1 : 0)
    .first<{ previous: number | null; since: number | null }>();
  if (row) return { status: "saved", shardChange: row.since === from && row.previous !== null ? { from: row.previous, to: s.shardCount, at: from } : null };
  const current = await db.prepare(`SELECT shards_from FROM apps WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id).first<{ shards_from: number | null }>();
  if (!current) return { status: "missing" };
  return { status: "shards_locked", until: shardsLockedUntil({ shardsFrom: current.shards_from }, now) ?? now };
}

/**
 * Raises a live app's shard count from `from` to `to` because its shards are busy: the same
 * change a saved setting makes, taking effect SHARD_SWITCH_DELAY_MS after `now`, on condition
 * that the app still has automatic sharding on, still has `from` shards and is past the last
 * change's dedup window. One statement, so the app's shards asking at once raise it once.
 * The time the new count takes effect, or null when nothing changed.
 */
export async function raiseShardsAutomatically(db: D1Database, id: string, from: number, to: number, now = Date.now()): Promise<number | null> {
  const at = now + SHARD_SWITCH_DELAY_MS;
  const row = await db
    .prepare(
      `UPDATE apps SET previous_shard_count = shard_count, previous_shard_key = shard_key, shard_key = 'device', shards_from = ?5, shard_count = ?4
       WHERE ${LIVE_IN_SCOPE} AND id = ?2 AND auto_shards = 1 AND shard_count = ?3 AND ?4 > shard_count AND (shards_from IS NULL OR shards_from <= ?6)
       RETURNING shards_from AS since`,
    )
    .bind(OPERATOR.orgId, id, from, to, at, now - LIMITS.dedupWindowMs)
    .first<{ since: number }>();
  return row ? row.since : null;
}

/**
 * A stored template list, checked again on the way out: a value D1 holds that no longer
 * parses is treated as none rather than breaking ingest or the settings page.
 */
export function parseUrlTemplates(stored: string | null): string[] {
  if (stored === null) return [];
  try {
    const parsed = UrlTemplates.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** A live app's URL templates in the order they are tried; null when the scope has no such app. */
export async function getUrlTemplates(db: D1Database, scope: AppScope, id: string): Promise<string[] | null> {
  const row = await db.prepare(`SELECT url_templates FROM apps WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id).first<{ url_templates: string | null }>();
  return row ? parseUrlTemplates(row.url_templates) : null;
}

/**
 * Replaces a live app's URL templates (checked with `UrlTemplates` by the caller); false when
 * the scope has no such app. The edge applies them within a minute, to calls received after.
 */
export async function setUrlTemplates(db: D1Database, scope: AppScope, id: string, templates: readonly string[]): Promise<boolean> {
  const stored = templates.length === 0 ? null : JSON.stringify(templates);
  const r = await db.prepare(`UPDATE apps SET url_templates = ?3 WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id, stored).run();
  return r.meta.changes > 0;
}

/** Stored attribution settings, checked again on the way out: a value that no longer parses gives the defaults. */
export function parseAttribution(stored: string | null): AttributionSettings {
  if (stored === null) return DEFAULT_ATTRIBUTION;
  try {
    const parsed = AttributionSettings.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : DEFAULT_ATTRIBUTION;
  } catch {
    return DEFAULT_ATTRIBUTION;
  }
}

/** A live app's attribution settings (the defaults until it saves its own); null when the scope has no such app. */
export async function getAttribution(db: D1Database, scope: AppScope, id: string): Promise<AttributionSettings | null> {
  const row = await db.prepare(`SELECT attribution FROM apps WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id).first<{ attribution: string | null }>();
  return row ? parseAttribution(row.attribution) : null;
}

/** Replaces a live app's attribution settings (checked with `AttributionSettings` by the caller); false when the scope has no such app. */
export async function setAttribution(db: D1Database, scope: AppScope, id: string, settings: AttributionSettings): Promise<boolean> {
  const r = await db.prepare(`UPDATE apps SET attribution = ?3 WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id, JSON.stringify(settings)).run();
  return r.meta.changes > 0;
}

/** A new key in full (the only time it is shown), or why there is none. */
export type CreatedKey = (WriteKeyInfo & { key: string }) | "no_app" | "key_in_use";

/**
 * Creates a write key for a live app of the scope: D1 keeps its SHA-256 and prefix. A given
 * `key` (local seeding) that already belongs to this app is returned again; one held by another
 * app, or revoked, is "key_in_use".
 */
export async function createWriteKey(db: D1Database, scope: AppScope, appId: string, opts: { name: string; key?: string }): Promise<CreatedKey> {
  if (!(await getApp(db, scope, appId))) return "no_app";
  const key = opts.key ?? newWriteKey();
  const hash = await hashWriteKey(key);
  const existing = await db.prepare(`SELECT ${KEY_COLUMNS} FROM write_keys WHERE key_hash = ?`).bind(hash).first<KeyRow>();
  if (existing) return existing.app_id === appId && existing.revoked_at === null ? { ...toKey(existing), key } : "key_in_use";
  const info: WriteKeyInfo = { id: `key_${randomHex(8)}`, appId, prefix: writeKeyPrefix(key), name: opts.name, createdAt: Date.now(), revokedAt: null };
  await db
    .prepare("INSERT INTO write_keys (id, app_id, key_hash, prefix, name, created_at) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(info.id, appId, hash, info.prefix, info.name, info.createdAt)
    .run();
  return { ...info, key };
}

/** A live app's write keys, prefixes only, newest first; empty when the scope has no such app. */
export async function listWriteKeys(db: D1Database, scope: AppScope, appId: string): Promise<WriteKeyInfo[]> {
  const rs = await db
    .prepare(`SELECT ${KEY_COLUMNS} FROM write_keys WHERE app_id = ?2 AND app_id IN (SELECT id FROM apps WHERE ${LIVE_IN_SCOPE}) ORDER BY created_at DESC, id`)
    .bind(scope.orgId, appId)
    .all<KeyRow>();
  return rs.results.map(toKey);
}

/** Revokes a key of a live app of the scope; null when there is no such key. Ingest refuses it within 30 s. */
export async function revokeWriteKey(db: D1Database, scope: AppScope, appId: string, keyId: string): Promise<WriteKeyInfo | null> {
  const row = await db
    .prepare(
      `UPDATE write_keys SET revoked_at = coalesce(revoked_at, ?4)
       WHERE app_id = ?2 AND id = ?3 AND app_id IN (SELECT id FROM apps WHERE ${LIVE_IN_SCOPE})
       RETURNING ${KEY_COLUMNS}`,
    )
    .bind(scope.orgId, appId, keyId, Date.now())
    .first<KeyRow>();
  return row ? toKey(row) : null;
}

/**
 * Marks a live app of the scope deleted and revokes its keys, in one batch; false when the
 * scope has no such app. From here on every read ignores it and its id stays taken; the caller
 * retires its batchers and purges its rows (workers/apps/delete.ts).
 */
export async function tombstoneApp(db: D1Database, scope: AppScope, id: string, now = Date.now()): Promise<boolean> {
  const [marked] = await db.batch([
    db.prepare(`UPDATE apps SET deleted_at = ?3 WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id, now),
    db.prepare("UPDATE write_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE app_id = ?1 AND EXISTS (SELECT 1 FROM apps WHERE id = ?1 AND deleted_at = ?2)").bind(id, now),
  ]);
  return (marked?.meta.changes ?? 0) > 0;
}

/** A deleted app whose rows may still be in ClickHouse. */
export interface PendingPurge {
  id: string;
  deletedAt: number;
  purgedAt: number | null;
}

/** Deleted apps not yet purged, or last purged less than `settleMs` after their deletion. */
export async function pendingPurges(db: D1Database, settleMs: number, limit = 100): Promise<PendingPurge[]> {
  const rs = await db
    .prepare("SELECT id, deleted_at, purged_at FROM apps WHERE deleted_at IS NOT NULL AND (purged_at IS NULL OR purged_at < deleted_at + ?) ORDER BY deleted_at LIMIT ?")
    .bind(settleMs, limit)
    .all<{ id: string; deleted_at: number; purged_at: number | null }>();
  return rs.results.map((r) => ({ id: r.id, deletedAt: r.deleted_at, purgedAt: r.purged_at }));
}

/** Records that a deleted app's rows were removed from ClickHouse at `at`. */
export async function markPurged(db: D1Database, id: string, at: number): Promise<void> {
  await db.prepare("UPDATE apps SET purged_at = ? WHERE id = ? AND deleted_at IS NOT NULL").bind(at, id).run();
}

/** The organisation of a live app in the scope: its id, null for an app that belongs to none yet, undefined when the scope has no such app. */
export async function appOrgId(db: D1Database, scope: AppScope, id: string): Promise<string | null | undefined> {
  const row = await db.prepare(`SELECT org_id FROM apps WHERE ${LIVE_IN_SCOPE} AND id = ?2`).bind(scope.orgId, id).first<{ org_id: string | null }>();
  return row === null ? undefined : row.org_id;
}
