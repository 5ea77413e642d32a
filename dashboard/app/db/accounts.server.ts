// Users in D1, and the first owner's organisation (db/members.server.ts has the rest).
import type { Role } from "../auth/permissions";
import { hashPassword } from "../auth/password.server";
import { randomHex } from "./ids.server";

export interface User {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  sessionVersion: number;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  session_version: number;
}

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, name: r.name, passwordHash: r.password_hash, sessionVersion: r.session_version });
const USER_COLUMNS = "id, email, name, password_hash, session_version";

export async function hasAnyUser(db: D1Database): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS one FROM users LIMIT 1").first()) !== null;
}

export async function findUserByEmail(db: D1Database, email: string): Promise<User | null> {
  const row = await db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`).bind(email.trim()).first<UserRow>();
  return row ? toUser(row) : null;
}

export async function getUser(db: D1Database, id: string): Promise<User | null> {
  const row = await db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).bind(id).first<UserRow>();
  return row ? toUser(row) : null;
}

/** Voids every session token issued so far for the user. */
export async function bumpSessionVersion(db: D1Database, userId: string): Promise<void> {
  await db.prepare("UPDATE users SET session_version = session_version + 1 WHERE id = ?").bind(userId).run();
}

export interface NewOwner {
  email: string;
  name: string;
  password: string;
  orgName: string;
}

/**
 * Creates the first user as owner of a new organisation, which adopts every app that has no
 * organisation yet. Returns null when any user already exists: sign-up is for the first owner
 * only, everyone else joins by invitation. One D1 batch, so two racing sign-ups cannot both win.
 */
export async function createFirstOwner(db: D1Database, input: NewOwner): Promise<User | null> {
  const userId = `usr_${randomHex(10)}`;
  const orgId = `org_${randomHex(10)}`;
  const now = Date.now();
  const passwordHash = await hashPassword(input.password);
  const results = await db.batch([
    db
      .prepare("INSERT INTO users (id, email, name, password_hash, created_at) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)")
      .bind(userId, input.email.trim(), input.name.trim(), passwordHash, now),
    db.prepare("INSERT INTO orgs (id, name, created_at) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)").bind(orgId, input.orgName.trim(), now, userId),
    db
      .prepare("INSERT INTO memberships (org_id, user_id, role, created_at) SELECT ?, ?, 'owner', ? WHERE EXISTS (SELECT 1 FROM orgs WHERE id = ?)")
      .bind(orgId, userId, now, orgId),
    db.prepare("UPDATE apps SET org_id = ? WHERE org_id IS NULL AND EXISTS (SELECT 1 FROM orgs WHERE id = ?)").bind(orgId, orgId),
  ]);
  if ((results[0]?.meta.changes ?? 0) === 0) return null;
  return { id: userId, email: input.email.trim(), name: input.name.trim(), passwordHash, sessionVersion: 0 };
}

/** Adds a user with a role to an organisation (invitation accepted, tests). */
export async function addMember(db: D1Database, orgId: string, input: { email: string; name: string; password: string; role: Role }): Promise<User> {
  const id = `usr_${randomHex(10)}`;
  const now = Date.now();
  const passwordHash = await hashPassword(input.password);
  await db.batch([
    db.prepare("INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)").bind(id, input.email.trim(), input.name.trim(), passwordHash, now),
    db.prepare("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)").bind(orgId, id, input.role, now),
  ]);
  return { id, email: input.email.trim(), name: input.name.trim(), passwordHash, sessionVersion: 0 };
}
