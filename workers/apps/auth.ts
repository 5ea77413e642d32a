// Ingest's view of a write key: the live app it belongs to and what the pipeline needs of it,
// cached briefly per isolate. A deleted app's key may stay cached here for up to 30 s; its
// retired batchers refuse it meanwhile (workers/apps/delete.ts), so it stops at once everywhere.
import { CrashRule, MAX_CRASH_RULES, type AppLocation } from "../../schemas";
import { HttpError } from "../lib/errors";
import { type RedactionPolicy, parsePolicy } from "../lib/redact";
import { hashWriteKey } from "./keys";
import { toShardKey, type ShardSettings } from "./shards";
import { parseUrlTemplates, toLocation } from "./store";

/** What ingest needs to know about the app a write key belongs to. */
export interface AppAuth extends ShardSettings {
  appId: string;
  rateLimit: number;
  retentionDays: number;
  policy: RedactionPolicy;
  salt: string;
  /** The app's crash grouping rules in the order they are tried. */
  crashRules: CrashRule[];
  /** The app's own URL templates in the order they are tried. */
  urlTemplates: string[];
  /** Where its batchers and archives live (workers/apps/location.ts). */
  location: AppLocation;
}

interface CacheEntry {
  app: AppAuth | null;
  expires: number;
}

// Settings changes reach ingest within a minute; unknown keys are re-checked sooner so a key
// created seconds ago starts working quickly.
const KNOWN_TTL_MS = 30_000;
const UNKNOWN_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;
const cache = new Map<string, CacheEntry>();

interface AuthRow {
  app_id: string;
  rate_limit: number;
  shard_count: number;
  shard_key: string;
  previous_shard_count: number | null;
  previous_shard_key: string;
  shards_from: number | null;
  auto_shards: number;
  retention_days: number;
  redaction_policy: string | null;
  hash_salt: string;
  url_templates: string | null;
  location: string;
}

interface RuleRow {
  id: string;
  action: string;
  match_type: string | null;
  match_message: string | null;
  match_module: string | null;
}

// A row the dashboard wrote is checked again here: a bad one is skipped, never fatal to ingest.
function toRules(rows: readonly RuleRow[]): CrashRule[] {
  const rules: CrashRule[] = [];
  for (const r of rows) {
    const parsed = CrashRule.safeParse({
      id: r.id,
      action: r.action,
      type: r.match_type ?? undefined,
      message: r.match_message ?? undefined,
      module: r.match_module ?? undefined,
    });
    if (parsed.success) rules.push(parsed.data);
  }
  return rules;
}

/** Resolves a write key to its live app, or throws 401. Results are cached briefly per isolate. */
export async function authenticate(db: D1Database, key: string | null | undefined): Promise<AppAuth> {
  if (!key || key.length > 256) throw new HttpError(401, "unauthorized", "a write key is required (HTTP Basic user, X-Write-Key or writeKey)");
  const now = Date.now();
  const hit = cache.get(key);
  let app: AppAuth | null;
  if (hit && hit.expires > now) {
    app = hit.app;
  } else {
    const keyHash = await hashWriteKey(key);
    // The rules and URL templates ride in the same round trip as the key, so a cache miss costs one D1 call.
    const [auth, rules] = await db.batch([
      db
        .prepare(
          `SELECT a.id AS app_id, a.rate_limit, a.shard_count, a.shard_key, a.previous_shard_count, a.previous_shard_key, a.shards_from, a.auto_shards, a.retention_days, a.redaction_policy, a.hash_salt, a.url_templates, a.location
           FROM write_keys k JOIN apps a ON a.id = k.app_id
           WHERE k.key_hash = ? AND k.revoked_at IS NULL AND a.deleted_at IS NULL`,
        )
        .bind(keyHash),
      db
        .prepare(
          `SELECT r.id, r.action, r.match_type, r.match_message, r.match_module
           FROM write_keys k JOIN crash_rules r ON r.app_id = k.app_id
           WHERE k.key_hash = ? AND k.revoked_at IS NULL
           ORDER BY r.position, r.created_at, r.id LIMIT ?`,
        )
        .bind(keyHash, MAX_CRASH_RULES),
    ]);
    const row = (auth?.results[0] as AuthRow | undefined) ?? null;
    app = row
      ? {
          appId: row.app_id,
          rateLimit: row.rate_limit,
          shardCount: Math.max(1, row.shard_count),
          shardKey: toShardKey(row.shard_key),
          previousShardCount: row.previous_shard_count === null ? null : Math.max(1, row.previous_shard_count),
          previousShardKey: toShardKey(row.previous_shard_key),
          shardsFrom: row.shards_from,
          autoShards: row.auto_shards !== 0,
          retentionDays: row.retention_days,
          policy: parsePolicy(row.redaction_policy),
          salt: row.hash_salt,
          crashRules: toRules((rules?.results ?? []) as RuleRow[]),
          urlTemplates: parseUrlTemplates(row.url_templates),
          location: toLocation(row.location),
        }
      : null;
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(key, { app, expires: now + (app ? KNOWN_TTL_MS : UNKNOWN_TTL_MS) });
  }
  if (!app) throw new HttpError(401, "unauthorized", "unknown or revoked write key");
  return app;
}

/** Forgets cached keys; tests use it to see a revocation at once. */
export function clearWriteKeyCache(): void {
  cache.clear();
}
