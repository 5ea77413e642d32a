// The privacy page and its export download × every role, against a real D1 and ClickHouse: only
// owners and admins may delete or export a person; a deletion is stored with its suppression and
// audit entry at once; an export holds everything of the person through their linked ids.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../app/auth/permissions";
import type { AuditEntry, DeletionRequest } from "../app/db/privacy.server";
import * as page from "../app/routes/apps.$app.privacy";
import * as download from "../app/routes/apps.$app.privacy.export";
import * as person from "../app/routes/apps.$app.users.$user";
import { renderPage as renderTo } from "./render";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { matrixWorld, roleMatrix, type Case } from "./matrix";

let h: Harness;
let owner = "";

const renderPage = (data: unknown): Promise<string> => renderTo(page.default, "http://127.0.0.1/apps/app_x/privacy", data);
const sessions = new Map<Role, string>();
let n = 0;

const MANAGERS: readonly Role[] = ["owner", "admin"];
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  const world = await matrixWorld(h);
  for (const [role, s] of world.sessions) sessions.set(role, s);
  owner = world.sessions.get("owner") ?? "";
  const row = (fields: Record<string, string | number>) => ({ app_id: "app_x", type: "track", event: "Viewed", message_id: `m${++n}`, timestamp: ago(30 - n), received_at: ago(30 - n), ...fields });
  await h.insertEvents([
    row({ anonymous_id: "anon-1", session_id: "s1", type: "page", event: "", path: "/pricing" }),
    row({ user_id: "u-1", anonymous_id: "anon-1", session_id: "s1", type: "identify", event: "", traits: JSON.stringify({ plan: "pro" }) }),
    row({ user_id: "u-1", anonymous_id: "anon-1", session_id: "s1", event: "Order Completed" }),
    row({ user_id: "u-2", anonymous_id: "anon-2", session_id: "s2", event: "Order Completed" }),
    row({ app_id: "app_other", user_id: "u-1", anonymous_id: "anon-1", session_id: "s9", event: "Elsewhere" }),
  ]);
}, 180_000);

afterAll(async () => h?.close());

const load = (s: string, app = "app_x") => run(() => page.loader({ request: browserRequest(`/apps/${app}/privacy`, { session: s }), params: { app }, context: h.context }));
const act = (s: string, form: Record<string, string>, app = "app_x") =>
  run(() => page.action({ request: browserRequest(`/apps/${app}/privacy`, { session: s, form: { intent: "delete", ...form } }), params: { app }, context: h.context }));
const exportOf = (s: string, query: string, app = "app_x") =>
  run(() => download.loader({ request: browserRequest(`/apps/${app}/privacy/export?${query}`, { session: s }), params: { app }, context: h.context }));

const CASES: Case[] = [
  { name: "GET /apps/:app/privacy", allowed: MANAGERS, okStatus: 200, call: (s) => load(s) },
  { name: "POST /apps/:app/privacy (delete a person)", allowed: MANAGERS, okStatus: 200, call: (s) => act(s, { kind: "user", id: `gone-${++n}`, confirmId: `gone-${n}` }) },
  { name: "GET /apps/:app/privacy/export", allowed: MANAGERS, okStatus: 200, call: (s) => exportOf(s, "kind=user&id=u-2") },
];

describe("privacy routes × role matrix", () => {
  roleMatrix(CASES, sessions);
});

describe("the privacy page", () => {
  it("stores a deletion at once with who asked, and audits it", async () => {
    const res = await act(owner, { kind: "anonymous", id: "anon-9", confirmId: "anon-9" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { ok: string }).ok).toMatch(/dropped within 30 seconds/);
    const data = (await (await load(owner)).json()) as { requests: DeletionRequest[]; audit: AuditEntry[] };
    const mine = data.requests.find((r) => r.requested.anonymousIds.includes("anon-9"));
    expect(mine).toMatchObject({ status: "pending", requestedBy: expect.stringContaining("@"), removed: {} });
    expect(data.audit.find((e) => e.requestId === mine?.id)).toMatchObject({ action: "deletion_requested", detail: { anonymousIds: ["anon-9"] } });
    const suppressed = await h.db.prepare("SELECT kind, id FROM suppressed_ids WHERE app_id = 'app_x' AND request_id = ?1").bind(mine?.id ?? "").all();
    expect(suppressed.results).toEqual([{ kind: "anonymous", id: "anon-9" }]);
  });

  it("asks for the id twice and says what is wrong with a bad form", async () => {
    const differ = await act(owner, { kind: "user", id: "u-1", confirmId: "u-l" });
    expect(differ.status).toBe(400);
    expect(await differ.json()).toEqual({ error: "The two ids differ: type the id again to confirm the deletion." });
    expect((await act(owner, { kind: "email", id: "u-1", confirmId: "u-1" })).status).toBe(400);
    expect((await act(owner, { kind: "user", id: "", confirmId: "" })).status).toBe(400);
    const data = (await (await load(owner)).json()) as { requests: DeletionRequest[] };
    expect(data.requests.some((r) => r.requested.userIds.includes("u-1"))).toBe(false);
  });

  it("downloads everything of a person through their anonymous id, and records the export", async () => {
    const res = await exportOf(owner, "kind=anonymous&id=anon-1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="app_x-anon-1-export.json"');
    const doc = JSON.parse(await res.text()) as { app: string; subject: { userIds: string[] }; traits: unknown; sessions: Array<{ session_id: string }>; events: Array<{ message_id: string; user_id: string }> };
    expect(doc.app).toBe("app_x");
    expect(doc.subject.userIds).toEqual(["u-1"]);
    expect(doc.events.map((e) => e.message_id)).toEqual(["m1", "m2", "m3"]);
    expect(doc.traits).toEqual({ plan: "pro" });
    expect(doc.sessions.map((s) => s.session_id)).toEqual(["s1"]);
    const data = (await (await load(owner)).json()) as { audit: AuditEntry[] };
    expect(data.audit.find((e) => e.action === "export" && JSON.stringify(e.detail).includes("anon-1"))).toMatchObject({ detail: { userIds: ["u-1"], anonymousIds: ["anon-1"] } });
    expect((await exportOf(owner, "kind=user&id=")).status).toBe(400);
  });

  it("is linked from a person's page for those who may use it, with the person filled in", async () => {
    const personPage = async (role: Role) =>
      (await (await run(() => person.loader({ request: browserRequest("/apps/app_x/users/u-1?range=24h", { session: sessions.get(role) }), params: { app: "app_x", user: "u-1" }, context: h.context }))).json()) as {
        canManagePrivacy: boolean;
      };
    expect((await personPage("admin")).canManagePrivacy).toBe(true);
    expect((await personPage("analyst")).canManagePrivacy).toBe(false);
    const res = await run(() => page.loader({ request: browserRequest("/apps/app_x/privacy?kind=anonymous&id=anon-1", { session: owner }), params: { app: "app_x" }, context: h.context }));
    expect(((await res.json()) as { prefill: unknown }).prefill).toEqual({ kind: "anonymous", id: "anon-1" });
  });

  it("shows the requests with their state and what they removed, and the Privacy tab only to those who may use it", async () => {
    const data = (await (await load(owner)).json()) as { viewer: { role: string }; requests: DeletionRequest[] };
    const html = await renderPage(data);
    expect(html).toContain("Delete this person");
    expect(html).toContain("anonymous anon-9");
    expect(html).toContain("pending");
    expect(html).toContain("drops new events for the person within 30 seconds");
    expect(html).toContain('href="/apps/app_x/privacy"');
    expect(await renderPage({ ...data, viewer: { ...data.viewer, role: "analyst" } })).not.toContain('href="/apps/app_x/privacy"');
  });

  it("hides another organisation's app", async () => {
    expect((await load(owner, "app_other")).status).toBe(404);
    expect((await act(owner, { kind: "user", id: "u-1", confirmId: "u-1" }, "app_other")).status).toBe(404);
    expect((await exportOf(owner, "kind=user&id=u-1", "app_other")).status).toBe(404);
  });
});
