import type { CreateApp, WriteKeyInfo } from "../../schemas";
import { HttpError } from "./errors";

/** An app as the admin API shows it. */
export interface AppInfo {
  id: string;
  name: string;
  createdAt: number;
  rateLimit: number;
  shardCount: number;
  retentionDays: number;
}

interface AppRow {
  id: string;
  name: string;
  created_at: number;
  rate_limit: number;
  shard_count: number;
  retention_days: number;
}

interface KeyRow {
  id: string;
  app_id: string;
  prefix: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

const toApp = (r: AppRow): AppInfo => ({ id: r.id, name: r.name, createdAt: r.created_at, rateLimit: r.rate_limit, shardCount: r.shard_count, retentionDays: r.retention_days });
const toKey = (r: KeyRow): WriteKeyInfo => ({ id: r.id, appId: r.app_id, prefix: r.prefix, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at });

/** SHA-256 of a write key as lowercase hex: what D1 stores. */
export async function hashWriteKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const KEY_PREFIX_LENGTH = 12;

/** Creates an app with a fresh HMAC salt; 409 when the id is taken. */
export async function createApp(db: D1Database, input: CreateApp): Promise<AppInfo> {
  const now = Date.now();
  const result = await db
    .prepare(
      `INSERT INTO apps (id, name, created_at, rate_limit, shard_count, retention_days, redaction_policy, hash_salt)
       VALUES (?1, ?2, ?3, coalesce(?4, 2000), coalesce(?5, 1), coalesce(?6, 90), ?7, ?8)
       ON CONFLICT(id) DO NOTHING`,
    )
    .bind(input.id, input.name, now, input.rateLimit ?? null, input.shardCount ?? null, input.retentionDays ?? null, input.redactionPolicy ? JSON.stringify(input.redactionPolicy) : null, randomHex(32))
    .run();
  if (result.meta.changes === 0) throw new HttpError(409, "conflict", `app ${input.id} already exists`);
  const app = await getApp(db, input.id);
  if (!app) throw new HttpError(500, "internal", "the app was not stored");
  return app;
}

/** One app, or null. */
export async function getApp(db: D1Database, id: string): Promise<AppInfo | null> {
  const row = await db.prepare("SELECT id, name, created_at, rate_limit, shard_count, retention_days FROM apps WHERE id = ?").bind(id).first<AppRow>();
  return row ? toApp(row) : null;
}

/** Every app, oldest first. */
export async function listApps(db: D1Database): Promise<AppInfo[]> {
  const rs = await db.prepare("SELECT id, name, created_at, rate_limit, shard_count, retention_days FROM apps ORDER BY created_at, id").all<AppRow>();
  return rs.results.map(toApp);
}

/**
 * Creates a write key for an app and returns it in full, the only time it is shown: D1 keeps
 * its SHA-256 and a prefix. A given `key` that already belongs to this app is not an error.
 */
export async function createWriteKey(db: D1Database, appId: string, opts: { name: string; key?: string }): Promise<WriteKeyInfo & { key: string }> {
  if (!(await getApp(db, appId))) throw new HttpError(404, "not_found", `no app ${appId}`);
  const key = opts.key ?? `wk_${randomHex(20)}`;
  const hash = await hashWriteKey(key);
  const existing = await db.prepare("SELECT id, app_id, prefix, name, created_at, revoked_at FROM write_keys WHERE key_hash = ?").bind(hash).first<KeyRow>();
  if (existing) {
    if (existing.app_id !== appId || existing.revoked_at !== null) throw new HttpError(409, "conflict", "that write key is already in use or was revoked");
    return { ...toKey(existing), key };
  }
  const id = `key_${randomHex(8)}`;
  const now = Date.now();
  await db
    .prepare("INSERT INTO write_keys (id, app_id, key_hash, prefix, name, created_at) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(id, appId, hash, key.slice(0, KEY_PREFIX_LENGTH), opts.name, now)
    .run();
  return { id, appId, prefix: key.slice(0, KEY_PREFIX_LENGTH), name: opts.name, createdAt: now, revokedAt: null, key };
}

/** An app's write keys, prefixes only. */
export async function listWriteKeys(db: D1Database, appId: string): Promise<WriteKeyInfo[]> {
  const rs = await db.prepare("SELECT id, app_id, prefix, name, created_at, revoked_at FROM write_keys WHERE app_id = ? ORDER BY created_at, id").bind(appId).all<KeyRow>();
  return rs.results.map(toKey);
}

/** Revokes a key; ingest refuses it within a minute (the edge caches keys for 30 s). */
export async function revokeWriteKey(db: D1Database, appId: string, keyId: string): Promise<WriteKeyInfo> {
  const row = await db
    .prepare("UPDATE write_keys SET revoked_at = coalesce(revoked_at, ?) WHERE app_id = ? AND id = ? RETURNING id, app_id, prefix, name, created_at, revoked_at")
    .bind(Date.now(), appId, keyId)
    .first<KeyRow>();
  if (!row) throw new HttpError(404, "not_found", `no key ${keyId} for app ${appId}`);
  return toKey(row);
}
