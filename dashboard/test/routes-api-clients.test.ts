// The API clients page × every role, against a real D1: every member sees the list, only those
// who manage members (owner, admin) make, rotate or revoke clients, and another organisation's
// client is 404 for them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../workers/oauth/clients";
import { PERMISSIONS, ROLES, type Role } from "../app/auth/permissions";
import * as page from "../app/routes/org.api-clients";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
let orgId = "";
let otherClient = "";
const sessions = new Map<Role, string>();
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  const world = await matrixWorld(h);
  orgId = world.orgId;
  for (const [role, session] of world.sessions) sessions.set(role, session);
  otherClient = await clientOf(world.otherOrgId);
}, 180_000);

afterAll(async () => h?.close());

const MANAGERS: readonly Role[] = ["owner", "admin"];

/** A new client of `org` with data:read, which every manager holds. */
async function clientOf(org: string): Promise<string> {
  const made = await createClient(h.db, org, { name: `matrix ${++n}`, scopes: ["data:read"] }, PERMISSIONS, "admin");
  if (!made.ok) throw new Error(made.reason);
  return made.client.id;
}

const act = (session: string, form: Record<string, string>) =>
  run(() => page.action({ request: browserRequest("/org/api-clients", { session, form }), params: {}, context: h.context }));
const onFresh = (form: Record<string, string>) => async (session: string) => act(session, { ...form, clientId: await clientOf(orgId) });

const CASES: Case[] = [
  {
    name: "GET /org/api-clients",
    allowed: ROLES,
    okStatus: 200,
    call: (s) => run(() => page.loader({ request: browserRequest("/org/api-clients", { session: s }), params: {}, context: h.context })),
  },
  { name: "create a client", allowed: MANAGERS, okStatus: 200, call: (s) => act(s, { intent: "create", name: `new ${++n}`, scope: "data:read", apps: "some", app: "app_x" }) },
  { name: "rotate a client's secret", allowed: MANAGERS, okStatus: 200, call: onFresh({ intent: "rotate", overlap: "hour" }) },
  { name: "revoke a client", allowed: MANAGERS, okStatus: 200, call: onFresh({ intent: "revoke" }) },
  { name: "rotate another organisation's client", allowed: MANAGERS, okStatus: 404, call: (s) => act(s, { intent: "rotate", overlap: "none", clientId: otherClient }) },
  { name: "revoke another organisation's client", allowed: MANAGERS, okStatus: 404, call: (s) => act(s, { intent: "revoke", clientId: otherClient }) },
];

describe("API clients route × role matrix", () => {
  roleMatrix(CASES, sessions);

  it("sends signed-out visitors to sign in", async () => {
    const res = await run(() => page.loader({ request: browserRequest("/org/api-clients"), params: {}, context: h.context }));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?next=%2Forg%2Fapi-clients");
  });

  it("refuses a post without its CSRF token", async () => {
    const request = new Request("http://127.0.0.1:8788/org/api-clients", {
      method: "POST",
      headers: { cookie: `__session=${sessions.get("owner") ?? ""}` },
      body: new URLSearchParams({ intent: "revoke", clientId: otherClient }),
    });
    expect((await run(() => page.action({ request, params: {}, context: h.context }))).status).toBe(403);
  });
});
