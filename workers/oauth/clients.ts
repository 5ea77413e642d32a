// API clients of an organisation (0018_api_clients.sql): made in the dashboard or by an operator,
// each with scopes drawn from the roles' permissions and optionally limited to some of the
// organisation's apps. The secret is shown once; D1 keeps its SHA-256. A rotation issues a new
// secret and lets the old one work for an overlap, so a deployment can switch without downtime.
import { randomHex, sha256Hex } from "../apps/keys";

export interface ApiClient {
  id: string;
  orgId: string;
  name: string;
  scopes: string[];
  /** The apps its tokens may reach; null: every app of the organisation. */
  appIds: string[] | null;
  createdAt: number;
  createdBy: string;
  rotatedAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

interface Row {
  id: string;
  org_id: string;
  name: string;
  scopes: string;
  app_ids: string | null;
  created_at: number;
  created_by: string;
  rotated_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

const COLUMNS = "id, org_id, name, scopes, app_ids, created_at, created_by, rotated_at, revoked_at, last_used_at";

function strings(text: string | null): string[] | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

const toClient = (r: Row): ApiClient => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  scopes: strings(r.scopes) ?? [],
  appIds: strings(r.app_ids),
  createdAt: r.created_at,
  createdBy: r.created_by,
  rotatedAt: r.rotated_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

/** A client id: `cli_` and 24 hex digits. */
const newClientId = (): string => `cli_${randomHex(12)}`;
/** A client secret: `cs_` and 64 hex digits (256 random bits). */
const newSecret = (): string => `cs_${randomHex(32)}`;

export interface NewClient {
  name: string;
  scopes: readonly string[];
  appIds?: readonly string[] | null;
}

export type ClientProblem = { ok: false; reason: string };

/**
 * Checks a client's definition: a name, scopes from `allowed`, and apps of the organisation.
 * `allowed` is the permission list the roles use.
 */
async function check(db: D1Database, orgId: string, input: NewClient, allowed: readonly string[]): Promise<ClientProblem | null> {
  const name = input.name.trim();
  if (name === "" || name.length > 100) return { ok: false, reason: "a client needs a name of 1 to 100 characters" };
  if (input.scopes.length === 0) return { ok: false, reason: "a client needs at least one scope" };
  const unknown = input.scopes.filter((s) => !allowed.includes(s));
  if (unknown.length > 0) return { ok: false, reason: `unknown scopes: ${unknown.slice(0, 5).join(", ")}; scopes are ${allowed.join(", ")}` };
  if (input.appIds) {
    if (input.appIds.length === 0) return { ok: false, reason: "appIds lists at least one app, or is left out for every app of the organisation" };
    const { results } = await db
      .prepare(`SELECT id FROM apps WHERE org_id = ? AND deleted_at IS NULL AND id IN (${input.appIds.map(() => "?").join(", ")})`)
      .bind(orgId, ...input.appIds)
      .all<{ id: string }>();
    const found = new Set(results.map((r) => r.id));
    const missing = input.appIds.filter((a) => !found.has(a));
    if (missing.length > 0) return { ok: false, reason: `the organisation has no app ${missing.slice(0, 5).join(", ")}` };
  }
  return null;
}

/** Makes a client; its secret is in the answer and nowhere else. */
export async function createClient(db: D1Database, orgId: string, input: NewClient, allowed: readonly string[], by: string, now = Date.now()): Promise<{ ok: true; client: ApiClient; secret: string } | ClientProblem> {
  const problem = await check(db, orgId, input, allowed);
  if (problem) return problem;
  const id = newClientId();
  const secret = newSecret();
  const scopes = [...new Set(input.scopes)].sort();
  const appIds = input.appIds ? [...new Set(input.appIds)].sort() : null;
  await db
    .prepare("INSERT INTO api_clients (id, org_id, name, scopes, app_ids, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(id, orgId, input.name.trim(), JSON.stringify(scopes), appIds ? JSON.stringify(appIds) : null, await sha256Hex(secret), now, by)
    .run();
  const client = await getClient(db, orgId, id);
  if (!client) throw new Error(`api client ${id} vanished after it was made`);
  return { ok: true, client, secret };
}

/** The organisation's clients, newest first, revoked ones included. */
export async function listClients(db: D1Database, orgId: string): Promise<ApiClient[]> {
  const { results } = await db.prepare(`SELECT ${COLUMNS} FROM api_clients WHERE org_id = ? ORDER BY created_at DESC, id`).bind(orgId).all<Row>();
  return results.map(toClient);
}

export async function getClient(db: D1Database, orgId: string, id: string): Promise<ApiClient | null> {
  const r = await db.prepare(`SELECT ${COLUMNS} FROM api_clients WHERE org_id = ? AND id = ?`).bind(orgId, id).first<Row>();
  return r ? toClient(r) : null;
}

/** A new secret; the old one keeps working for `overlapMs` (0: stops at once). Null for no such live client. */
export async function rotateSecret(db: D1Database, orgId: string, id: string, overlapMs: number, now = Date.now()): Promise<{ client: ApiClient; secret: string } | null> {
  const secret = newSecret();
  const r = await db
    .prepare(
      "UPDATE api_clients SET previous_secret_hash = CASE WHEN ?1 > 0 THEN secret_hash END, previous_secret_until = CASE WHEN ?1 > 0 THEN ?2 + ?1 END, secret_hash = ?3, rotated_at = ?2 WHERE org_id = ?4 AND id = ?5 AND revoked_at IS NULL",
    )
    .bind(overlapMs, now, await sha256Hex(secret), orgId, id)
    .run();
  if (r.meta.changes === 0) return null;
  const client = await getClient(db, orgId, id);
  return client ? { client, secret } : null;
}

/** Revokes a client: its secrets stop at once, and tokens it holds within their few minutes (verifyAccessToken checks). */
export async function revokeClient(db: D1Database, orgId: string, id: string, now = Date.now()): Promise<boolean> {
  const r = await db.prepare("UPDATE api_clients SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL").bind(now, orgId, id).run();
  return r.meta.changes > 0;
}

/** The live client whose id and secret these are, or null. Compares hashes, so the time taken says nothing of the secret. */
export async function authenticateClient(db: D1Database, id: string, secret: string, now = Date.now()): Promise<ApiClient | null> {
  if (!/^cli_[0-9a-f]{24}$/.test(id) || secret.length > 200) return null;
  const hash = await sha256Hex(secret);
  const r = await db
    .prepare(`SELECT ${COLUMNS}, secret_hash, previous_secret_hash, previous_secret_until FROM api_clients WHERE id = ? AND revoked_at IS NULL`)
    .bind(id)
    .first<Row & { secret_hash: string; previous_secret_hash: string | null; previous_secret_until: number | null }>();
  if (!r) return null;
  const current = r.secret_hash === hash;
  const previous = r.previous_secret_hash === hash && (r.previous_secret_until ?? 0) > now;
  if (!current && !previous) return null;
  await db.prepare("UPDATE api_clients SET last_used_at = ? WHERE id = ?").bind(now, id).run();
  return toClient(r);
}

/** Whether the client is still live: tokens of a revoked client stop working. */
export async function clientIsLive(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS live FROM api_clients WHERE id = ? AND revoked_at IS NULL").bind(id).first<{ live: number }>()) !== null;
}
