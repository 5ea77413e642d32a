// Invitations: a link carrying a random token that the inviter sees once and D1 keeps only as
// its SHA-256, good for seven days and for one account, the one with the invited e-mail.
// Looking a token up by its hash compares nothing secret in a way timing could reveal.
import { hashPassword } from "../auth/password.server";
import { isRole, type Role } from "../auth/permissions";
import type { User } from "./accounts.server";
import { randomHex, sha256Hex } from "./ids.server";

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000;
const TOKEN = /^[0-9a-f]{64}$/;

export interface PendingInvitation {
  id: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface Invitation {
  id: string;
  orgId: string;
  orgName: string;
  email: string;
  role: Role;
  expiresAt: number;
}

export type InvitationLookup = { state: "unknown" } | { state: "used" | "revoked" | "expired"; orgName: string } | { state: "pending"; invitation: Invitation };

/** A new invitation's token, and how many earlier pending invitations to the address it replaced. */
export async function createInvitation(db: D1Database, orgId: string, input: { email: string; role: Role; invitedBy: string }, now = Date.now()): Promise<{ token: string; replaced: number }> {
  const token = randomHex(32);
  const [revoked] = await db.batch([
    db.prepare("UPDATE invitations SET revoked_at = ? WHERE org_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?").bind(now, orgId, input.email, now),
    db
      .prepare("INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(`inv_${randomHex(8)}`, orgId, input.email, input.role, await sha256Hex(token), input.invitedBy, now, now + INVITATION_TTL_MS),
  ]);
  return { token, replaced: revoked?.meta.changes ?? 0 };
}

/** Invitations not yet used, revoked or expired, newest first. */
export async function listPendingInvitations(db: D1Database, orgId: string, now = Date.now()): Promise<PendingInvitation[]> {
  const rs = await db
    .prepare(
      `SELECT i.id, i.email, i.role, i.created_at, i.expires_at, coalesce(nullif(u.name, ''), u.email) AS invited_by
       FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
       WHERE i.org_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?
       ORDER BY i.created_at DESC, i.id`,
    )
    .bind(orgId, now)
    .all<{ id: string; email: string; role: string; created_at: number; expires_at: number; invited_by: string | null }>();
  return rs.results.flatMap((r) => (isRole(r.role) ? [{ id: r.id, email: r.email, role: r.role, invitedBy: r.invited_by, createdAt: r.created_at, expiresAt: r.expires_at }] : []));
}

/** Voids a pending invitation of the organisation; false when there is none by that id. */
export async function revokeInvitation(db: D1Database, orgId: string, id: string, now = Date.now()): Promise<boolean> {
  const r = await db.prepare("UPDATE invitations SET revoked_at = ? WHERE org_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL").bind(now, orgId, id).run();
  return r.meta.changes > 0;
}

/** What a link's token leads to: a pending invitation, one that can no longer be used, or nothing. */
export async function findInvitation(db: D1Database, token: string, now = Date.now()): Promise<InvitationLookup> {
  if (!TOKEN.test(token)) return { state: "unknown" };
  const row = await db
    .prepare(
      `SELECT i.id, i.org_id, o.name AS org_name, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at
       FROM invitations i JOIN orgs o ON o.id = i.org_id WHERE i.token_hash = ?`,
    )
    .bind(await sha256Hex(token))
    .first<{ id: string; org_id: string; org_name: string; email: string; role: string; expires_at: number; accepted_at: number | null; revoked_at: number | null }>();
  if (!row || !isRole(row.role)) return { state: "unknown" };
  if (row.accepted_at !== null) return { state: "used", orgName: row.org_name };
  if (row.revoked_at !== null) return { state: "revoked", orgName: row.org_name };
  if (row.expires_at <= now) return { state: "expired", orgName: row.org_name };
  return { state: "pending", invitation: { id: row.id, orgId: row.org_id, orgName: row.org_name, email: row.email, role: row.role, expiresAt: row.expires_at } };
}

/**
 * Marks the invitation used by the user, if it is still pending and addressed to the user's
 * e-mail, and adds the membership. The INSERT keys on this acceptance (by, at), so a used link
 * never adds anyone again.
 */
function acceptStatements(db: D1Database, invitationId: string, userId: string, now: number): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE invitations SET accepted_at = ?1, accepted_by = ?2
         WHERE id = ?3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?1 AND email = (SELECT email FROM users WHERE id = ?2)`,
      )
      .bind(now, userId, invitationId),
    db
      .prepare(
        `INSERT INTO memberships (org_id, user_id, role, created_at)
         SELECT org_id, ?2, role, ?1 FROM invitations WHERE id = ?3 AND accepted_by = ?2 AND accepted_at = ?1
         ON CONFLICT (org_id, user_id) DO NOTHING`,
      )
      .bind(now, userId, invitationId),
  ];
}

/** An existing user joins; false when the invitation is no longer pending or is for another e-mail. */
export async function acceptInvitation(db: D1Database, invitationId: string, userId: string, now = Date.now()): Promise<boolean> {
  const [marked] = await db.batch(acceptStatements(db, invitationId, userId, now));
  return (marked?.meta.changes ?? 0) > 0;
}

/**
 * A new account with the invited e-mail joins, in one batch: the account exists only if the
 * invitation was still pending and no account had that e-mail.
 */
export async function acceptWithNewAccount(
  db: D1Database,
  invitation: Invitation,
  input: { name: string; password: string },
  now = Date.now(),
): Promise<User | "email-taken" | "gone"> {
  const id = `usr_${randomHex(10)}`;
  const passwordHash = await hashPassword(input.password);
  const [created] = await db.batch([
    db
      .prepare(
        `INSERT INTO users (id, email, name, password_hash, created_at)
         SELECT ?1, i.email, ?2, ?3, ?4 FROM invitations i
         WHERE i.id = ?5 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?4
           AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = i.email)`,
      )
      .bind(id, input.name, passwordHash, now, invitation.id),
    ...acceptStatements(db, invitation.id, id, now),
  ]);
  if ((created?.meta.changes ?? 0) > 0) return { id, email: invitation.email, name: input.name, passwordHash, sessionVersion: 0 };
  const taken = await db.prepare("SELECT 1 AS one FROM users WHERE email = ?").bind(invitation.email).first();
  return taken ? "email-taken" : "gone";
}
