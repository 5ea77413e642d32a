// Members, roles and organisations against a real D1: who sees and changes whom, the owner
// safeguards, that a change reaches open sessions on their next request, renaming, leaving and
// switching between organisations.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app/db/apps.server";
import * as apps from "../app/routes/apps._index";
import * as appSettings from "../app/routes/apps.$app.settings";
import * as login from "../app/routes/login";
import * as membersPage from "../app/routes/org.members";
import * as orgNew from "../app/routes/org.new";
import * as orgSettings from "../app/routes/org.settings";
import * as orgSwitch from "../app/routes/org.switch";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { bodyOf, join, newMember, newOrg, roleIn } from "./orgs";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => h?.close());

interface MembersData {
  viewer: { userId: string; orgId: string; orgName: string; role: string; orgs: Array<{ id: string; name: string }> };
  members: Array<{ userId: string; email: string; name: string; role: string; joinedAt: number }>;
  invitations: unknown[] | null;
  allowed: { update: boolean; invite: boolean };
  grantable: string[];
}

type Result = { ok: string } | { error: string };

const membersLoader = (session: string, cookie?: string) =>
  run(() => membersPage.loader({ request: browserRequest("/org/members", { session, cookie }), params: {}, context: h.context }));
const membersAction = (session: string, form: Record<string, string>) =>
  run(() => membersPage.action({ request: browserRequest("/org/members", { session, form }), params: {}, context: h.context }));
const setRole = (session: string, userId: string, role: string) => membersAction(session, { intent: "role", userId, role });
const remove = (session: string, userId: string) => membersAction(session, { intent: "remove", userId });
const settingsAction = (session: string, form: Record<string, string>) =>
  run(() => orgSettings.action({ request: browserRequest("/org/settings", { session, form }), params: {}, context: h.context }));

describe("members page", () => {
  it("lists this organisation's members with name, e-mail, role and joined date", async () => {
    const { orgId, owner } = await newOrg(h, "Listing");
    const admin = await newMember(h, orgId, "admin");
    const viewer = await newMember(h, orgId, "viewer");
    const elsewhere = await newOrg(h, "Elsewhere");
    await newMember(h, elsewhere.orgId, "developer");

    const asViewer = await membersLoader(viewer.session);
    expect(asViewer.status).toBe(200);
    const seen = await bodyOf<MembersData>(asViewer);
    expect(seen.members.map((m) => [m.email, m.role])).toEqual([
      [owner.email, "owner"],
      [admin.email, "admin"],
      [viewer.email, "viewer"],
    ]);
    expect(seen.members.every((m) => m.name !== "" && m.joinedAt > Date.now() - 60_000)).toBe(true);
    expect(seen.allowed).toEqual({ update: false, invite: false });
    expect(seen.invitations).toBeNull();

    const asAdmin = await bodyOf<MembersData>(await membersLoader(admin.session));
    expect(asAdmin.allowed).toEqual({ update: true, invite: true });
    expect(asAdmin.grantable).toEqual(["admin", "developer", "analyst", "viewer"]);
    expect((await bodyOf<MembersData>(await membersLoader(owner.session))).grantable).toContain("owner");
  });
});

describe("owner safeguards", () => {
  it("never leaves an organisation without an owner", async () => {
    const { orgId, owner } = await newOrg(h);
    const demote = await setRole(owner.session, owner.id, "admin");
    expect(demote.status).toBe(409);
    expect(await bodyOf<Result>(demote)).toEqual({ error: "You are the only owner. Make someone else an owner first." });
    expect((await remove(owner.session, owner.id)).status).toBe(409);
    expect((await settingsAction(owner.session, { intent: "leave" })).status).toBe(409);
    expect(await roleIn(h, orgId, owner.id)).toBe("owner");

    // With a second owner, either may step down, but not both.
    const second = await newMember(h, orgId, "admin");
    expect((await setRole(owner.session, second.id, "owner")).status).toBe(200);
    expect((await setRole(owner.session, owner.id, "developer")).status).toBe(200);
    expect((await setRole(second.session, second.id, "admin")).status).toBe(409);
    expect(await roleIn(h, orgId, second.id)).toBe("owner");
  });

  it("lets only owners grant the owner role or change and remove owners", async () => {
    const { orgId, owner } = await newOrg(h);
    const admin = await newMember(h, orgId, "admin");
    const other = await newMember(h, orgId, "admin");
    const viewer = await newMember(h, orgId, "viewer");

    const promote = await setRole(admin.session, viewer.id, "owner");
    expect(promote.status).toBe(403);
    expect(await bodyOf<Result>(promote)).toEqual({ error: "Your role (admin) cannot make anyone an owner." });
    expect((await setRole(admin.session, owner.id, "viewer")).status).toBe(403);
    expect((await remove(admin.session, owner.id)).status).toBe(403);
    expect(await roleIn(h, orgId, owner.id)).toBe("owner");
    expect(await roleIn(h, orgId, viewer.id)).toBe("viewer");

    // Admins do manage admins and everyone below.
    expect((await setRole(admin.session, viewer.id, "developer")).status).toBe(200);
    expect((await setRole(admin.session, other.id, "analyst")).status).toBe(200);
    const removed = await remove(admin.session, viewer.id);
    expect(await bodyOf<Result>(removed)).toMatchObject({ ok: expect.stringContaining("was removed") });
    expect(await roleIn(h, orgId, viewer.id)).toBeNull();
    expect((await setRole(owner.session, admin.id, "owner")).status).toBe(200);
  });

  it("refuses members of other organisations, unknown roles and forms without the CSRF token", async () => {
    const a = await newOrg(h);
    const b = await newOrg(h);
    const bViewer = await newMember(h, b.orgId, "viewer");
    expect((await setRole(a.owner.session, bViewer.id, "admin")).status).toBe(404);
    expect((await remove(a.owner.session, b.owner.id)).status).toBe(404);
    expect(await roleIn(h, b.orgId, bViewer.id)).toBe("viewer");
    const aViewer = await newMember(h, a.orgId, "viewer");
    expect((await setRole(a.owner.session, aViewer.id, "superuser")).status).toBe(400);

    const noToken = new Request("http://127.0.0.1:8788/org/members", {
      method: "POST",
      headers: { cookie: `__session=${a.owner.session}`, origin: "http://127.0.0.1:8788" },
      body: new URLSearchParams({ intent: "remove", userId: aViewer.id }),
    });
    expect((await run(() => membersPage.action({ request: noToken, params: {}, context: h.context }))).status).toBe(403);
    expect(await roleIn(h, a.orgId, aViewer.id)).toBe("viewer");
  });
});

describe("changes reach open sessions", () => {
  it("a demoted member loses the permission, and a removed one the organisation, on the next request", async () => {
    const { orgId, owner } = await newOrg(h);
    const dev = await newMember(h, orgId, "developer");
    const create = (id: string) =>
      run(() => apps.action({ request: browserRequest("/apps", { session: dev.session, form: { id, name: "Mine" } }), params: {}, context: h.context }));
    expect((await create("app_demoted_1")).status).toBe(302);

    await setRole(owner.session, dev.id, "viewer");
    expect((await create("app_demoted_2")).status).toBe(403);

    await remove(owner.session, dev.id);
    const after = await run(() => apps.loader({ request: browserRequest("/apps", { session: dev.session }), params: {}, context: h.context }));
    expect(after.status).toBe(302);
    expect(after.headers.get("location")).toBe("/login?next=%2Fapps");

    // Signing in again says why instead of looping back to the sign-in page.
    const again = await run(() =>
      login.action({ request: browserRequest("/login", { form: { email: dev.email, password: dev.password } }), params: {}, context: h.context }),
    );
    expect(again.status).toBe(403);
    expect(await bodyOf<Result>(again)).toMatchObject({ error: expect.stringContaining("no longer belongs to any organisation") });
  });
});

describe("organisation settings", () => {
  it("renames for owners, and refuses an empty name", async () => {
    const { owner } = await newOrg(h, "Before");
    expect((await settingsAction(owner.session, { intent: "rename", name: "  " })).status).toBe(400);
    expect(await bodyOf<Result>(await settingsAction(owner.session, { intent: "rename", name: "After" }))).toEqual({ ok: "Renamed to After." });
    const data = await bodyOf<MembersData>(await membersLoader(owner.session));
    expect(data.viewer.orgName).toBe("After");
  });

  it("lets any member leave, after which the organisation is gone from their view", async () => {
    const { orgId } = await newOrg(h);
    const analyst = await newMember(h, orgId, "analyst");
    const left = await settingsAction(analyst.session, { intent: "leave" });
    expect(left.status).toBe(302);
    expect(await roleIn(h, orgId, analyst.id)).toBeNull();
    expect((await membersLoader(analyst.session)).status).toBe(302);
  });
});

describe("creating organisations", () => {
  it("makes the signed-in user the owner of a new, empty organisation and switches to it", async () => {
    const { orgId, owner } = await newOrg(h, "Old");
    const analyst = await newMember(h, orgId, "analyst");
    const create = (form: Record<string, string>) => run(() => orgNew.action({ request: browserRequest("/org/new", { session: analyst.session, form }), params: {}, context: h.context }));
    expect((await create({ name: " " })).status).toBe(400);
    expect((await create({ name: "x".repeat(201) })).status).toBe(400);

    const created = await create({ name: "Analyst's own" });
    expect(created.status).toBe(302);
    expect(created.headers.get("location")).toBe("/apps");
    const newId = /^__org=([^;]+)/.exec(created.headers.get("set-cookie") ?? "")?.[1] ?? "";
    expect(newId).toMatch(/^org_[0-9a-f]{20}$/);
    expect(await roleIn(h, newId, analyst.id)).toBe("owner");
    expect(await roleIn(h, orgId, analyst.id)).toBe("analyst");

    const inNew = await bodyOf<MembersData>(await membersLoader(analyst.session, `__org=${newId}`));
    expect(inNew.viewer).toMatchObject({ orgId: newId, orgName: "Analyst's own", role: "owner" });
    expect(inNew.members.map((m) => m.email)).toEqual([analyst.email]);
    const appsInNew = await bodyOf<{ apps: unknown[] }>(
      await run(() => apps.loader({ request: browserRequest("/apps", { session: analyst.session, cookie: `__org=${newId}` }), params: {}, context: h.context })),
    );
    expect(appsInNew.apps).toEqual([]);
    // The old organisation is untouched: its owner still sees the analyst there, and nobody new.
    expect((await bodyOf<MembersData>(await membersLoader(owner.session))).members.map((m) => m.email)).toEqual([owner.email, analyst.email]);
  });
});

describe("switching organisations", () => {
  it("remembers the chosen organisation, checks it on every request, and keeps other organisations' apps 404", async () => {
    const a = await newOrg(h, "First");
    const b = await newOrg(h, "Second");
    const c = await newOrg(h, "Not mine");
    await createApp(h.db, a.orgId, { id: "app_first", name: "First's app" });
    await createApp(h.db, b.orgId, { id: "app_second", name: "Second's app" });
    const user = await newMember(h, a.orgId, "viewer");
    await join(h, b.orgId, user, "admin");

    const listApps = async (cookie?: string) =>
      bodyOf<{ viewer: MembersData["viewer"]; apps: Array<{ id: string }> }>(
        await run(() => apps.loader({ request: browserRequest("/apps", { session: user.session, cookie }), params: {}, context: h.context })),
      );
    const before = await listApps();
    expect(before.viewer).toMatchObject({ orgId: a.orgId, role: "viewer", orgs: [{ id: a.orgId, name: "First" }, { id: b.orgId, name: "Second" }] });
    expect(before.apps.map((x) => x.id)).toEqual(["app_first"]);

    const switched = await run(() => orgSwitch.action({ request: browserRequest("/org/switch", { session: user.session, form: { org: b.orgId } }), params: {}, context: h.context }));
    expect(switched.status).toBe(302);
    expect(switched.headers.get("location")).toBe("/apps");
    const cookie = switched.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(new RegExp(`^__org=${b.orgId}; Path=/; HttpOnly; SameSite=Lax`));
    const inB = `__org=${b.orgId}`;

    const after = await listApps(inB);
    expect(after.viewer).toMatchObject({ orgId: b.orgId, orgName: "Second", role: "admin" });
    expect(after.apps.map((x) => x.id)).toEqual(["app_second"]);
    const appOfA = (cookieValue: string) =>
      run(() => appSettings.loader({ request: browserRequest("/apps/app_first/settings", { session: user.session, cookie: cookieValue }), params: { app: "app_first" }, context: h.context }));
    expect((await appOfA(inB)).status).toBe(404);
    expect((await appOfA(`__org=${a.orgId}`)).status).toBe(200);

    // The cookie alone grants nothing: an organisation the user is not in falls back to their first.
    expect((await listApps(`__org=${c.orgId}`)).viewer.orgId).toBe(a.orgId);
    const refused = await run(() => orgSwitch.action({ request: browserRequest("/org/switch", { session: user.session, form: { org: c.orgId } }), params: {}, context: h.context }));
    expect(refused.status).toBe(404);

    // Removed from B, the remembered cookie no longer reaches B's apps or role.
    await remove(b.owner.session, user.id);
    const removed = await listApps(inB);
    expect(removed.viewer).toMatchObject({ orgId: a.orgId, role: "viewer", orgs: [{ id: a.orgId, name: "First" }] });
    expect(removed.apps.map((x) => x.id)).toEqual(["app_first"]);
  });
});
