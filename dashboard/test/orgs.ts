// Organisations and members for tests, made through the product as people make them: the first
// owner signs up, everyone else arrives by an invitation link, and each new organisation is
// created from the new-organisation form by a user who then leaves the organisation that invited
// them. Each person has their own e-mail address so tests in one D1 stay apart.
import type { Role } from "../app/auth/permissions";
import * as invitePage from "../app/routes/invite.$token";
import * as membersPage from "../app/routes/org.members";
import * as orgNew from "../app/routes/org.new";
import * as orgSettings from "../app/routes/org.settings";
import * as signup from "../app/routes/signup";
import { browserRequest, run, type Harness } from "./harness";

export interface Person {
  id: string;
  email: string;
  password: string;
  session: string;
}

let n = 0;

/** The first owner of each harness's database and their organisation, who invite each organisation's founder. */
const founders = new WeakMap<Harness, { orgId: string; owner: Person }>();
/** Who owns each organisation made here, to invite its members. */
const owners = new Map<string, Person>();

const cookieOf = (res: Response, name: string): string =>
  decodeURIComponent(new RegExp(`^${name}=([^;]*)`).exec(res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? "")?.[1] ?? "");

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: answered ${res.status} ${await res.text()}`);
  return res;
}

/** The user's id, as the members page shows it to them. */
async function idOf(h: Harness, session: string, orgId: string): Promise<string> {
  const res = await run(() => membersPage.loader({ request: browserRequest("/org/members", { session, cookie: `__org=${orgId}` }), params: {}, context: h.context }));
  return (await bodyOf<{ viewer: { userId: string } }>(await expectStatus(res, 200, "members page"))).viewer.userId;
}

/** Signs up the first owner of the harness's database, once. */
async function founder(h: Harness): Promise<{ orgId: string; owner: Person }> {
  const known = founders.get(h);
  if (known) return known;
  const email = "founder@example.com";
  const password = "founder-password-1";
  const res = await run(() => signup.action({ request: browserRequest("/signup", { form: { email, name: "owner founder", password, orgName: "Founders" } }), params: {}, context: h.context }));
  await expectStatus(res, 302, "the first owner's sign-up (a test that signs up itself cannot use orgs.ts)");
  const session = cookieOf(res, "__session");
  const members = await bodyOf<{ viewer: { userId: string; orgId: string } }>(
    await run(() => membersPage.loader({ request: browserRequest("/org/members", { session }), params: {}, context: h.context })),
  );
  const made = { orgId: members.viewer.orgId, owner: { id: members.viewer.userId, email, password, session } };
  founders.set(h, made);
  owners.set(made.orgId, made.owner);
  return made;
}

/** An invitation link's token, made by the organisation's owner on the members page. */
async function invite(h: Harness, orgId: string, email: string, role: Exclude<Role, "owner">): Promise<string> {
  const owner = owners.get(orgId);
  if (!owner) throw new Error(`no owner known for ${orgId}: make organisations with newOrg`);
  const res = await run(() =>
    membersPage.action({ request: browserRequest("/org/members", { session: owner.session, cookie: `__org=${orgId}`, form: { intent: "invite", email, role } }), params: {}, context: h.context }),
  );
  const body = await bodyOf<{ link?: string }>(await expectStatus(res, 200, `inviting ${email}`));
  return (body.link ?? "").slice(-64);
}

async function accept(h: Harness, token: string, form: Record<string, string>, session?: string): Promise<Response> {
  const res = await run(() => invitePage.action({ request: browserRequest(`/invite/${token}`, { session, form }), params: { token }, context: h.context }));
  return expectStatus(res, 302, "accepting an invitation");
}

/** A new user with `role` in the organisation, who signed up on an invitation link and is signed in. */
export async function newMember(h: Harness, orgId: string, role: Role, email = `${role}-${++n}@example.com`): Promise<Person> {
  return signUpInvited(h, orgId, role, email, role);
}

/** newMember, named after `title` (its role where it founds an organisation) rather than its role here. */
async function signUpInvited(h: Harness, orgId: string, role: Role, email: string, title: string): Promise<Person> {
  const password = `${title}-password-${++n}`;
  const token = await invite(h, orgId, email, role === "owner" ? "admin" : role);
  const session = cookieOf(await accept(h, token, { intent: "create", name: `${title} ${n}`, password }), "__session");
  const person = { id: await idOf(h, session, orgId), email, password, session };
  if (role === "owner") await setRole(h, orgId, person.id, "owner");
  return person;
}

async function setRole(h: Harness, orgId: string, userId: string, role: Role): Promise<void> {
  const owner = owners.get(orgId);
  const res = await run(() =>
    membersPage.action({ request: browserRequest("/org/members", { session: owner?.session, cookie: `__org=${orgId}`, form: { intent: "role", userId, role } }), params: {}, context: h.context }),
  );
  await expectStatus(res, 200, `making ${userId} ${role}`);
}

/** A new organisation, created by its owner from the new-organisation form; the owner belongs to it alone. */
export async function newOrg(h: Harness, name = `Org ${++n}`): Promise<{ orgId: string; owner: Person }> {
  const first = await founder(h);
  const owner = await signUpInvited(h, first.orgId, "viewer", `owner-${++n}@example.com`, "owner");
  const created = await run(() => orgNew.action({ request: browserRequest("/org/new", { session: owner.session, form: { name } }), params: {}, context: h.context }));
  const orgId = cookieOf(await expectStatus(created, 302, `creating organisation ${name}`), "__org");
  const left = await run(() =>
    orgSettings.action({ request: browserRequest("/org/settings", { session: owner.session, cookie: `__org=${first.orgId}`, form: { intent: "leave" } }), params: {}, context: h.context }),
  );
  await expectStatus(left, 302, "leaving the founders' organisation");
  owners.set(orgId, owner);
  return { orgId, owner };
}

/** An existing user joins another organisation with `role` through an invitation, signed in. */
export async function join(h: Harness, orgId: string, person: Person, role: Exclude<Role, "owner">): Promise<void> {
  await accept(h, await invite(h, orgId, person.email, role), { intent: "join" }, person.session);
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
