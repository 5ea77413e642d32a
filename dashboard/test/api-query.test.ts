// The query API against the real local D1 and ClickHouse: an API client's access token reads its
// organisation's app's overview, a trend, a page of events and a saved insight as JSON, with the
// page's query string; the users, sessions, crashes, performance, network, releases, pipeline and
// attribution views and one of each thing they list answer what their pages' loaders show for
// the same query string, a page at a time; another organisation's app, an app the token does not
// list, a scope it lacks, no token, a bad token and too many requests are refused in the API's
// error shape.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_OAUTH_KEY_SECRET } from "../../dev/local";
import { PERMISSIONS } from "../../schemas";
import { createApp, inOrg } from "../../workers/apps/store";
import { createClient } from "../../workers/oauth/clients";
import { issueToken } from "../../workers/oauth/tokens";
import { API_BURST, requireApiAccess } from "../app/api/auth.server";
import { dashboardEnv } from "../app/env.server";
import { changeCards, createDashboard, createSavedInsight } from "../app/db/insights.server";
import * as insightApi from "../app/routes/api.v1.insights.$id";
import * as viewApi from "../app/routes/api.v1.apps.$app.$view";
import { QUERY_ITEMS, QUERY_VIEWS } from "../../workers/http/openapi-query";
import { API_ITEMS, API_VIEWS } from "../app/api/views.server";
import { encodeEndpoint } from "../app/queries/network-filters";
import * as viewItemApi from "../app/routes/api.v1.apps.$app.$view.$id";
import * as dashboardApi from "../app/routes/api.v1.dashboards.$id";
import * as dashboardsApi from "../app/routes/api.v1.dashboards._index";
import * as dashboardPage from "../app/routes/dashboards.$id";
import * as savedPage from "../app/routes/apps.$app.insights._index";
import * as attributionPage from "../app/routes/apps.$app.attribution._index";
import * as crashIssuePage from "../app/routes/apps.$app.crashes.$issue";
import * as crashesPage from "../app/routes/apps.$app.crashes._index";
import * as eventPage from "../app/routes/apps.$app.events.$event";
import * as endpointPage from "../app/routes/apps.$app.network.$endpoint";
import * as networkPage from "../app/routes/apps.$app.network._index";
import * as metricPage from "../app/routes/apps.$app.performance.$metric";
import * as performancePage from "../app/routes/apps.$app.performance._index";
import * as pipelinePage from "../app/routes/apps.$app.pipeline";
import * as releasesPage from "../app/routes/apps.$app.releases";
import * as sessionPage from "../app/routes/apps.$app.sessions.$session";
import * as sessionsPage from "../app/routes/apps.$app.sessions._index";
import * as userPage from "../app/routes/apps.$app.users.$user";
import * as usersPage from "../app/routes/apps.$app.users._index";
import { browserRequest, ORIGIN, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let org = "";
let ownerSession = "";
const APP = "app_api";
// The second app holds a page and a bit of users and sessions, a crash issue, a vital and an endpoint.
const TWO = "app_api_two";
const PEOPLE = 53;
const ENDPOINT = { method: "GET", host: "api.example.com", template: "/orders/:id" };
const now = Date.now();
const at = (minutesAgo: number): string => new Date(now - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  ownerSession = await ownerWithApps(h, [
    { id: APP, name: "Shop" },
    { id: TWO, name: "Second" },
  ]);
  org = (await h.db.prepare("SELECT org_id FROM apps WHERE id = ?").bind(APP).first<{ org_id: string }>())?.org_id ?? "";
  await h.db.prepare("INSERT INTO orgs (id, name, created_at) VALUES ('org_other', 'Other', 0)").run();
  await createApp(h.db, inOrg("org_other"), { id: "app_api_other", name: "Theirs" });
  const rows = [1, 2, 3, 4, 5].map((i) => ({ app_id: APP, message_id: `api${i}`, type: "track", event: i <= 3 ? "Signed Up" : "Order Completed", user_id: `u${i}`, anonymous_id: `a${i}`, timestamp: at(i * 10), received_at: at(i * 10), platform: "web" }));
  const two = (i: number, fields: Record<string, string | number>) => ({ app_id: TWO, message_id: `two${i}`, user_id: `p${i % PEOPLE}`, session_id: `t${i % PEOPLE}`, timestamp: at(1 + i), received_at: at(1 + i), platform: "web", ...fields });
  const crash = { type: "crash", crash_fingerprint: "fp-api", crash_type: "TypeError", crash_message: "x is undefined", crash_fatal: 0, properties: JSON.stringify({ error: { type: "TypeError", message: "x is undefined", frames: [] } }) };
  await h.insertEvents([
    ...rows.map((r, i) => ({ ...r, session_id: `s${i}` })),
    { ...rows[0], app_id: "app_api_other", message_id: "other1" } as Record<string, string | number>,
    ...Array.from({ length: PEOPLE }, (_, i) => two(i, { type: "page", path: "/home" })),
    two(PEOPLE, crash),
    two(PEOPLE + 1, crash),
    two(PEOPLE + 2, { type: "perf", event: "LCP", perf_metric: "LCP", perf_value: 1800, perf_unit: "ms", path: "/home" }),
    two(PEOPLE + 3, { type: "network", event: "GET", net_method: "GET", net_host: ENDPOINT.host, net_path: "/orders/7", net_template: ENDPOINT.template, net_status: 500, net_outcome: "server_error", duration_ms: 120 }),
  ]);
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

// Calendar days, so the page and the API read the very same range whenever each runs.
const day = (offset: number): string => new Date(now + offset * 86_400_000).toISOString().slice(0, 10);
const DAYS = `range=custom&from=${day(-1)}&to=${day(0)}`;

const item = (token: string, app: string, name: string, id: string, query = "") =>
  run(() => viewItemApi.loader({ request: new Request(`${ORIGIN}/api/v1/apps/${app}/${name}/${encodeURIComponent(id)}?${query}`, { headers: { authorization: `Bearer ${token}` } }), params: { app, view: name, id }, context: h.context }));

type Loader = (args: { request: Request; params: Record<string, string>; context: Harness["context"] }) => Promise<unknown>;
/** What the page shows the app's owner for `path`, as its loader answers it. */
async function pageData(page: { loader: Loader }, path: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await run(() => page.loader({ request: browserRequest(path, { session: ownerSession }), params: { app: TWO, ...params }, context: h.context }));
  expect(res.status).toBe(200);
  return res.json();
}
async function apiData(res: Response): Promise<Record<string, unknown>> {
  expect(res.status).toBe(200);
  return (await res.json<{ data: Record<string, unknown> }>()).data;
}
const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, o[k]]));

describe("the views' lists and things as JSON", () => {
  it("answers each view what its page shows for the same query string, and pages users and sessions", async () => {
    const token = await bearer(["data:read"]);
    const both = async (name: string, page: { loader: Loader }, query: string, pageKeys: string[]) => {
      const [api, shown] = await Promise.all([apiData(await view(token, TWO, name, query)), pageData(page, `/apps/${TWO}/${name}?${query}`, {})]);
      expect(pick(api, pageKeys), name).toEqual(pick(shown, pageKeys));
      return { api, shown };
    };

    const users = await both("users", usersPage, DAYS, ["range", "filters", "options", "daily"]);
    const firstUsers = (users.shown.page as { rows: unknown[]; next: string }).rows;
    expect(users.api.users).toEqual(firstUsers);
    expect(firstUsers).toHaveLength(50);
    const usersNext = await apiData(await view(token, TWO, "users", `${DAYS}&before=${encodeURIComponent(String(users.api.next))}`));
    expect((usersNext.users as Array<{ key: string }>).map((u) => u.key)).toHaveLength(PEOPLE - 50);
    expect(usersNext.next).toBeNull();
    const allUsers = new Set([...(users.api.users as Array<{ key: string }>), ...(usersNext.users as Array<{ key: string }>)].map((u) => u.key));
    expect(allUsers.size).toBe(PEOPLE);

    const sessions = await both("sessions", sessionsPage, `${DAYS}&platform=web`, ["range", "filters", "options", "stats"]);
    expect(sessions.api.sessions).toEqual((sessions.shown.page as { rows: unknown[] }).rows);
    const sessionsNext = await apiData(await view(token, TWO, "sessions", `${DAYS}&platform=web&before=${encodeURIComponent(String(sessions.api.next))}`));
    expect(sessionsNext.sessions).toHaveLength(PEOPLE - 50);

    const crashes = await both("crashes", crashesPage, `${DAYS}&status=all`, ["range", "filters", "options"]);
    expect(crashes.api.issues).toEqual((crashes.shown.page as { rows: unknown[] }).rows);
    expect(crashes.api.issues).toMatchObject([{ fingerprint: "fp-api", events: 2, status: "unresolved" }]);

    const perf = await both("performance", performancePage, `${DAYS}&vital=LCP`, ["range", "filters", "breakdown", "options", "view"]);
    expect(JSON.stringify(perf.api.view)).toContain("1800");
    const network = await both("network", networkPage, DAYS, ["range", "filters", "options", "view"]);
    expect(JSON.stringify(network.api.view)).toContain(ENDPOINT.template);
    await both("releases", releasesPage, DAYS, ["range", "view", "regressions"]);
    await both("pipeline", pipelinePage, DAYS, ["range", "pipeline", "stale"]);
    await both("attribution", attributionPage, DAYS, ["range", "conversion", "currency", "problems", "report", "recent"]);
  });

  it("answers one user, session, issue, metric, endpoint and event as its page does, and 404 for one the app does not have", async () => {
    const token = await bearer(["data:read"]);
    const both = async (name: string, id: string, page: { loader: Loader }, param: string, query: string, keys: string[]) => {
      const [api, shown] = await Promise.all([apiData(await item(token, TWO, name, id, query)), pageData(page, `/apps/${TWO}/${name}/${encodeURIComponent(id)}?${query}`, { [param]: id })]);
      expect(pick(api, keys), name).toEqual(pick(shown, keys));
      return api;
    };
    const user = await both("users", "p1", userPage, "user", DAYS, ["range", "profile", "journey"]);
    expect(user.profile).toMatchObject({ userId: "p1" });
    const shownSession = await pageData(sessionPage, `/apps/${TWO}/sessions/t1`, { session: "t1" });
    expect(await apiData(await item(token, TWO, "sessions", "t1"))).toEqual(shownSession.detail);
    const issue = await both("crashes", "fp-api", crashIssuePage, "issue", DAYS, ["range", "issue", "series", "tags", "events", "users", "dropped", "releases", "trail", "rule", "state", "history"]);
    expect(issue.issue).toMatchObject({ fingerprint: "fp-api" });
    await both("performance", "LCP", metricPage, "metric", DAYS, ["range", "filters", "metric", "options", "view"]);
    await both("network", encodeEndpoint(ENDPOINT), endpointPage, "endpoint", DAYS, ["range", "endpoint", "filters", "options", "view"]);
    const shownEvent = await pageData(eventPage, `/apps/${TWO}/events/two0`, { event: "two0" });
    expect(await apiData(await item(token, TWO, "events", "two0"))).toEqual({ event: shownEvent.event });

    for (const [name, id] of [["users", "nobody"], ["sessions", "nope"], ["crashes", "fp-nope"], ["performance", "NOPE"], ["network", "not-an-endpoint"], ["events", "other1"], ["attribution", "nothing"], ["nonsense", "x"]] as const) {
      const res = await item(token, TWO, name, id);
      expect(res.status, `${name}/${id}`).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("refuses another organisation's app with 404 and a token without data:read with 403, for lists and things alike", async () => {
    const token = await bearer(["data:read"]);
    expect((await view(token, "app_api_other", "users")).status).toBe(404);
    expect((await item(token, "app_api_other", "events", "other1")).status).toBe(404);
    expect((await item(await bearer(["data:read"], [APP]), TWO, "users", "p1")).status).toBe(404);
    const noRead = await bearer(["flag:update"]);
    expect((await view(noRead, TWO, "crashes")).status).toBe(403);
    const refused = await item(noRead, TWO, "users", "p1");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toContain("insufficient_scope");
  });

  it("documents every view and thing it answers in the OpenAPI document", () => {
    expect(Object.keys(API_VIEWS).sort()).toEqual([...QUERY_VIEWS].sort());
    expect(Object.keys(API_ITEMS).sort()).toEqual([...QUERY_ITEMS].sort());
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

  it("lists an app's saved insights, and answers a dashboard's cards as its page shows them, only those of the apps a token lists", async () => {
    const token = await bearer(["data:read"]);
    const saved = await createSavedInsight(h.db, org, { type: "trends", appId: APP, name: "Sign-ups", description: "", query: "range=7d&event0=Signed+Up&measure0=total&interval=day" }, "o@example.com");
    if (!saved.ok) throw new Error(saved.reason);
    const listed = await apiData(await view(token, APP, "insights"));
    const shownSaved = (await run(() => savedPage.loader({ request: browserRequest(`/apps/${APP}/insights`, { session: ownerSession }), params: { app: APP }, context: h.context })).then((r) => r.json())) as { saved: Array<{ id: string }> };
    expect((listed.insights as Array<{ id: string }>).map((i) => i.id)).toEqual(shownSaved.saved.map((i) => i.id));
    expect(listed.insights).toContainEqual(expect.objectContaining({ id: saved.value.id, query: saved.value.query }));

    const board = await createDashboard(h.db, org, { name: "Growth", description: "" }, "o@example.com");
    if (!board.ok) throw new Error(board.reason);
    await changeCards(h.db, org, board.value.id, { op: "add", insightId: saved.value.id });
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const list = await run(() => dashboardsApi.loader({ request: new Request(`${ORIGIN}/api/v1/dashboards`, { headers: auth(token) }), params: {}, context: h.context }));
    expect(await apiData(list)).toMatchObject({ dashboards: [{ id: board.value.id, name: "Growth", cards: 1 }] });
    const one = (t: string, id: string) => run(() => dashboardApi.loader({ request: new Request(`${ORIGIN}/api/v1/dashboards/${id}?range=24h`, { headers: auth(t) }), params: { id }, context: h.context }));
    const api = (await apiData(await one(token, board.value.id))) as { scope: unknown; cards: Array<{ insight: { id: string }; data: unknown }> };
    const shown = (await pageData(dashboardPage, `/dashboards/${board.value.id}?range=24h`, { id: board.value.id })) as typeof api;
    expect(api.scope).toEqual(shown.scope);
    expect(api.cards.map((c) => [c.insight.id, c.data])).toEqual(shown.cards.map((c) => [c.insight.id, c.data]));
    expect(JSON.stringify(api.cards[0]?.data)).toContain('"total":3');
    expect((await apiData(await one(await bearer(["data:read"], [TWO]), board.value.id))).cards).toEqual([]);
    expect((await one(token, "dsh_nope")).status).toBe(404);
  });
});
