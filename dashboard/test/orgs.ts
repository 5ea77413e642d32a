// Organisations and members for tests, each with its own e-mail addresses so tests in one D1
// stay apart.
import type { Role } from "../app/auth/permissions";
import { issueSessionToken } from "../app/auth/session.server";
import { addMember } from "../app/db/accounts.server";
import { randomHex } from "../app/db/ids.server";
import { SECRET, type Harness } from "./harness";

export interface Person {
  id: string;
  email: string;
  password: string;
  session: string;
}

let n = 0;

/** A new user with `role` in the organisation, signed in. */
export async function newMember(h: Harness, orgId: string, role: Role, email = `${role}-${++n}@example.com`): Promise<Person> {
  const password = `${role}-password-${n}`;
  const user = await addMember(h.db, orgId, { email, name: `${role} ${n}`, password, role });
  return { id: user.id, email, password, session: await issueSessionToken(SECRET, user.id, 0) };
}

/** A new organisation and its owner. */
export async function newOrg(h: Harness, name = `Org ${++n}`): Promise<{ orgId: string; owner: Person }> {
  const orgId = `org_${randomHex(8)}`;
  await h.db.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)").bind(orgId, name, Date.now()).run();
  return { orgId, owner: await newMember(h, orgId, "owner") };
}

/** Adds an existing user to another organisation. */
export async function join(h: Harness, orgId: string, userId: string, role: Role, at = Date.now()): Promise<void> {
  await h.db.prepare("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)").bind(orgId, userId, role, at).run();
}

/** The user's role in the organisation, or null when not a member. */
export async function roleIn(h: Harness, orgId: string, userId: string): Promise<string | null> {
  const row = await h.db.prepare("SELECT role FROM memberships WHERE org_id = ? AND user_id = ?").bind(orgId, userId).first<{ role: string }>();
  return row?.role ?? null;
}

/** A response's JSON body, typed by the caller. */
export async function bodyOf<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
