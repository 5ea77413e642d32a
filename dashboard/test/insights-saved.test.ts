// Saved insights and dashboards against a real D1 and ClickHouse: saving from an insight page's
// form, listing, renaming and deleting; dashboards made, filled, reordered and renamed; every
// organisation seeing only its own; cards rendered from fixture events under the dashboard's
// range and filters; and the one-minute cache that spares ClickHouse, which Refresh skips.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../app/db/apps.server";
import { cacheGet, cachePut, CARD_STALE_SECONDS, CARD_TTL_SECONDS, forgetIsolateCache, isFresh } from "../app/insights/cache.server";
import { loadCards, WARM_EVERY_MS, WARM_VIEWED_WITHIN_MS, warmDashboards } from "../app/insights/cards.server";
import { getDashboard, getSavedInsights } from "../app/db/insights.server";
import { renderPage } from "./render";
import { dashboardEnv } from "../app/env.server";
import { applyScope, scopeFromUrl } from "../app/insights/saved";
import * as listPage from "../app/routes/dashboards._index";
import * as dashPage from "../app/routes/dashboards.$id";
import * as insightPage from "../app/routes/dashboards.insights.$id";
import * as save from "../app/routes/insights.save";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let owner: Person;
let analyst: Person;
let viewer: Person;
let outsider: Person;
let orgId = "";
const APP = "app_shop";
const THEIR_APP = "app_theirs";

const saveInsight = (who: Person, form: Record<string, string>) =>
  run(() => save.action({ request: browserRequest("/insights/save", { session: who.session, form: { intent: "save", ...form } }), params: {}, context: h.context }));
const lists = (who: Person) => run(() => listPage.loader({ request: browserRequest("/dashboards", { session: who.session }), params: {}, context: h.context }));
const createDash = (who: Person, form: Record<string, string>) =>
  run(() => listPage.action({ request: browserRequest("/dashboards", { session: who.session, form: { intent: "create", ...form } }), params: {}, context: h.context }));
const dashboard = (who: Person, id: string, query = "") =>
  run(() => dashPage.loader({ request: browserRequest(`/dashboards/${id}${query}`, { session: who.session }), params: { id }, context: h.context }));
const onDashboard = (who: Person, id: string, form: Record<string, string>, query = "") =>
  run(() => dashPage.action({ request: browserRequest(`/dashboards/${id}${query}`, { session: who.session, form }), params: { id }, context: h.context }));
const insight = (who: Person, id: string) => run(() => insightPage.loader({ request: browserRequest(`/dashboards/insights/${id}`, { session: who.session }), params: { id }, context: h.context }));
const onInsight = (who: Person, id: string, form: Record<string, string>) =>
  run(() => insightPage.action({ request: browserRequest(`/dashboards/insights/${id}`, { session: who.session, form }), params: { id }, context: h.context }));

interface Listed {
  dashboards: Array<{ id: string; name: string; cards: number }>;
  insights: Array<{ id: string; name: string; description: string; type: string; appId: string; appName: string; query: string; createdBy: string }>;
  canEdit: boolean;
}
interface CardOut {
  insight: { id: string; name: string; type: string };
  w: 1 | 2;
  href: string;
  data: { type: string; result: unknown } | null;
  error: string | null;
  cached: boolean;
}
interface DashOut {
  dashboard: { id: string; name: string; description: string };
  scope: { range: string; filters: string };
  cards: CardOut[];
  addable: Array<{ id: string; label: string }>;
  canEdit: boolean;
}

async function saved(who: Person, form: Record<string, string>): Promise<string> {
  const res = await saveInsight(who, form);
  const body = await bodyOf<{ ok: boolean; id?: string; error?: string }>(res);
  if (!body.ok || !body.id) throw new Error(`not saved: ${res.status} ${body.error ?? ""}`);
  return body.id;
}

async function made(who: Person, name: string): Promise<string> {
  const res = await createDash(who, { name, description: "" });
  expect(res.status).toBe(302);
  return (res.headers.get("location") ?? "").replace("/dashboards/", "");
}

const DAY = 86_400_000;
/** Today 00:00 UTC: fixture events fall on whole days before it, so the cards' answers hold whenever the test runs. */
const T = Math.floor(Date.now() / DAY) * DAY;
const at = (daysAgo: number, hour: number): string => new Date(T - daysAgo * DAY + hour * 3_600_000).toISOString();
const day = (daysAgo: number): string => new Date(T - daysAgo * DAY).toISOString().slice(0, 10);
let seq = 0;
// Each visit is its own session, as the SDK would send it.
const ev = (user: string, ts: string): Record<string, string | number> => ({
  app_id: APP,
  message_id: `s${++seq}`,
  user_id: user,
  anonymous_id: "",
  session_id: `${user}-${seq}`,
  timestamp: ts,
  received_at: ts,
  type: "page",
  path: "/",
  platform: "web",
});

beforeAll(async () => {
  h = await startHarness();
  await h.insertEvents([
    // u1 first seen two days ago and back yesterday; u2 first seen two days ago, never back.
    ev("u1", at(2, 10)),
    ev("u1", at(1, 10)),
    ev("u2", at(2, 11)),
    // u3 first seen 20 days ago (before a 7-day range, inside a 30-day one), back yesterday.
    ev("u3", at(20, 10)),
    ev("u3", at(1, 9)),
  ]);
  const org = await newOrg(h, "Shop");
  orgId = org.orgId;
  owner = org.owner;
  analyst = await newMember(h, org.orgId, "analyst");
  viewer = await newMember(h, org.orgId, "viewer");
  await createApp(h.db, org.orgId, { id: APP, name: "Shop" });
  const other = await newOrg(h, "Other");
  outsider = other.owner;
  await createApp(h.db, other.orgId, { id: THEIR_APP, name: "Theirs" });
}, 180_000);

afterAll(async () => h?.close());
afterEach(() => vi.restoreAllMocks());

describe("saved insights", () => {
  it("saves the page's definition under a name, lists it for everyone in the organisation, renames and deletes it", async () => {
    const id = await saved(analyst, { type: "trends", appId: APP, name: "Signups per day", description: "From the landing page", query: "?range=30d&event=Signed+Up" });
    const forViewer = await bodyOf<Listed>(await lists(viewer));
    expect(forViewer.canEdit).toBe(false);
    expect(forViewer.insights).toEqual([
      expect.objectContaining({ id, name: "Signups per day", description: "From the landing page", type: "trends", appId: APP, appName: "Shop", query: "range=30d&event=Signed+Up", createdBy: analyst.email }),
    ]);
    // Its page links to the insight's own page with the saved definition.
    const page = await bodyOf<{ card: CardOut }>(await insight(viewer, id));
    const href = new URL(`http://x${page.card.href}`);
    expect([href.pathname, href.searchParams.get("range")]).toEqual([`/apps/${APP}/insights/trends`, "30d"]);

    expect((await onInsight(owner, id, { intent: "update", name: "Signups", description: "" })).status).toBe(200);
    expect((await bodyOf<Listed>(await lists(owner))).insights.map((i) => [i.name, i.description])).toEqual([["Signups", ""]]);
    const blank = await onInsight(owner, id, { intent: "update", name: " ", description: "" });
    expect(blank.status).toBe(400);
    expect(await bodyOf<{ error: string }>(blank)).toEqual({ error: "Give it a name." });

    const gone = await onInsight(analyst, id, { intent: "delete" });
    expect([gone.status, gone.headers.get("location")]).toEqual([302, "/dashboards"]);
    expect((await bodyOf<Listed>(await lists(owner))).insights).toEqual([]);
    expect((await insight(owner, id)).status).toBe(404);
  });

  it("updates a saved insight in place from the page it opens, so its dashboards' cards follow, and refuses another kind or organisation", async () => {
    const id = await saved(owner, { type: "trends", appId: APP, name: "Visitors", description: "", query: "range=7d&type0=page&measure0=users" });
    const board = await made(owner, `Board ${id}`);
    expect((await onDashboard(owner, board, { intent: "add", insightId: id })).status).toBe(302);
    // The card opens the insight's page naming the saved insight, which offers the update.
    const card = (await bodyOf<DashOut>(await dashboard(owner, board))).cards[0];
    const href = new URL(`http://x${card?.href ?? ""}`);
    expect(href.searchParams.get("saved")).toBe(id);
    const replace = (who: Person, form: Record<string, string>) =>
      run(() => save.action({ request: browserRequest("/insights/save", { session: who.session, form: { intent: "replace", insightId: id, type: "trends", appId: APP, ...form } }), params: {}, context: h.context }));

    const res = await replace(analyst, { query: "range=30d&type0=page&measure0=total&saved=ignored" });
    expect(await bodyOf<{ ok: boolean; id: string; replaced: boolean }>(res)).toEqual({ ok: true, id, name: "Visitors", replaced: true });
    const listed = (await bodyOf<Listed>(await lists(owner))).insights.find((i) => i.id === id);
    expect(listed?.query).toBe("range=30d&type0=page&measure0=total");
    // Every saved insight keeps one definition: the card now runs the new one.
    const after = new URL(`http://x${(await bodyOf<DashOut>(await dashboard(owner, board))).cards[0]?.href ?? ""}`);
    expect([after.searchParams.get("range"), after.searchParams.get("measure0"), after.searchParams.get("saved")]).toEqual(["30d", "total", id]);

    const wrongKind = await replace(owner, { type: "funnels", query: "range=7d&step=a&step=b" });
    expect(wrongKind.status).toBe(400);
    expect((await bodyOf<{ error: string }>(wrongKind)).error).toContain("save this one as a new insight");
    expect((await replace(outsider, { appId: THEIR_APP, query: "range=1h" })).status).toBe(404);
    expect((await replace(viewer, { query: "range=1h" })).status).toBe(403);
    expect((await bodyOf<Listed>(await lists(owner))).insights.find((i) => i.id === id)?.query).toBe("range=30d&type0=page&measure0=total");
    // The other tests count the organisation's insights and dashboards.
    expect((await onInsight(owner, id, { intent: "delete" })).status).toBe(302);
    expect((await onDashboard(owner, board, { intent: "delete" })).status).toBe(302);
  });

  it("refuses a nameless insight, an unknown kind, another organisation's app, and viewers", async () => {
    const nameless = await saveInsight(owner, { type: "trends", appId: APP, name: "", description: "", query: "" });
    expect([nameless.status, await bodyOf<unknown>(nameless)]).toEqual([400, { ok: false, error: "Give it a name." }]);
    const unknown = await saveInsight(owner, { type: "cohorts", appId: APP, name: "X", description: "", query: "" });
    expect([unknown.status, await bodyOf<unknown>(unknown)]).toEqual([400, { ok: false, error: "Unknown insight type." }]);
    const theirs = await saveInsight(owner, { type: "trends", appId: THEIR_APP, name: "Peek", description: "", query: "" });
    expect([theirs.status, await bodyOf<unknown>(theirs)]).toEqual([404, { ok: false, error: "No such app in your organisation." }]);
    expect((await saveInsight(viewer, { type: "trends", appId: APP, name: "X", description: "", query: "" })).status).toBe(403);
    expect((await bodyOf<Listed>(await lists(owner))).insights).toEqual([]);
  });
});

describe("dashboards", () => {
  it("are made, filled with saved insights, reordered, widened, renamed and deleted; insights deleted leave their cards", async () => {
    const a = await saved(owner, { type: "trends", appId: APP, name: "A", description: "", query: "range=7d" });
    const b = await saved(owner, { type: "funnels", appId: APP, name: "B", description: "", query: "range=7d" });
    const c = await saved(owner, { type: "retention", appId: APP, name: "C", description: "", query: "range=30d" });
    const id = await made(analyst, "Growth");
    const empty = await bodyOf<DashOut>(await dashboard(viewer, id));
    expect(empty).toMatchObject({ dashboard: { name: "Growth" }, cards: [], addable: [], canEdit: false });
    expect((await bodyOf<DashOut>(await dashboard(owner, id))).addable.map((i) => i.id).sort()).toEqual([a, b, c].sort());

    for (const insightId of [a, b, c]) expect((await onDashboard(analyst, id, { intent: "add", insightId })).status).toBe(302);
    const twice = await onDashboard(analyst, id, { intent: "add", insightId: a });
    expect([twice.status, await bodyOf<unknown>(twice)]).toEqual([400, { error: "This insight is already on the dashboard." }]);
    await onDashboard(analyst, id, { intent: "up", insightId: c });
    await onDashboard(analyst, id, { intent: "wide", insightId: b });
    const order = (await bodyOf<DashOut>(await dashboard(viewer, id))).cards.map((k) => [k.insight.name, k.w]);
    expect(order).toEqual([
      ["A", 1],
      ["C", 1],
      ["B", 2],
    ]);
    // From the saved insight's page too, and only to a dashboard of one's own organisation.
    const second = await made(owner, "Weekly");
    const added = await onInsight(owner, a, { intent: "add-to", dashboardId: second });
    expect([added.status, added.headers.get("location")]).toEqual([302, `/dashboards/${second}`]);

    expect((await onInsight(owner, c, { intent: "delete" })).status).toBe(302);
    expect((await bodyOf<DashOut>(await dashboard(viewer, id))).cards.map((k) => k.insight.name)).toEqual(["A", "B"]);
    expect((await bodyOf<Listed>(await lists(viewer))).dashboards.find((d) => d.id === id)?.cards).toBe(2);

    const renamed = await onDashboard(owner, id, { intent: "rename", name: "Growth (weekly)", description: "Every Monday" });
    expect(renamed.status).toBe(302);
    expect((await bodyOf<DashOut>(await dashboard(viewer, id))).dashboard).toMatchObject({ name: "Growth (weekly)", description: "Every Monday" });
    expect((await onDashboard(viewer, id, { intent: "rename", name: "Mine", description: "" })).status).toBe(403);
    expect((await onDashboard(viewer, id, { intent: "remove", insightId: a })).status).toBe(403);

    const deleted = await onDashboard(owner, id, { intent: "delete" });
    expect([deleted.status, deleted.headers.get("location")]).toEqual([302, "/dashboards"]);
    expect((await dashboard(owner, id)).status).toBe(404);
    // Its insights stay saved.
    expect((await bodyOf<Listed>(await lists(owner))).insights.map((i) => i.name).sort()).toEqual(["A", "B"]);
  });

  it("keep to their organisation: another organisation's dashboard and insights are 404 and cannot be added", async () => {
    const ours = await made(owner, "Ours");
    const mine = await saved(owner, { type: "trends", appId: APP, name: "Mine", description: "", query: "" });
    const theirs = await made(outsider, "Theirs");
    const theirInsight = await saved(outsider, { type: "trends", appId: THEIR_APP, name: "Their trend", description: "", query: "" });
    expect((await dashboard(owner, theirs)).status).toBe(404);
    expect((await onDashboard(owner, theirs, { intent: "rename", name: "Pwned", description: "" })).status).toBe(404);
    expect((await onDashboard(owner, theirs, { intent: "delete" })).status).toBe(404);
    expect((await onDashboard(owner, theirs, { intent: "refresh" })).status).toBe(404);
    expect((await insight(owner, theirInsight)).status).toBe(404);
    expect((await onInsight(owner, theirInsight, { intent: "delete" })).status).toBe(404);
    const foreign = await onDashboard(owner, ours, { intent: "add", insightId: theirInsight });
    expect([foreign.status, await bodyOf<unknown>(foreign)]).toEqual([400, { error: "No such saved insight in your organisation." }]);
    expect((await onInsight(owner, mine, { intent: "add-to", dashboardId: theirs })).status).toBe(404);
    expect((await bodyOf<Listed>(await lists(outsider))).insights.map((i) => i.name)).toEqual(["Their trend"]);
    expect((await bodyOf<Listed>(await lists(outsider))).dashboards.map((d) => d.name)).toEqual(["Theirs"]);
    expect((await bodyOf<DashOut>(await dashboard(outsider, theirs))).dashboard.name).toBe("Theirs");
  });
});

describe("a dashboard's range and filters", () => {
  it("replace each card's own: range (and custom bounds), platform, country, release, time zone, and a property filter on the same key", () => {
    const scope = scopeFromUrl(new URL("http://x/d?range=30d&platform=ios&prop=plan:pro&tz=Europe/Berlin&junk=1"), { range: "", filters: "country=DE" });
    expect(scope).toEqual({ range: "30d", filters: "platform=ios&country=DE&prop=plan%3Apro&tz=Europe%2FBerlin" });
    const card = "range=7d&from=2026-01-01&to=2026-01-02&event=Signed+Up&platform=web&prop=plan:free&prop=source:ads&interval=day";
    expect(Object.fromEntries(new URLSearchParams(applyScope(card, scope)).entries())).toMatchObject({ range: "30d", event: "Signed Up", platform: "ios", country: "DE", interval: "day", tz: "Europe/Berlin" });
    const q = new URLSearchParams(applyScope(card, scope));
    expect([q.has("from"), q.has("to"), q.getAll("prop")]).toEqual([false, false, ["source:ads", "plan:pro"]]);
    // The URL can clear what the dashboard saved; a dashboard with no range keeps each card's.
    expect(scopeFromUrl(new URL("http://x/d?country="), { range: "7d", filters: "country=DE" })).toEqual({ range: "7d", filters: "" });
    expect(applyScope("range=24h&platform=web", { range: "", filters: "" })).toBe("range=24h&platform=web");
  });

  it("are saved as what the dashboard opens with by those who may edit it", async () => {
    const id = await made(owner, "Scoped");
    const a = await saved(owner, { type: "trends", appId: APP, name: "Scoped trend", description: "", query: "range=7d&platform=web" });
    await onDashboard(owner, id, { intent: "add", insightId: a });
    const kept = await onDashboard(owner, id, { intent: "save-scope" }, "?range=30d&country=DE");
    expect([kept.status, kept.headers.get("location")]).toEqual([302, `/dashboards/${id}`]);
    const opened = await bodyOf<DashOut>(await dashboard(viewer, id));
    expect(opened.scope).toEqual({ range: "30d", filters: "country=DE" });
    const href = new URL(`http://x${opened.cards[0]?.href ?? ""}`);
    expect([href.pathname, href.searchParams.get("range"), href.searchParams.get("platform"), href.searchParams.get("country")]).toEqual([`/apps/${APP}/insights/trends`, "30d", "web", "DE"]);
    expect((await onDashboard(viewer, id, { intent: "save-scope" }, "?range=1h")).status).toBe(403);
  });
});

interface RetentionCard {
  cohorts: Array<{ day: string; size: number; returned: number[] }>;
}

/** A dashboard holding one retention card of app_shop (first seen, any return, by day, over 7 days, unless `query` says otherwise). */
async function retentionBoard(name: string, query = "range=7d&period=day"): Promise<{ id: string; card: string }> {
  const id = await made(owner, name);
  const card = await saved(owner, { type: "retention", appId: APP, name: `${name} retention`, description: "", query });
  expect((await onDashboard(owner, id, { intent: "add", insightId: card })).status).toBe(302);
  return { id, card };
}

const cohortsOf = (card: CardOut | undefined): Array<[string, number, number[]]> =>
  ((card?.data?.result as RetentionCard | undefined)?.cohorts ?? []).filter((c) => c.size > 0).map((c) => [c.day, c.size, c.returned]);

/** Requests the dashboard's reads send to ClickHouse while `fn` runs. */
async function clickhouseRequests<T>(fn: () => Promise<T>): Promise<{ out: T; requests: number }> {
  const spy = vi.spyOn(globalThis, "fetch");
  try {
    const out = await fn();
    const requests = spy.mock.calls.filter(([input]) => String(input instanceof Request ? input.url : input).startsWith(h.clickhouseUrl)).length;
    return { out, requests };
  } finally {
    spy.mockRestore();
  }
}

describe("cards", () => {
  it("render each saved insight from ClickHouse, under the dashboard's range when it sets one", async () => {
    const { id } = await retentionBoard("Cohorts");
    // 7 days: u1 and u2 were first seen two days ago (u3 before the range); u1 came back a day later, nobody two days later (today).
    const week = await bodyOf<DashOut>(await dashboard(viewer, id));
    expect(week.cards.map((c) => [c.insight.type, c.error])).toEqual([["retention", null]]);
    expect(cohortsOf(week.cards[0])).toEqual([[day(2), 2, [1, 0]]]);
    // 30 days from the dashboard's URL: u3's cohort, 20 days ago, back on day 19.
    const month = await bodyOf<DashOut>(await dashboard(viewer, id, "?range=30d"));
    const u3 = cohortsOf(month.cards[0]).find(([d]) => d === day(20));
    expect([u3?.[1], u3?.[2][18]]).toEqual([1, 1]);
    expect(cohortsOf(month.cards[0]).find(([d]) => d === day(2))).toEqual([day(2), 2, [1, 0]]);
    expect(new URL(`http://x${month.cards[0]?.href ?? ""}`).searchParams.get("range")).toBe("30d");
  });

  it("come from the cache for a minute without asking ClickHouse; Refresh asks again and the next view uses its answer", async () => {
    // Its own definition (web only: the same people), so no earlier test's entry answers it.
    const { id } = await retentionBoard("Cached", "range=7d&platform=web");
    const first = await clickhouseRequests(async () => bodyOf<DashOut>(await dashboard(viewer, id)));
    expect(first.requests).toBeGreaterThan(0);
    expect(first.out.cards[0]?.cached).toBe(false);
    const again = await clickhouseRequests(async () => bodyOf<DashOut>(await dashboard(owner, id)));
    expect(again.requests).toBe(0);
    expect(again.out.cards[0]?.cached).toBe(true);
    expect(cohortsOf(again.out.cards[0])).toEqual(cohortsOf(first.out.cards[0]));
    // Another range is another entry.
    expect((await clickhouseRequests(() => dashboard(viewer, id, "?range=30d"))).requests).toBeGreaterThan(0);

    await h.insertEvents([ev("u2", at(1, 12))]);
    const refreshed = await clickhouseRequests(() => onDashboard(viewer, id, { intent: "refresh" }));
    expect([refreshed.out.status, refreshed.out.headers.get("location"), refreshed.requests > 0]).toEqual([302, `/dashboards/${id}`, true]);
    const after = await clickhouseRequests(async () => bodyOf<DashOut>(await dashboard(viewer, id)));
    expect(after.requests).toBe(0);
    // u2's return yesterday is in the refreshed answer.
    expect(cohortsOf(after.out.cards[0])).toEqual([[day(2), 2, [2, 0]]]);
  });
});

describe("cards with an older result", () => {
  it("show it at once, marked refreshing, while the fresh one is read behind the page; the next view has the fresh one", async () => {
    const { id } = await retentionBoard("Behind", "range=30d&period=day&platform=web&tz=Europe/London");
    const first = await bodyOf<DashOut & { cards: Array<CardOut & { refreshing: boolean }> }>(await dashboard(viewer, id));
    expect(first.cards[0]?.cached).toBe(false);
    // u4 arrives two days ago and comes back yesterday: one more in that cohort and in its day 1.
    const before = cohortsOf(first.cards[0]).find(([d]) => d === day(2));
    await h.insertEvents([ev("u4", at(2, 9)), ev("u4", at(1, 9))]);
    const behind: Array<Promise<unknown>> = [];
    const context = { cloudflare: { env: h.env, waitUntil: (work: Promise<unknown>) => behind.push(work) } };
    const view = async (ctx: typeof context | typeof h.context) =>
      bodyOf<DashOut & { cards: Array<CardOut & { refreshing: boolean }> }>(await run(() => dashPage.loader({ request: browserRequest(`/dashboards/${id}`, { session: viewer.session }), params: { id }, context: ctx })));
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + (CARD_TTL_SECONDS + 1) * 1000);
      const stale = await view(context);
      expect([stale.cards[0]?.cached, stale.cards[0]?.refreshing, behind.length]).toEqual([true, true, 1]);
      expect(cohortsOf(stale.cards[0])).toEqual(cohortsOf(first.cards[0]));
      await Promise.all(behind);
      const after = await clickhouseRequests(() => view(h.context));
      expect(after.requests).toBe(0);
      expect(after.out.cards[0]?.refreshing).toBe(false);
      expect(cohortsOf(after.out.cards[0]).find(([d]) => d === day(2))).toEqual([day(2), (before?.[1] ?? 0) + 1, [(before?.[2][0] ?? 0) + 1, 0]]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a dashboard with cards never computed", () => {
  it("shows the cards not done when `until` settles as computing, computes them behind the page, and the next view has them", async () => {
    const { id, card } = await retentionBoard("Cold", "range=30d&period=week&platform=ios&tz=Asia/Tokyo");
    const env = dashboardEnv(h.env);
    const d = await getDashboard(h.db, orgId, id);
    const layout = d?.layout ?? [];
    const insights = await getSavedInsights(h.db, orgId, [card]);
    const scope = scopeFromUrl(new URL("http://x/"), d?.scope ?? { range: "", filters: "" });
    const behind: Array<Promise<unknown>> = [];
    const opts = { refresh: false, now: Date.now(), background: (work: Promise<unknown>) => behind.push(work) };
    const [cold] = await loadCards(env, orgId, layout, insights, scope, { ...opts, until: Promise.resolve() });
    expect([cold?.data, cold?.error, cold?.at, cold?.cached, cold?.refreshing, behind.length]).toEqual([null, null, null, false, true, 1]);
    const page = await renderPage(dashPage.default, `http://127.0.0.1/dashboards/${id}`, { viewer: { name: "V", email: "v@example.com", role: "viewer", orgId, orgName: "Shop", orgs: [] }, dashboard: { id, name: "Cold", description: "", saved: scope }, scope, cards: [cold], addable: [], canEdit: false, warmMinutes: 15 });
    expect(page).toContain("Computing…");
    expect(page).not.toContain("refreshing…");
    await Promise.all(behind);
    const [done] = await loadCards(env, orgId, layout, insights, scope, { ...opts, until: new Promise(() => {}) });
    expect([done?.error, done?.cached, done?.refreshing, (done?.data?.result as RetentionCard | undefined)?.cohorts.length ?? 0]).toEqual([null, true, false, expect.any(Number)]);
    expect(done?.data?.type).toBe("retention");
  });
});

describe("the card cache", () => {
  it("serves a result as it is for CARD_TTL_SECONDS and its range, keeps it as an older one for CARD_STALE_SECONDS, then no more", async () => {
    const t0 = 1_800_000_000_000;
    const key = "org\napp\ntrends\nrange=7d";
    await cachePut(h.db, { orgId, appId: APP }, key, { n: 1 }, "1-2", t0);
    const kept = await cacheGet(h.db, key, t0 + CARD_TTL_SECONDS * 1000 - 1);
    expect(kept).toEqual({ value: { n: 1 }, at: t0, span: "1-2" });
    expect(kept && [isFresh(kept, "1-2", t0 + CARD_TTL_SECONDS * 1000 - 1), isFresh(kept, "1-3", t0), isFresh(kept, "1-2", t0 + CARD_TTL_SECONDS * 1000)]).toEqual([true, false, false]);
    expect(await cacheGet(h.db, key, t0 + CARD_STALE_SECONDS * 1000 - 1)).toBeDefined();
    expect(await cacheGet(h.db, key, t0 + CARD_STALE_SECONDS * 1000)).toBeUndefined();
    expect(await cacheGet(h.db, "other-org\napp\ntrends\nrange=7d", t0)).toBeUndefined();
  });

  it("is shared through D1: a new isolate reads what another stored, and an older result never replaces a newer one", async () => {
    const t0 = 1_800_000_000_000;
    const key = "org\napp\nfunnels\nrange=30d";
    await cachePut(h.db, { orgId, appId: APP }, key, { n: 2 }, "1-2", t0);
    forgetIsolateCache();
    expect(await cacheGet(h.db, key, t0 + 1000)).toEqual({ value: { n: 2 }, at: t0, span: "1-2" });
    // A slower isolate finishing a computation it began earlier.
    await cachePut(h.db, { orgId, appId: APP }, key, { n: 1 }, "1-2", t0 - 5000);
    forgetIsolateCache();
    expect((await cacheGet(h.db, key, t0 + 1000))?.value).toEqual({ n: 2 });
  });

  it("answers from this isolate for CARD_TTL_SECONDS; past that, a newer result in D1 (the cron's) wins, and none when D1 dropped it", async () => {
    const t0 = 1_800_000_000_000;
    const key = "org\napp\nstickiness\nrange=30d";
    await cachePut(h.db, { orgId, appId: APP }, key, { n: 1 }, "1-2", t0);
    // Another isolate, or the cron, stores a newer result 30 s later.
    const later = t0 + 30_000;
    await h.db.prepare("UPDATE card_results SET computed_at = ?1, value = '{\"n\":2}' WHERE computed_at = ?2 AND value = '{\"n\":1}'").bind(later, t0).run();
    expect((await cacheGet(h.db, key, t0 + CARD_TTL_SECONDS * 1000 - 1))?.value).toEqual({ n: 1 });
    expect(await cacheGet(h.db, key, t0 + CARD_TTL_SECONDS * 1000)).toEqual({ value: { n: 2 }, at: later, span: "1-2" });
    await h.db.prepare("DELETE FROM card_results WHERE computed_at = ?1").bind(later).run();
    expect(await cacheGet(h.db, key, later + CARD_TTL_SECONDS * 1000)).toBeUndefined();
  });
});

describe("dashboards kept warm", () => {
  const DAY_MS = 86_400_000;

  it("the cron computes a dashboard someone opened, and the next viewer's first request shows its result without asking ClickHouse", async () => {
    const { id } = await retentionBoard("Warm", "range=30d&period=week&platform=web");
    // Opening it records the view (and computes its cards, as the page always has).
    const opened = await bodyOf<DashOut>(await dashboard(viewer, id));
    expect(opened.cards[0]?.cached).toBe(false);
    await h.insertEvents([ev("u5", at(1, 8))]);
    const later = Date.now() + WARM_EVERY_MS + 60_000;
    const warmed = await clickhouseRequests(() => warmDashboards(dashboardEnv(h.env), later, Infinity));
    expect(warmed.requests).toBeGreaterThan(0);
    expect(warmed.out.failed).toBe(0);
    forgetIsolateCache();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(later);
      const first = await clickhouseRequests(async () => bodyOf<DashOut & { cards: Array<CardOut & { at: number }> }>(await dashboard(owner, id)));
      expect(first.requests).toBe(0);
      expect([first.out.cards[0]?.cached, first.out.cards[0]?.at]).toEqual([true, later]);
      // u5, new since the view, is in the week's cohort the cron computed.
      const sizes = (c: CardOut | undefined) => cohortsOf(c).reduce((n, [, size]) => n + size, 0);
      expect(sizes(first.out.cards[0])).toBe(sizes(opened.cards[0]) + 1);
      // Computed a minute ago: not again.
      expect((await clickhouseRequests(() => warmDashboards(dashboardEnv(h.env), later + 60_000, Infinity))).requests).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops once nobody has opened a dashboard for WARM_VIEWED_WITHIN_MS, and drops results older than CARD_STALE_SECONDS", async () => {
    const gone = Date.now() + WARM_VIEWED_WITHIN_MS + DAY_MS;
    const run = await clickhouseRequests(() => warmDashboards(dashboardEnv(h.env), gone, Infinity));
    expect([run.requests, run.out.dashboards]).toEqual([0, 0]);
    expect(run.out.pruned).toBeGreaterThan(0);
    const left = await h.db.prepare("SELECT count(*) AS n FROM card_results WHERE computed_at < ?1").bind(gone - CARD_STALE_SECONDS * 1000).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});
