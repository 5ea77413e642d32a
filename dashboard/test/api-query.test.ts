// The query API against the real local D1 and ClickHouse: an API client's access token reads its
// organisation's app's overview, a trend, a page of events and a saved insight as JSON, with the
// page's query string; another organisation's app, an app the token does not list, a scope it
// lacks, no token, a bad token and too many requests are refused in the API's error shape.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_OAUTH_KEY_SECRET } from "../../dev/local";
import { PERMISSIONS } from "../../schemas";
import { createApp, inOrg } from "../../workers/apps/store";
import { createClient } from "../../workers/oauth/clients";
import { issueToken } from "../../workers/oauth/tokens";
import { API_BURST, requireApiAccess } from "../app/api/auth.server";
import { dashboardEnv } from "../app/env.server";
import { createSavedInsight } from "../app/db/insights.server";
import * as insightApi from "../app/routes/api.v1.insights.$id";
import * as viewApi from "../app/routes/api.v1.apps.$app.$view";
import { ORIGIN, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let org = "";
const APP = "app_api";
const now = Date.now();
const at = (minutesAgo: number): string => new Date(now - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  await ownerWithApps(h, [
    { id: APP, name: "Shop" },
    { id: "app_api_two", name: "Second" },
  ]);
  org = (await h.db.prepare("SELECT org_id FROM apps WHERE id = ?").bind(APP).first<{ org_id: string }>())?.org_id ?? "";
  await h.db.prepare("INSERT INTO orgs (id, name, created_at) VALUES ('org_other', 'Other', 0)").run();
  await createApp(h.db, inOrg("org_other"), { id: "app_api_other", name: "Theirs" });
  const rows = [1, 2, 3, 4, 5].map((i) => ({ app_id: APP, message_id: `api${i}`, type: "track", event: i <= 3 ? "Signed Up" : "Order Completed", user_id: `u${i}`, anonymous_id: `a${i}`, timestamp: at(i * 10), received_at: at(i * 10), platform: "web" }));
  await h.insertEvents([...rows, { ...rows[0], app_id: "app_api_other", message_id: "other1" } as Record<string, string | number>]);
}, 120_000);

afterAll(async () => h?.close());

async function bearer(scopes: string[], appIds?: string[]): Promise<string> {
  const made = await createClient(h.db, org, { name: "script", scopes, appIds: appIds ?? null }, PERMISSIONS, "o@example.com");
  if (!made.ok) throw new Error(made.reason);
  return (await issueToken(h.db, LOCAL_OAUTH_KEY_SECRET, made.client, scopes)).access_token;
}

const view = (token: string | null, app: string, name: string, query = "") =>
  run(() => viewApi.loader({ request: new Request(`${ORIGIN}/api/v1/apps/${app}/${name}?${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }), params: { app, view: name }, context: h.context }));

describe("GET /api/v1/apps/:app/:view", () => {
  it("answers the overview, a trend and a page of events as JSON for the page's query string", async () => {
    const token = await bearer(["data:read"]);
    const overview = await view(token, APP, "overview", "range=24h");
    expect(overview.status).toBe(200);
    expect(await overview.json()).toMatchObject({ app: APP, view: "overview", data: { overview: { totals: { events: 5, users: 5 } } } });

    const trend = await view(token, APP, "trends", "range=24h&event0=Signed+Up&measure0=total&interval=hour");
    const body = await trend.json<{ data: { type: string; query: string; result: { lines: Array<{ total: number }> } } }>();
    expect(body.data.type).toBe("trends");
    expect(body.data.query).toContain("event0=Signed+Up");
    expect(body.data.result.lines[0]?.total).toBe(3);

    const events = await (await view(token, APP, "events", "range=24h&event=Order+Completed")).json<{ data: { events: Array<{ event: string }>; next: string | null } }>();
    expect(events.data.events.map((e) => e.event)).toEqual(["Order Completed", "Order Completed"]);
    expect(events.data.next).toBeNull();
  });

  it("refuses another organisation's app and an app the token does not list with 404, a missing scope with 403, no token or a bad one with 401", async () => {
    const token = await bearer(["data:read"]);
    expect((await view(token, "app_api_other", "overview")).status).toBe(404);
    const listed = await bearer(["data:read"], ["app_api_two"]);
    expect((await view(listed, APP, "overview")).status).toBe(404);
    const noRead = await view(await bearer(["flag:update"]), APP, "overview");
    expect(noRead.status).toBe(403);
    expect(noRead.headers.get("www-authenticate")).toContain("insufficient_scope");
    expect(await noRead.json()).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("data:read") } });
    expect((await view(null, APP, "overview")).status).toBe(401);
    expect((await view("a.b.c", APP, "overview")).status).toBe(401);
    expect((await view(token, APP, "nonsense")).status).toBe(404);
  });

  it("holds each client to its rate, answering 429 with Retry-After", async () => {
    const token = await bearer(["data:read"]);
    const env = dashboardEnv(h.env);
    // One instant for every request, so no token comes back while the test runs.
    const t = Date.now();
    const ask = () => requireApiAccess(new Request(`${ORIGIN}/api/v1/apps/${APP}/overview`, { headers: { authorization: `Bearer ${token}` } }), env, "data:read", APP, t);
    for (let i = 0; i < API_BURST; i++) await ask();
    const refused = await ask().then(
      () => null,
      (err: unknown) => err,
    );
    if (!(refused instanceof Response)) throw new Error("the request past the burst was let through");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another client has its own allowance.
    await expect(requireApiAccess(new Request(`${ORIGIN}/x`, { headers: { authorization: `Bearer ${await bearer(["data:read"])}` } }), env, "data:read", APP, t)).resolves.toMatchObject({ orgId: org });
  });
});

describe("GET /api/v1/insights/:id", () => {
  it("runs a saved insight of the token's organisation, with the range the URL asks for", async () => {
    const saved = await createSavedInsight(h.db, org, { type: "trends", appId: APP, name: "Orders", description: "", query: "range=7d&event0=Order+Completed&measure0=total&interval=day" }, "o@example.com");
    if (!saved.ok) throw new Error(saved.reason);
    const token = await bearer(["data:read"]);
    const get = (t: string, id: string, query = "") => run(() => insightApi.loader({ request: new Request(`${ORIGIN}/api/v1/insights/${id}?${query}`, { headers: { authorization: `Bearer ${t}` } }), params: { id }, context: h.context }));
    const res = await get(token, saved.value.id, "range=24h");
    expect(res.status).toBe(200);
    const body = await res.json<{ insight: { name: string }; data: { query: string; result: { lines: Array<{ total: number }> } } }>();
    expect(body.insight.name).toBe("Orders");
    expect(body.data.query).toContain("range=24h");
    expect(body.data.result.lines[0]?.total).toBe(2);
    expect((await get(await bearer(["data:read"], ["app_api_two"]), saved.value.id)).status).toBe(404);
    expect((await get(token, "ins_nope")).status).toBe(404);
  });
});
