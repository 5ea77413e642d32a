// Invitations against a real D1: the link shown once and stored as a hash, who may invite whom,
// accepting as a new or an existing account, the e-mail that must match, one use, and the page a
// wrong, expired, revoked or used link gets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../app/db/ids.server";
import { acceptInvitation, createInvitation, findInvitation } from "../app/db/invitations.server";
import * as invitePage from "../app/routes/invite.$token";
import * as membersPage from "../app/routes/org.members";
import { browserRequest, ORIGIN, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, roleIn } from "./orgs";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => h?.close());

type Result = { ok: string; link?: string } | { error: string };
interface Pending {
  state: "pending";
  orgName: string;
  email: string;
  role: string;
  visitor: { kind: string; email?: string };
}
interface Unusable {
  state: string;
  message: string;
}

const membersAction = (session: string, form: Record<string, string>) =>
  run(() => membersPage.action({ request: browserRequest("/org/members", { session, form }), params: {}, context: h.context }));

/** Invites as `session` and returns the link's token. */
async function invite(session: string, email: string, role: string): Promise<string> {
  const res = await membersAction(session, { intent: "invite", email, role });
  const body = await bodyOf<Result>(res);
  if (!("link" in body) || !body.link) throw new Error(`no invitation: ${JSON.stringify(body)}`);
  return body.link.slice(`${ORIGIN}/invite/`.length);
}

const open = (token: string, opts: { session?: string; ip?: string } = {}) => {
  const request = browserRequest(`/invite/${token}`, { session: opts.session });
  if (opts.ip) request.headers.set("cf-connecting-ip", opts.ip);
  return run(() => invitePage.loader({ request, params: { token }, context: h.context }));
};
const accept = (token: string, form: Record<string, string>, session?: string) =>
  run(() => invitePage.action({ request: browserRequest(`/invite/${token}`, { session, form }), params: { token }, context: h.context }));

const cookiesOf = (res: Response): string[] => res.headers.getSetCookie();

describe("inviting", () => {
  it("shows the link once, stores only its hash, and lists the invitation as pending", async () => {
    const { orgId, owner } = await newOrg(h, "Hashes");
    const res = await membersAction(owner.session, { intent: "invite", email: "New.Person@Example.com", role: "developer" });
    expect(res.status).toBe(200);
    const body = await bodyOf<Result>(res);
    expect(body).toMatchObject({ ok: expect.stringContaining("shown only now"), link: expect.stringMatching(new RegExp(`^${ORIGIN}/invite/[0-9a-f]{64}$`)) });
    const token = "link" in body && body.link ? body.link.slice(-64) : "";

    const rows = await h.db.prepare("SELECT * FROM invitations WHERE org_id = ?").bind(orgId).all();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ email: "new.person@example.com", role: "developer", token_hash: await sha256Hex(token) });
    expect(JSON.stringify(rows.results)).not.toContain(token);

    const page = await bodyOf<{ invitations: Array<{ email: string; role: string; invitedBy: string; expiresAt: number }> }>(
      await run(() => membersPage.loader({ request: browserRequest("/org/members", { session: owner.session }), params: {}, context: h.context })),
    );
    expect(page.invitations).toEqual([expect.objectContaining({ email: "new.person@example.com", role: "developer", invitedBy: expect.stringMatching(/^owner/) })]);
    const days = ((page.invitations[0]?.expiresAt ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
  });

  it("refuses the owner role, bad addresses and people already in the organisation", async () => {
    const { orgId, owner } = await newOrg(h, "Dupes");
    const admin = await newMember(h, orgId, "admin");
    expect((await membersAction(owner.session, { intent: "invite", email: "x@example.com", role: "owner" })).status).toBe(400);
    expect((await membersAction(owner.session, { intent: "invite", email: "not an address", role: "viewer" })).status).toBe(400);
    const dup = await membersAction(owner.session, { intent: "invite", email: admin.email.toUpperCase(), role: "viewer" });
    expect(dup.status).toBe(409);
    expect(await bodyOf<Result>(dup)).toEqual({ error: `${admin.email} is already a member of Dupes.` });
  });
});

describe("accepting", () => {
  it("a newcomer picks a name and password and lands signed in, as a member with the invited role", async () => {
    const { orgId, owner } = await newOrg(h, "Newcomers");
    const token = await invite(owner.session, "newcomer@example.com", "analyst");
    const page = await open(token);
    expect(page.status).toBe(200);
    expect(await bodyOf<Pending>(page)).toMatchObject({ state: "pending", orgName: "Newcomers", email: "newcomer@example.com", role: "analyst", visitor: { kind: "new" } });

    expect((await accept(token, { intent: "create", name: "New", password: "short" })).status).toBe(400);
    const joined = await accept(token, { intent: "create", name: "New Comer", password: "a-long-enough-password" });
    expect(joined.status).toBe(302);
    expect(joined.headers.get("location")).toBe("/apps");
    const cookies = cookiesOf(joined);
    expect(cookies.some((c) => c.startsWith(`__org=${orgId};`))).toBe(true);
    const session = decodeURIComponent(/^__session=([^;]+)/.exec(cookies.find((c) => c.startsWith("__session=")) ?? "")?.[1] ?? "");
    const members = await bodyOf<{ viewer: { orgId: string; role: string; name: string } }>(
      await run(() => membersPage.loader({ request: browserRequest("/org/members", { session }), params: {}, context: h.context })),
    );
    expect(members.viewer).toMatchObject({ orgId, role: "analyst", name: "New Comer" });
  });

  it("an existing user joins while signed in, or by signing in on the page", async () => {
    const { orgId, owner } = await newOrg(h, "Joiners");
    const elsewhere = await newOrg(h);
    const signedIn = await newMember(h, elsewhere.orgId, "viewer");
    const signingIn = await newMember(h, elsewhere.orgId, "developer");

    const first = await invite(owner.session, signedIn.email.toUpperCase(), "developer");
    expect((await bodyOf<Pending>(await open(first, { session: signedIn.session }))).visitor).toEqual({ kind: "invitee" });
    const joined = await accept(first, { intent: "join" }, signedIn.session);
    expect(joined.status).toBe(302);
    expect(cookiesOf(joined).map((c) => c.split("=")[0])).toEqual(["__org"]);
    expect(await roleIn(h, orgId, signedIn.id)).toBe("developer");
    expect(await roleIn(h, elsewhere.orgId, signedIn.id)).toBe("viewer");

    const second = await invite(owner.session, signingIn.email, "admin");
    expect((await bodyOf<Pending>(await open(second))).visitor).toEqual({ kind: "has-account" });
    const wrong = await accept(second, { intent: "signin", password: "not-the-password" });
    expect(wrong.status).toBe(401);
    expect(await roleIn(h, orgId, signingIn.id)).toBeNull();
    const right = await accept(second, { intent: "signin", password: signingIn.password });
    expect(right.status).toBe(302);
    expect(cookiesOf(right).map((c) => c.split("=")[0]).sort()).toEqual(["__org", "__session"]);
    expect(await roleIn(h, orgId, signingIn.id)).toBe("admin");
  });

  it("only the account with the invited e-mail can accept", async () => {
    const { orgId, owner } = await newOrg(h);
    const intruder = await newMember(h, (await newOrg(h)).orgId, "owner");
    const invitee = await newMember(h, (await newOrg(h)).orgId, "viewer");
    const token = await invite(owner.session, invitee.email, "viewer");

    expect((await bodyOf<Pending>(await open(token, { session: intruder.session }))).visitor).toEqual({ kind: "someone-else", email: intruder.email });
    const refused = await accept(token, { intent: "join" }, intruder.session);
    expect(refused.status).toBe(403);
    expect(await roleIn(h, orgId, intruder.id)).toBeNull();
    // D1 holds to it too, whatever a route checks first.
    const found = await findInvitation(h.db, token);
    expect(found.state === "pending" && (await acceptInvitation(h.db, found.invitation.id, intruder.id))).toBe(false);
    expect(await roleIn(h, orgId, intruder.id)).toBeNull();
    // Not with a new account either: that address already has one.
    expect((await accept(token, { intent: "create", name: "Fake", password: "another-long-password" })).status).toBe(409);
    expect((await findInvitation(h.db, token)).state).toBe("pending");
  });

  it("a link works once, even when two acceptances race", async () => {
    const { orgId, owner } = await newOrg(h, "Once");
    const user = await newMember(h, (await newOrg(h)).orgId, "viewer");
    const { token } = await createInvitation(h.db, orgId, { email: user.email, role: "developer", invitedBy: owner.id });
    const found = await findInvitation(h.db, token);
    if (found.state !== "pending") throw new Error("not pending");
    const raced = await Promise.all([acceptInvitation(h.db, found.invitation.id, user.id), acceptInvitation(h.db, found.invitation.id, user.id)]);
    expect(raced.filter(Boolean)).toHaveLength(1);

    // Removed afterwards, the used link does not bring them back.
    await membersAction(owner.session, { intent: "remove", userId: user.id });
    const reused = await accept(token, { intent: "join" }, user.session);
    expect(reused.status).toBe(410);
    expect(await acceptInvitation(h.db, found.invitation.id, user.id)).toBe(false);
    expect(await roleIn(h, orgId, user.id)).toBeNull();
    const page = await open(token, { session: user.session });
    expect(page.status).toBe(410);
    expect((await bodyOf<Unusable>(page)).message).toContain("already been used");
  });
});

describe("links that cannot be used", () => {
  it("says what happened to a revoked, replaced, expired, unknown or malformed link", async () => {
    const { orgId, owner } = await newOrg(h, "Gone");
    const revoked = await invite(owner.session, "revoked@example.com", "viewer");
    const found = await findInvitation(h.db, revoked);
    const id = found.state === "pending" ? found.invitation.id : "";
    expect(await bodyOf<Result>(await membersAction(owner.session, { intent: "revoke-invitation", invitationId: id }))).toEqual({ ok: "Invitation revoked: its link no longer works." });
    expect((await membersAction(owner.session, { intent: "revoke-invitation", invitationId: id })).status).toBe(404);

    const replaced = await invite(owner.session, "twice@example.com", "viewer");
    const again = await bodyOf<Result>(await membersAction(owner.session, { intent: "invite", email: "twice@example.com", role: "analyst" }));
    expect(again).toMatchObject({ ok: expect.stringContaining("The earlier link for this address no longer works.") });

    const { token: expired } = await createInvitation(h.db, orgId, { email: "late@example.com", role: "viewer", invitedBy: owner.id }, Date.now() - 8 * 86_400_000);

    const cases: Array<[string, number, string]> = [
      [revoked, 410, "This invitation to Gone was revoked."],
      [replaced, 410, "This invitation to Gone was revoked."],
      [expired, 410, "This invitation to Gone has expired"],
      ["ab".repeat(32), 404, "This invitation link is not valid."],
      ["not-a-token", 404, "This invitation link is not valid."],
    ];
    for (const [token, status, message] of cases) {
      const page = await open(token);
      expect(page.status).toBe(status);
      expect((await bodyOf<Unusable>(page)).message).toContain(message);
      const post = await accept(token, { intent: "create", name: "X", password: "a-long-enough-password" });
      expect(post.status).toBe(status);
    }
    const left = await h.db.prepare("SELECT count(*) AS n FROM users WHERE email IN ('revoked@example.com', 'twice@example.com', 'late@example.com')").first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("refuses an address that opened too many unknown links, for a while", async () => {
    const { owner } = await newOrg(h);
    const valid = await invite(owner.session, "patient@example.com", "viewer");
    for (let i = 0; i < 20; i++) expect((await open(`${i}`.padStart(64, "c"), { ip: "203.0.113.9" })).status).toBe(404);
    const blocked = await open(valid, { ip: "203.0.113.9" });
    expect(blocked.status).toBe(429);
    expect((await bodyOf<Unusable>(blocked)).message).toContain("Wait 15 minutes");
    expect((await open(valid, { ip: "203.0.113.10" })).status).toBe(200);
  });

  it("refuses an acceptance without the CSRF token", async () => {
    const { orgId, owner } = await newOrg(h);
    const token = await invite(owner.session, "csrf@example.com", "viewer");
    const request = new Request(`${ORIGIN}/invite/${token}`, { method: "POST", headers: { origin: ORIGIN }, body: new URLSearchParams({ intent: "create", name: "C", password: "a-long-enough-password" }) });
    expect((await run(() => invitePage.action({ request, params: { token }, context: h.context }))).status).toBe(403);
    expect((await findInvitation(h.db, token)).state).toBe("pending");
    expect(await h.db.prepare("SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email = ?").bind(orgId, "csrf@example.com").first()).toBeNull();
  });
});
