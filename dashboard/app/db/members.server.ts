// Who belongs to which organisation, with what role, and the organisation's name. Every query
// names the organisation. Who may change whom is decided in auth/permissions.ts (canGrant); the
// one rule that needs a count, that an organisation keeps at least one owner, is part of the
// UPDATE or DELETE itself, so two owners demoting each other at once cannot both succeed.
import { isRole, type Role } from "../auth/permissions";
import { randomHex } from "./ids.server";

export interface Membership {
  orgId: string;
  orgName: string;
  role: Role;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: number;
}

interface MemberRow {
  id: string;
  email: string;
  name: string;
  role: string;
  created_at: number;
}

const toMember = (r: MemberRow): Member | null => (isRole(r.role) ? { userId: r.id, email: r.email, name: r.name, role: r.role, joinedAt: r.created_at } : null);
const MEMBER_SELECT = "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ?";

/** The user's organisations, the one joined first first. */
export async function listMemberships(db: D1Database, userId: string): Promise<Membership[]> {
  const rs = await db
    .prepare("SELECT m.org_id, o.name, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY m.created_at, m.org_id")
    .bind(userId)
    .all<{ org_id: string; name: string; role: string }>();
  return rs.results.flatMap((r) => (isRole(r.role) ? [{ orgId: r.org_id, orgName: r.name, role: r.role }] : []));
}

export async function listMembers(db: D1Database, orgId: string): Promise<Member[]> {
  const rs = await db.prepare(`${MEMBER_SELECT} ORDER BY m.created_at, u.email`).bind(orgId).all<MemberRow>();
  return rs.results.flatMap((r) => toMember(r) ?? []);
}

export async function getMember(db: D1Database, orgId: string, userId: string): Promise<Member | null> {
  const row = await db.prepare(`${MEMBER_SELECT} AND m.user_id = ?`).bind(orgId, userId).first<MemberRow>();
  return row ? toMember(row) : null;
}

/** True when someone with this e-mail already belongs to the organisation. */
export async function isMemberEmail(db: D1Database, orgId: string, email: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS one FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email = ?").bind(orgId, email.trim()).first()) !== null;
}

export async function ownerCount(db: D1Database, orgId: string): Promise<number> {
  return (await db.prepare("SELECT count(*) AS n FROM memberships WHERE org_id = ? AND role = 'owner'").bind(orgId).first<{ n: number }>())?.n ?? 0;
}

export type MemberChange = "done" | "last-owner" | "not-found";

// Holds for a member who is not an owner, or is one of several. ?1 is the organisation.
const KEEPS_AN_OWNER = "(role <> 'owner' OR (SELECT count(*) FROM memberships WHERE org_id = ?1 AND role = 'owner') > 1)";

async function outcome(db: D1Database, changes: number, orgId: string, userId: string): Promise<MemberChange> {
  if (changes > 0) return "done";
  return (await getMember(db, orgId, userId)) ? "last-owner" : "not-found";
}

/** Gives the member a new role, unless that would leave the organisation without an owner. */
export async function changeRole(db: D1Database, orgId: string, userId: string, role: Role): Promise<MemberChange> {
  const r = await db.prepare(`UPDATE memberships SET role = ?3 WHERE org_id = ?1 AND user_id = ?2 AND (?3 = 'owner' OR ${KEEPS_AN_OWNER})`).bind(orgId, userId, role).run();
  return outcome(db, r.meta.changes, orgId, userId);
}

/** Takes the member out of the organisation, unless they are its last owner. */
export async function removeMember(db: D1Database, orgId: string, userId: string): Promise<MemberChange> {
  const r = await db.prepare(`DELETE FROM memberships WHERE org_id = ?1 AND user_id = ?2 AND ${KEEPS_AN_OWNER}`).bind(orgId, userId).run();
  return outcome(db, r.meta.changes, orgId, userId);
}

export async function renameOrg(db: D1Database, orgId: string, name: string): Promise<void> {
  await db.prepare("UPDATE orgs SET name = ? WHERE id = ?").bind(name, orgId).run();
}

/** A new organisation with `userId` as its owner, in one batch; returns its id. */
export async function createOrg(db: D1Database, userId: string, name: string): Promise<string> {
  const orgId = `org_${randomHex(10)}`;
  const now = Date.now();
  await db.batch([
    db.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)").bind(orgId, name, now),
    db.prepare("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)").bind(orgId, userId, now),
  ]);
  return orgId;
}
