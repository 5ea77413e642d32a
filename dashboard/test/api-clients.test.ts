// The organisation's API clients page against a real D1: a client is made with scopes its maker
// holds and for all apps or some, its secret is shown once and works at the token endpoint's
// check (authenticateClient), a rotation keeps the old secret for the overlap chosen, a revoke
// stops it, and no organisation sees or touches another's clients.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticateClient } from "../../workers/oauth/clients";
import { createApp } from "../app/db/apps.server";
import * as page from "../app/routes/org.api-clients";
import { CSRF, csrfTokenFor, ORIGIN, run, startHarness, browserRequest, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let orgId = "";
let owner: Person;
let admin: Person;
let analyst: Person;
let other: { orgId: string; owner: Person };

interface Listed {
  id: string;
  name: string;
  scopes: string[];
  appIds: string[] | null;
  createdByName: string;
  rotatedAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  manageable: boolean;
}
interface PageData {
  canManage: boolean;
  clients: Listed[];
  apps: Array<{ id: string; name: string }>;
  scopes: Array<{ scope: string; description: string }>;
  withheld: string[];
}
type Result = { ok: string; clientId: string; secret?: string } | { error: string; values?: { name: string; scopes: string[] } };

beforeAll(async () => {
  h = await startHarness();
  ({ orgId, owner } = await newOrg(h, "Clients"));
  admin = await newMember(h, orgId, "admin");
  analyst = await newMember(h, orgId, "analyst");
  await createApp(h.db, orgId, { id: "app_shop", name: "Shop" });
  await createApp(h.db, orgId, { id: "app_blog", name: "Blog" });
  other = await newOrg(h, "Elsewhere");
  await createApp(h.db, other.orgId, { id: "app_theirs", name: "Theirs" });
}, 180_000);

afterAll(async () => h?.close());

/** A form post as the browser sends it, where a field may repeat (checkboxes). */
function post(session: string, fields: Array<[string, string]>): Request {
  const body = new URLSearchParams([["csrf", csrfTokenFor(session)], ...fields]);
  return new Request(`${ORIGIN}/org/api-clients`, { method: "POST", headers: { cookie: `__csrf=${CSRF}; __session=${session}`, origin: ORIGIN }, body });
}

const act = (session: string, fields: Array<[string, string]>) => run(() => page.action({ request: post(session, fields), params: {}, context: h.context }));
const list = async (session: string): Promise<PageData> => {
  const res = await run(() => page.loader({ request: browserRequest("/org/api-clients", { session }), params: {}, context: h.context }));
  expect(res.status).toBe(200);
  return bodyOf<PageData>(res);
};

function create(session: string, name: string, scopes: string[], appIds: string[] | null = null) {
  return act(session, [
    ["intent", "create"],
    ["name", name],
    ...scopes.map((s): [string, string] => ["scope", s]),
    ["apps", appIds ? "some" : "all"],
    ...(appIds ?? []).map((a): [string, string] => ["app", a]),
  ]);
}

/** A new client's id and secret; fails the test when it is refused. */
async function made(session: string, name: string, scopes: string[], appIds: string[] | null = null): Promise<{ id: string; secret: string }> {
  const res = await create(session, name, scopes, appIds);
  const body = await bodyOf<Result>(res);
  if (res.status !== 200 || !("secret" in body) || !body.secret) throw new Error(`not created: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.clientId, secret: body.secret };
}

const rotate = (session: string, clientId: string, overlap: string) =>
  act(session, [
    ["intent", "rotate"],
    ["clientId", clientId],
    ["overlap", overlap],
  ]);
const revoke = (session: string, clientId: string) =>
  act(session, [
    ["intent", "revoke"],
    ["clientId", clientId],
  ]);
const works = async (id: string, secret: string): Promise<boolean> => (await authenticateClient(h.db, id, secret)) !== null;

describe("creating a client", () => {
  it("shows the id and secret once; the list then names it, its scopes, its apps and who made it, never the secret", async () => {
    const res = await create(owner.session, "Nightly export", ["data:read", "flag:update"], ["app_shop"]);
    expect(res.status).toBe(200);
    const body = await bodyOf<Result>(res);
    if (!("secret" in body) || !body.secret) throw new Error(JSON.stringify(body));
    expect(body.clientId).toMatch(/^cli_[0-9a-f]{24}$/);
    expect(body.secret).toMatch(/^cs_[0-9a-f]{64}$/);
    expect(await works(body.clientId, body.secret)).toBe(true);

    const res2 = await run(() => page.loader({ request: browserRequest("/org/api-clients", { session: owner.session }), params: {}, context: h.context }));
    const text = await res2.text();
    expect(text).not.toContain(body.secret);
    const data = JSON.parse(text) as PageData;
    const row = data.clients.find((c) => c.id === body.clientId);
    expect(row).toMatchObject({ name: "Nightly export", scopes: ["data:read", "flag:update"], appIds: ["app_shop"], revokedAt: null, rotatedAt: null, manageable: true });
    expect(row?.createdByName).toMatch(/^owner /);
    // Authenticating above is a use.
    expect(row?.lastUsedAt).toEqual(expect.any(Number));
  });

  it("makes a client for every app when no app is chosen", async () => {
    const { id } = await made(owner.session, "Every app", ["data:read"]);
    expect((await list(owner.session)).clients.find((c) => c.id === id)?.appIds).toBeNull();
  });

  it("offers only the scopes some API route asks for, and refuses any other, the form coming back as typed", async () => {
    const res = await create(owner.session, "Too much", ["data:read", "org:update"]);
    expect(res.status).toBe(400);
    const body = await bodyOf<Result>(res);
    expect("error" in body && body.error).toContain("No API route asks for org:update");
    expect("values" in body && body.values).toMatchObject({ name: "Too much", scopes: ["data:read", "org:update"] });
    expect((await list(owner.session)).clients.some((c) => c.name === "Too much")).toBe(false);
    const offered = await list(admin.session);
    expect(offered.scopes.map((s) => s.scope)).toEqual(["data:read", "data:export", "app:create", "app:update", "app:delete", "key:create", "key:revoke", "alert:update", "flag:update", "privacy:manage"]);
    expect(offered.withheld).toEqual([]);
    await made(admin.session, "Admin's", ["data:read", "app:delete"]);
  });

  it("refuses a client without a name, without a scope, for no chosen app, or for another organisation's app", async () => {
    expect((await create(owner.session, " ", ["data:read"])).status).toBe(400);
    expect((await create(owner.session, "No scope", [])).status).toBe(400);
    expect((await create(owner.session, "No app", ["data:read"], [])).status).toBe(400);
    const res = await create(owner.session, "Theirs", ["data:read"], ["app_theirs"]);
    expect(res.status).toBe(400);
    expect(await bodyOf<Result>(res)).toMatchObject({ error: expect.stringContaining("app_theirs") });
  });

  it("lets members without member:update see the list but not manage it", async () => {
    const seen = await list(analyst.session);
    expect(seen.canManage).toBe(false);
    expect(seen.clients.length).toBeGreaterThan(0);
    expect(seen.clients.every((c) => !c.manageable)).toBe(true);
    expect((await create(analyst.session, "Mine", ["data:read"])).status).toBe(403);
  });
});

describe("rotating and revoking", () => {
  it("rotates with no overlap: the new secret works, the old one no longer", async () => {
    const { id, secret } = await made(owner.session, "Rotate now", ["data:read"]);
    const res = await rotate(owner.session, id, "none");
    expect(res.status).toBe(200);
    const body = await bodyOf<Result>(res);
    if (!("secret" in body) || !body.secret) throw new Error(JSON.stringify(body));
    expect(body.ok).toContain("stopped working now");
    expect(body.secret).not.toBe(secret);
    expect(await works(id, body.secret)).toBe(true);
    expect(await works(id, secret)).toBe(false);
    expect((await list(owner.session)).clients.find((c) => c.id === id)?.rotatedAt).toEqual(expect.any(Number));
  });

  it("rotates with a day's overlap: both secrets work", async () => {
    const { id, secret } = await made(owner.session, "Rotate gently", ["data:read"]);
    const body = await bodyOf<Result>(await rotate(admin.session, id, "day"));
    if (!("secret" in body) || !body.secret) throw new Error(JSON.stringify(body));
    expect(body.ok).toContain("keeps working for 1 day");
    expect(await works(id, body.secret)).toBe(true);
    expect(await works(id, secret)).toBe(true);
    expect((await rotate(owner.session, id, "month")).status).toBe(400);
  });

  it("revokes: the secret stops, the list greys it, and it can be neither rotated nor revoked again", async () => {
    const { id, secret } = await made(owner.session, "Short-lived", ["data:read"]);
    const res = await revoke(admin.session, id);
    expect(res.status).toBe(200);
    expect(await bodyOf<Result>(res)).toMatchObject({ ok: expect.stringContaining("revoked"), clientId: id });
    expect(await works(id, secret)).toBe(false);
    const row = (await list(owner.session)).clients.find((c) => c.id === id);
    expect(row?.revokedAt).toEqual(expect.any(Number));
    expect(row?.manageable).toBe(false);
    expect((await rotate(owner.session, id, "none")).status).toBe(404);
    expect((await revoke(owner.session, id)).status).toBe(404);
  });


  it("leaves rotating and revoking to members with member:update", async () => {
    const { id } = await made(owner.session, "Analyst-proof", ["data:read"]);
    expect((await rotate(analyst.session, id, "none")).status).toBe(403);
    expect((await revoke(analyst.session, id)).status).toBe(403);
  });
});

describe("between organisations", () => {
  it("shows an organisation none of another's clients, and refuses to rotate or revoke them as missing", async () => {
    const { id, secret } = await made(owner.session, "Ours alone", ["data:read"]);
    const theirs = await made(other.owner.session, "Theirs alone", ["data:read"]);
    const seen = await list(other.owner.session);
    expect(seen.clients.map((c) => c.id)).toEqual([theirs.id]);
    expect(seen.apps.map((a) => a.id)).toEqual(["app_theirs"]);
    expect((await list(owner.session)).clients.some((c) => c.id === theirs.id)).toBe(false);
    expect((await rotate(other.owner.session, id, "none")).status).toBe(404);
    expect((await revoke(other.owner.session, id)).status).toBe(404);
    expect(await works(id, secret)).toBe(true);
  });
});
