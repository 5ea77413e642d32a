// An app's feature flags and remote configuration in D1 (0016_flags.sql), with every change kept:
// a flag's changes are its version history and audit log (who, when, before and after), and any
// version can be restored as a new one. Each change also counts up the app's flags_version, the
// key the edge caches an app's flags and configuration under. Callers check the app is the
// caller's first (apps/store.ts); these functions take its id as settled.
import type { Schema } from "@cfworker/json-schema";
import { Flag } from "../../schemas";
import { checkConfig, type AppConfig } from "./config";

export type { AppConfig } from "./config";

export interface StoredFlag {
  flag: Flag;
  version: number;
  updatedAt: number;
  updatedBy: string;
}

export interface FlagChange {
  key: string;
  version: number;
  /** The definition before the change; null when the flag was created. */
  before: Flag | null;
  /** The definition after it; null when the flag was deleted. */
  after: Flag | null;
  at: number;
  by: string;
}

/** Who changes, and when. */
export interface Change {
  by: string;
  now: number;
}

/** A save's outcome: the new version, or why there is none. */
export type Saved = { status: "saved"; version: number } | { status: "conflict"; version: number } | { status: "missing" };

// A stored definition that no longer parses (an older schema) is left out rather than served.
function parseFlag(text: string | null): Flag | null {
  if (text === null) return null;
  try {
    const parsed = Flag.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The app's flags, by key. */
export async function listFlags(db: D1Database, appId: string): Promise<StoredFlag[]> {
  const { results } = await db
    .prepare("SELECT definition, version, updated_at, updated_by FROM flags WHERE app_id = ? ORDER BY key")
    .bind(appId)
    .all<{ definition: string; version: number; updated_at: number; updated_by: string }>();
  return results.flatMap((r) => {
    const flag = parseFlag(r.definition);
    return flag ? [{ flag, version: r.version, updatedAt: r.updated_at, updatedBy: r.updated_by }] : [];
  });
}

export async function getFlag(db: D1Database, appId: string, key: string): Promise<StoredFlag | null> {
  const r = await db
    .prepare("SELECT definition, version, updated_at, updated_by FROM flags WHERE app_id = ? AND key = ?")
    .bind(appId, key)
    .first<{ definition: string; version: number; updated_at: number; updated_by: string }>();
  const flag = r ? parseFlag(r.definition) : null;
  return r && flag ? { flag, version: r.version, updatedAt: r.updated_at, updatedBy: r.updated_by } : null;
}

/**
 * Writes `after` (a flag, or null to delete it) as the version after `from`, with its change and
 * the app's count, in one batch. The change's key (app, flag, version) makes two saves from the
 * same version conflict: the second batch fails whole, and nothing of it is written.
 */
async function write(db: D1Database, appId: string, key: string, from: StoredFlag | null, after: Flag | null, change: Change): Promise<Saved> {
  const version = (from?.version ?? (await lastVersion(db, appId, key))) + 1;
  const statements = [
    db
      .prepare("INSERT INTO flag_changes (app_id, key, version, before, after, at, by) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(appId, key, version, from ? JSON.stringify(from.flag) : null, after ? JSON.stringify(after) : null, change.now, change.by),
    after
      ? db
          .prepare(
            "INSERT INTO flags (app_id, key, definition, version, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (app_id, key) DO UPDATE SET definition = ?3, version = ?4, updated_at = ?5, updated_by = ?6",
          )
          .bind(appId, key, JSON.stringify(after), version, change.now, change.by)
      : db.prepare("DELETE FROM flags WHERE app_id = ? AND key = ?").bind(appId, key),
    db.prepare("UPDATE apps SET flags_version = flags_version + 1 WHERE id = ?").bind(appId),
  ];
  try {
    await db.batch(statements);
  } catch (err) {
    if (err instanceof Error && /UNIQUE|constraint/i.test(err.message)) return { status: "conflict", version: (await getFlag(db, appId, key))?.version ?? version };
    throw err;
  }
  return { status: "saved", version };
}

// A flag deleted and made again goes on from its last version, so its history stays one line.
async function lastVersion(db: D1Database, appId: string, key: string): Promise<number> {
  const r = await db.prepare("SELECT max(version) AS v FROM flag_changes WHERE app_id = ? AND key = ?").bind(appId, key).first<{ v: number | null }>();
  return r?.v ?? 0;
}

/**
 * Creates or changes a flag (checked with `Flag` by the caller). With `expected`, the change
 * applies only to that version: someone else's change in between is a conflict, not overwritten.
 */
export async function saveFlag(db: D1Database, appId: string, flag: Flag, change: Change & { expected?: number }): Promise<Saved> {
  const current = await getFlag(db, appId, flag.key);
  if (change.expected !== undefined && (current?.version ?? 0) !== change.expected) return { status: "conflict", version: current?.version ?? 0 };
  return write(db, appId, flag.key, current, flag, change);
}

/** Deletes a flag; its history stays. */
export async function deleteFlag(db: D1Database, appId: string, key: string, change: Change): Promise<Saved> {
  const current = await getFlag(db, appId, key);
  if (!current) return { status: "missing" };
  return write(db, appId, key, current, null, change);
}

/** A flag's changes, newest first. */
export async function flagHistory(db: D1Database, appId: string, key: string, limit = 50): Promise<FlagChange[]> {
  const { results } = await db
    .prepare("SELECT key, version, before, after, at, by FROM flag_changes WHERE app_id = ? AND key = ? ORDER BY version DESC LIMIT ?")
    .bind(appId, key, limit)
    .all<{ key: string; version: number; before: string | null; after: string | null; at: number; by: string }>();
  return results.map((r) => ({ key: r.key, version: r.version, before: parseFlag(r.before), after: parseFlag(r.after), at: r.at, by: r.by }));
}

/** Makes a flag what it was at `version` again, as a new version (a version that deleted it deletes it). */
export async function rollbackFlag(db: D1Database, appId: string, key: string, version: number, change: Change): Promise<Saved> {
  const r = await db.prepare("SELECT after FROM flag_changes WHERE app_id = ? AND key = ? AND version = ?").bind(appId, key, version).first<{ after: string | null }>();
  if (!r) return { status: "missing" };
  const current = await getFlag(db, appId, key);
  const target = parseFlag(r.after);
  if (r.after !== null && !target) return { status: "missing" };
  if (!target && !current) return { status: "saved", version: await lastVersion(db, appId, key) };
  return write(db, appId, key, current, target, change);
}

export interface ConfigVersion {
  version: number;
  config: AppConfig;
  /** The JSON Schema the version was checked against, if any. */
  schema: Schema | null;
  at: number;
  by: string;
  note: string;
}

interface ConfigRow {
  version: number;
  config: string;
  schema: string | null;
  at: number;
  by: string;
  note: string;
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const toVersion = (r: ConfigRow): ConfigVersion => ({ version: r.version, config: (parseObject(r.config) ?? {}) as AppConfig, schema: parseObject(r.schema) as Schema | null, at: r.at, by: r.by, note: r.note });

/** The app's current configuration and its version ({} at version 0 until one is saved). */
export async function getConfig(db: D1Database, appId: string): Promise<ConfigVersion> {
  const r = await db.prepare("SELECT version, config, schema, at, by, note FROM app_config_versions WHERE app_id = ? ORDER BY version DESC LIMIT 1").bind(appId).first<ConfigRow>();
  return r ? toVersion(r) : { version: 0, config: {}, schema: null, at: 0, by: "", note: "" };
}

/** A save of the configuration: a new version, or why there is none. */
export type ConfigSaved = Saved | { status: "invalid"; errors: string[] };

/**
 * Saves a new version of the configuration with its schema (null for none), checked by
 * `checkConfig`; `expected` guards against overwriting a change in between.
 */
export async function saveConfig(db: D1Database, appId: string, input: { config: unknown; schema?: unknown }, change: Change & { expected?: number; note?: string }): Promise<ConfigSaved> {
  const checked = checkConfig(input.config, input.schema ?? null);
  if (!checked.ok) return { status: "invalid", errors: checked.errors };
  const current = await getConfig(db, appId);
  if (change.expected !== undefined && current.version !== change.expected) return { status: "conflict", version: current.version };
  const version = current.version + 1;
  try {
    await db.batch([
      db
        .prepare("INSERT INTO app_config_versions (app_id, version, config, schema, at, by, note) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(appId, version, JSON.stringify(checked.config), checked.schema ? JSON.stringify(checked.schema) : null, change.now, change.by, (change.note ?? "").slice(0, 500)),
      db.prepare("UPDATE apps SET flags_version = flags_version + 1 WHERE id = ?").bind(appId),
    ]);
  } catch (err) {
    if (err instanceof Error && /UNIQUE|constraint/i.test(err.message)) return { status: "conflict", version: (await getConfig(db, appId)).version };
    throw err;
  }
  return { status: "saved", version };
}

/** The configuration's versions, newest first. */
export async function configHistory(db: D1Database, appId: string, limit = 50): Promise<ConfigVersion[]> {
  const { results } = await db.prepare("SELECT version, config, schema, at, by, note FROM app_config_versions WHERE app_id = ? ORDER BY version DESC LIMIT ?").bind(appId, limit).all<ConfigRow>();
  return results.map(toVersion);
}

/** Makes the configuration (and its schema) what it was at `version` again, as a new version. */
export async function rollbackConfig(db: D1Database, appId: string, version: number, change: Change): Promise<ConfigSaved> {
  const r = await db.prepare("SELECT version, config, schema, at, by, note FROM app_config_versions WHERE app_id = ? AND version = ?").bind(appId, version).first<ConfigRow>();
  if (!r) return { status: "missing" };
  const target = toVersion(r);
  return saveConfig(db, appId, { config: target.config, schema: target.schema }, { ...change, note: `rollback to version ${version}` });
}

/** The count of the app's flag and configuration changes: what the edge caches them under. */
export async function flagsVersion(db: D1Database, appId: string): Promise<number | null> {
  const r = await db.prepare("SELECT flags_version AS v FROM apps WHERE id = ? AND deleted_at IS NULL").bind(appId).first<{ v: number }>();
  return r ? r.v : null;
}
