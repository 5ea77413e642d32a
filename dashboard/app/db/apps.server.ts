// Apps and write keys for the dashboard: the same D1 tables the edge's admin API and ingest
// use, always scoped to the viewer's organisation.
import { z } from "zod";
import { AppId, RedactionPolicy } from "../../../schemas";
import { randomHex, sha256Hex } from "./ids.server";

export interface AppSummary {
  id: string;
  name: string;
  createdAt: number;
}

export interface AppDetails extends AppSummary {
  rateLimit: number;
  shardCount: number;
  retentionDays: number;
  redactionPolicy: string | null;
}

export interface KeyInfo {
  id: string;
  prefix: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

interface AppRow {
  id: string;
  name: string;
  created_at: number;
  rate_limit: number;
  shard_count: number;
  retention_days: number;
  redaction_policy: string | null;
}

const toDetails = (r: AppRow): AppDetails => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  rateLimit: r.rate_limit,
  shardCount: r.shard_count,
  retentionDays: r.retention_days,
  redactionPolicy: r.redaction_policy,
});

const APP_COLUMNS = "id, name, created_at, rate_limit, shard_count, retention_days, redaction_policy";
// Same length the admin API shows (workers/lib/apps.ts), so both list the same prefixes.
const KEY_PREFIX_LENGTH = 12;

export async function listApps(db: D1Database, orgId: string): Promise<AppSummary[]> {
  const rs = await db.prepare("SELECT id, name, created_at FROM apps WHERE org_id = ? ORDER BY created_at, id").bind(orgId).all<{ id: string; name: string; created_at: number }>();
  return rs.results.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}

export async function getApp(db: D1Database, orgId: string, appId: string): Promise<AppDetails | null> {
  const row = await db.prepare(`SELECT ${APP_COLUMNS} FROM apps WHERE org_id = ? AND id = ?`).bind(orgId, appId).first<AppRow>();
  return row ? toDetails(row) : null;
}

export const NewApp = z.object({ id: AppId, name: z.string().trim().min(1).max(200) });

/** Creates an app in the organisation; false when the id is taken (by any organisation). */
export async function createApp(db: D1Database, orgId: string, input: z.infer<typeof NewApp>): Promise<boolean> {
  const result = await db
    .prepare(`INSERT INTO apps (id, name, created_at, hash_salt, org_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`)
    .bind(input.id, input.name, Date.now(), randomHex(32), orgId)
    .run();
  return result.meta.changes > 0;
}

export async function renameApp(db: D1Database, orgId: string, appId: string, name: string): Promise<void> {
  await db.prepare("UPDATE apps SET name = ? WHERE org_id = ? AND id = ?").bind(name, orgId, appId).run();
}

/** Deletes the app and (by cascade) its keys; its events age out of ClickHouse by TTL. */
export async function deleteApp(db: D1Database, orgId: string, appId: string): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM write_keys WHERE app_id = (SELECT id FROM apps WHERE org_id = ? AND id = ?)").bind(orgId, appId),
    db.prepare("DELETE FROM apps WHERE org_id = ? AND id = ?").bind(orgId, appId),
  ]);
}

export const AppSettings = z.object({
  rateLimit: z.coerce.number().int().min(0).max(1_000_000),
  shardCount: z.coerce.number().int().min(1).max(64),
  retentionDays: z.coerce.number().int().min(1).max(3650),
  redactionPolicy: z
    .string()
    .trim()
    .transform((text, ctx) => {
      if (text === "") return null;
      try {
        const parsed = RedactionPolicy.safeParse(JSON.parse(text));
        if (parsed.success) return JSON.stringify(parsed.data);
        ctx.addIssue({ code: "custom", message: `redaction policy: ${parsed.error.issues.map((i) => `${i.path.join(".") || "policy"} ${i.message}`).join("; ")}` });
      } catch {
        ctx.addIssue({ code: "custom", message: "redaction policy: not valid JSON" });
      }
      return z.NEVER;
    }),
});

export async function updateSettings(db: D1Database, orgId: string, appId: string, s: z.infer<typeof AppSettings>): Promise<void> {
  await db
    .prepare("UPDATE apps SET rate_limit = ?, shard_count = ?, retention_days = ?, redaction_policy = ? WHERE org_id = ? AND id = ?")
    .bind(s.rateLimit, s.shardCount, s.retentionDays, s.redactionPolicy, orgId, appId)
    .run();
}

/** The app's keys, prefixes only. The caller has checked that the app is in the organisation. */
export async function listKeys(db: D1Database, appId: string): Promise<KeyInfo[]> {
  const rs = await db
    .prepare("SELECT id, prefix, name, created_at, revoked_at FROM write_keys WHERE app_id = ? ORDER BY created_at DESC, id")
    .bind(appId)
    .all<{ id: string; prefix: string; name: string; created_at: number; revoked_at: number | null }>();
  return rs.results.map((r) => ({ id: r.id, prefix: r.prefix, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

/** A new write key, returned in full this once; D1 keeps its SHA-256 and prefix. */
export async function createKey(db: D1Database, appId: string, name: string): Promise<{ id: string; key: string }> {
  const key = `wk_${randomHex(20)}`;
  const id = `key_${randomHex(8)}`;
  await db
    .prepare("INSERT INTO write_keys (id, app_id, key_hash, prefix, name, created_at) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(id, appId, await sha256Hex(key), key.slice(0, KEY_PREFIX_LENGTH), name, Date.now())
    .run();
  return { id, key };
}

export async function revokeKey(db: D1Database, appId: string, keyId: string): Promise<boolean> {
  const r = await db.prepare("UPDATE write_keys SET revoked_at = coalesce(revoked_at, ?) WHERE app_id = ? AND id = ?").bind(Date.now(), appId, keyId).run();
  return r.meta.changes > 0;
}
