// The users and sessions views over fixture events in the real local ClickHouse: summaries
// from the materialized views, search, profiles with folded traits, journeys that include what
// a user did before being identified, bounce rate and distributions, CSV, and no other app's data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listSessions } from "../app/queries/sessions.server";
import type { SessionRow } from "../app/queries/sessions.server";
import type { TimelineEvent } from "../app/queries/sessions.server";
import type { UserProfile, UserRow } from "../app/queries/users.server";
import * as sessionDetail from "../app/routes/apps.$app.sessions.$session";
import * as sessionEventsCsv from "../app/routes/apps.$app.sessions.$session.events[.csv]";
import * as sessions from "../app/routes/apps.$app.sessions._index";
import * as sessionsCsv from "../app/routes/apps.$app.sessions[.csv]";
import * as userPage from "../app/routes/apps.$app.users.$user";
import * as journeyCsv from "../app/routes/apps.$app.users.$user.journey[.csv]";
import * as users from "../app/routes/apps.$app.users._index";
import * as usersCsv from "../app/routes/apps.$app.users[.csv]";
import { dashboardEnv } from "../app/env.server";
import { parseRange } from "../app/queries/range";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
const base = Date.now() - 3 * 3600_000;
const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
let seq = 0;

function ev(fields: Record<string, string | number>): Record<string, string | number> {
  const ts = String(fields.timestamp);
  return { app_id: "app_shop", message_id: `m${String(++seq).padStart(3, "0")}`, received_at: ts, platform: "web", country: "DE", ...fields };
}

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [
    { id: "app_shop", name: "Shop" },
    { id: "app_empty", name: "Empty" },
    { id: "app_night", name: "Night" },
  ]);
  // Session s-a: anon-1 browses, then signs in as user-1.
  const rows = [
    ev({ type: "page", path: "/home", anonymous_id: "anon-1", session_id: "s-a", timestamp: at(0), browser: "Chrome", os_name: "macOS" }),
    ev({ type: "track", event: "Viewed Product", anonymous_id: "anon-1", session_id: "s-a", timestamp: at(20) }),
    ev({ type: "identify", user_id: "user-1", anonymous_id: "anon-1", session_id: "s-a", timestamp: at(30), traits: '{"name":"Ada","plan":"free"}' }),
    ev({ type: "page", path: "/checkout", user_id: "user-1", anonymous_id: "anon-1", session_id: "s-a", timestamp: at(90) }),
    // Session s-b, an hour later: user-1 upgrades on a phone; only the changed trait is sent.
    ev({
      type: "screen",
      path: "Plans",
      user_id: "user-1",
      anonymous_id: "anon-1",
      session_id: "s-b",
      timestamp: at(3600),
      platform: "ios",
      os_name: "iOS",
      device_model: "iPhone15,2",
    }),
    ev({ type: "identify", user_id: "user-1", anonymous_id: "anon-1", session_id: "s-b", timestamp: at(3610), platform: "ios", traits: '{"plan":"pro"}' }),
    ev({
      type: "crash",
      user_id: "user-1",
      anonymous_id: "anon-1",
      session_id: "s-b",
      timestamp: at(3620),
      platform: "ios",
      crash_type: "TypeError",
      crash_message: "x is undefined",
    }),
    // Session s-c: anon-2 lands and leaves (a bounce), from France on iOS.
    ev({ type: "page", path: "/landing", anonymous_id: "anon-2", session_id: "s-c", timestamp: at(5000), platform: "ios", country: "FR" }),
    // Session s-d: anon-3 reads two pages for two minutes, with perf events.
    ev({ type: "page", path: "/docs", anonymous_id: "anon-3", session_id: "s-d", timestamp: at(6000) }),
    ...[1, 2, 3, 4].map((i) => ev({ type: "perf", perf_metric: "LCP", perf_value: 1000 + i, perf_unit: "ms", anonymous_id: "anon-3", session_id: "s-d", timestamp: at(6000 + i) })),
    ev({ type: "page", path: "/docs/api", anonymous_id: "anon-3", session_id: "s-d", timestamp: at(6120) }),
    // Another app with the same ids must never show up.
    ev({ app_id: "app_noise", type: "page", path: "/secret", user_id: "user-1", anonymous_id: "anon-1", session_id: "s-a", timestamp: at(100), traits: '{"plan":"stolen"}' }),
    ev({ app_id: "app_noise", type: "page", path: "/secret", anonymous_id: "anon-9", session_id: "s-noise", timestamp: at(100) }),
  ];
  // Two inserts: one session's rows land in separate parts, as they do from separate batches.
  await h.insertEvents(rows.slice(0, 4));
  await h.insertEvents(rows.slice(4));
  // A session across midnight UTC, sent in two batches: one session, from its first event.
  const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
  const night = (ms: number, path: string): Record<string, string | number> =>
    ev({ app_id: "app_night", type: "page", path, anonymous_id: "owl", session_id: "s-night", timestamp: new Date(midnight + ms).toISOString() });
  await h.insertEvents([night(-10_000, "/before")]);
  await h.insertEvents([night(20_000, "/after")]);
}, 120_000);

afterAll(async () => h?.close());

async function get<T>(mod: { loader: (args: never) => Promise<unknown> }, path: string, params: Record<string, string>, context = h.context): Promise<{ status: number; data: T }> {
  const loader = mod.loader as (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;
  const res = await run(() => loader({ request: browserRequest(path, { session }), params, context }));
  return { status: res.status, data: res.status === 200 ? ((await res.json()) as T) : (undefined as T) };
}

async function csv(mod: { loader: (args: never) => Promise<unknown> }, path: string, params: Record<string, string>): Promise<{ res: Response; lines: string[] }> {
  const loader = mod.loader as (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;
  const res = await run(() => loader({ request: browserRequest(path, { session }), params, context: h.context }));
  return { res, lines: res.status === 200 ? (await res.text()).trim().split("\r\n") : [] };
}

interface SessionsData {
  page: { rows: SessionRow[]; next: string | null } | null;
  stats: {
    sessions: number;
    bounced: number;
    bounceRate: number;
    durations: Array<{ label: string; n: number }>;
    eventsPerSession: Array<{ label: string; n: number }>;
    series: Array<{ t: number; sessions: number; bounced: number }>;
  } | null;
  error: string | null;
}

describe("sessions", () => {
  it("lists every session of the range newest first, with its entry, exit, duration and user", async () => {
    const { status, data } = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=24h", { app: "app_shop" });
    expect(status).toBe(200);
    expect(data.error).toBeNull();
    expect(data.page?.rows.map((s) => s.id)).toEqual(["s-d", "s-c", "s-b", "s-a"]);
    const a = data.page?.rows.find((s) => s.id === "s-a");
    expect(a).toMatchObject({ events: 4, views: 2, actions: 1, entry: "/home", exit: "/checkout", durationMs: 90_000, userId: "user-1", anonymousId: "anon-1", bounced: 0 });
    const b = data.page?.rows.find((s) => s.id === "s-b");
    expect(b).toMatchObject({ events: 3, entry: "Plans", exit: "Plans", crashes: 1, platform: "ios" });
  });

  it("computes the bounce rate and the duration and events-per-session distributions", async () => {
    const { data } = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=24h", { app: "app_shop" });
    expect(data.stats).toMatchObject({ sessions: 4, bounced: 1, bounceRate: 0.25 });
    const durations = Object.fromEntries(data.stats?.durations.map((b) => [b.label, b.n]) ?? []);
    // s-b 20 s and s-c 0 s; s-a 90 s; s-d 120 s.
    expect(durations).toMatchObject({ "<10s": 1, "10–30s": 1, "1–3m": 2, "≥1h": 0 });
    const perSession = Object.fromEntries(data.stats?.eventsPerSession.map((b) => [b.label, b.n]) ?? []);
    expect(perSession).toMatchObject({ "1": 1, "2–3": 1, "4–7": 2, "8–15": 0 });
    expect(data.stats?.series.reduce((sum, p) => sum + p.sessions, 0)).toBe(4);
    expect(data.stats?.series.reduce((sum, p) => sum + p.bounced, 0)).toBe(1);
  });

  it("narrows to a platform, a country or bounced sessions from the URL", async () => {
    const ios = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=24h&platform=ios", { app: "app_shop" });
    expect(ios.data.page?.rows.map((s) => s.id)).toEqual(["s-c", "s-b"]);
    const fr = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=24h&country=FR", { app: "app_shop" });
    expect(fr.data.page?.rows.map((s) => s.id)).toEqual(["s-c"]);
    const bounced = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=24h&bounced=1", { app: "app_shop" });
    expect(bounced.data.page?.rows.map((s) => s.id)).toEqual(["s-c"]);
    expect(bounced.data.stats?.bounceRate).toBe(1);
    const short = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=1h", { app: "app_shop" });
    expect(short.data.page?.rows).toEqual([]);
    expect(short.data.stats?.sessions).toBe(0);
  });

  it("pages through sessions without gaps or repeats", async () => {
    const cfg = dashboardEnv(h.env).clickhouse;
    const range = parseRange(new URL("http://x/?range=24h"));
    const f = { dims: { platform: "", country: "" }, bounced: false };
    const seen: string[] = [];
    let before = null;
    for (let i = 0; i < 5; i++) {
      const page = await listSessions(cfg, "app_shop", range, f, before, 3);
      seen.push(...page.rows.map((s) => s.id));
      if (!page.next) break;
      const [ts, ...id] = page.next.split("_");
      before = { ts: Number(ts), id: id.join("_") };
    }
    expect(seen).toEqual(["s-d", "s-c", "s-b", "s-a"]);
  });

  it("shows one session's events in order, and 404 for another app's session", async () => {
    const { status, data } = await get<{ detail: { session: SessionRow; events: TimelineEvent[] } }>(sessionDetail, "/apps/app_shop/sessions/s-b", {
      app: "app_shop",
      session: "s-b",
    });
    expect(status).toBe(200);
    expect(data.detail.events.map((e) => e.type)).toEqual(["screen", "identify", "crash"]);
    expect(data.detail.events[2]?.detail).toBe("TypeError: x is undefined");
    expect((await get(sessionDetail, "/apps/app_shop/sessions/s-noise", { app: "app_shop", session: "s-noise" })).status).toBe(404);
    expect((await get(sessionDetail, "/apps/app_shop/sessions/nope", { app: "app_shop", session: "nope" })).status).toBe(404);
    // The same session id in another app is another session.
    const a = await get<{ detail: { events: TimelineEvent[] } }>(sessionDetail, "/apps/app_shop/sessions/s-a", { app: "app_shop", session: "s-a" });
    expect(a.data.detail.events.map((e) => e.path)).not.toContain("/secret");
  });

  it("exports the list and one session's events as CSV", async () => {
    const list = await csv(sessionsCsv, "/apps/app_shop/sessions.csv?range=24h&platform=ios", { app: "app_shop" });
    expect(list.res.headers.get("content-disposition")).toContain("app_shop-sessions-24h.csv");
    expect(list.lines[0]).toBe("session_id,started,duration_s,events,views,actions,crashes,user_id,anonymous_id,platform,country,entry,exit,bounced");
    expect(list.lines.slice(1).map((l) => l.split(",")[0])).toEqual(["s-c", "s-b"]);
    const one = await csv(sessionEventsCsv, "/apps/app_shop/sessions/s-a/events.csv", { app: "app_shop", session: "s-a" });
    expect(one.lines).toHaveLength(5);
    expect(one.lines[1]).toContain(",page,,/home,");
    expect((await csv(sessionEventsCsv, "/apps/app_shop/sessions/s-noise/events.csv", { app: "app_shop", session: "s-noise" })).res.status).toBe(404);
  });

  it("keeps a session that crosses midnight whole", async () => {
    const { data } = await get<SessionsData>(sessions, "/apps/app_night/sessions?range=7d", { app: "app_night" });
    expect(data.page?.rows).toHaveLength(1);
    expect(data.page?.rows[0]).toMatchObject({ id: "s-night", events: 2, views: 2, durationMs: 30_000, entry: "/before", exit: "/after" });
    expect(data.stats).toMatchObject({ sessions: 1, bounced: 0 });
  });

  it("shows an empty app as an empty list and zero sessions", async () => {
    const { data } = await get<SessionsData>(sessions, "/apps/app_empty/sessions?range=24h", { app: "app_empty" });
    expect(data.error).toBeNull();
    expect(data.page?.rows).toEqual([]);
    expect(data.stats).toMatchObject({ sessions: 0, bounceRate: 0 });
  });

  it("reports an unreachable ClickHouse in the page instead of failing it", async () => {
    const env = { ...h.env, CLICKHOUSE_URL: "http://127.0.0.1:9" };
    const { status, data } = await get<SessionsData>(sessions, "/apps/app_shop/sessions?range=24h", { app: "app_shop" }, { cloudflare: { env } });
    expect(status).toBe(200);
    expect(data.page).toBeNull();
    expect(data.error).toMatch(/did not answer/);
  });
});

interface UsersData {
  page: { rows: Array<UserRow & { name: string }>; next: string | null } | null;
  daily: Array<{ t: number; n: number }>;
  error: string | null;
}

describe("users", () => {
  it("lists the users seen in the range, most recent first", async () => {
    const { data } = await get<UsersData>(users, "/apps/app_shop/users?range=24h", { app: "app_shop" });
    expect(data.error).toBeNull();
    expect(data.page?.rows.map((u) => u.key)).toEqual(["anon-3", "anon-2", "user-1", "anon-1"]);
    const u1 = data.page?.rows.find((u) => u.key === "user-1");
    // Named by the latest name trait, which the later identify did not repeat.
    expect(u1).toMatchObject({ userId: "user-1", name: "Ada", events: 5, sessions: 2, platform: "ios" });
    expect(data.page?.rows.find((u) => u.key === "anon-2")?.name).toBe("");
    expect(data.daily.reduce((sum, d) => sum + d.n, 0)).toBeGreaterThanOrEqual(4);
  });

  it("finds users by part of their id and by an exact anonymous id", async () => {
    const part = await get<UsersData>(users, "/apps/app_shop/users?range=24h&q=USER", { app: "app_shop" });
    expect(part.data.page?.rows.map((u) => u.key)).toEqual(["user-1"]);
    // anon-1 became user-1: searching the anonymous id finds both the identified user and the
    // anonymous visitor that came before.
    const anon = await get<UsersData>(users, "/apps/app_shop/users?range=24h&q=anon-1", { app: "app_shop" });
    expect(anon.data.page?.rows.map((u) => u.key).sort()).toEqual(["anon-1", "user-1"]);
    const fr = await get<UsersData>(users, "/apps/app_shop/users?range=24h&country=FR", { app: "app_shop" });
    expect(fr.data.page?.rows.map((u) => u.key)).toEqual(["anon-2"]);
    const none = await get<UsersData>(users, "/apps/app_shop/users?range=24h&q=nobody", { app: "app_shop" });
    expect(none.data.page?.rows).toEqual([]);
  });

  it("shows a profile with traits folded over identify calls, anonymous ids and devices", async () => {
    const { status, data } = await get<{ profile: UserProfile; journey: { events: TimelineEvent[]; activity: Array<{ n: number }> } }>(
      userPage,
      "/apps/app_shop/users/user-1?range=24h",
      { app: "app_shop", user: "user-1" },
    );
    expect(status).toBe(200);
    expect(data.profile.traits).toEqual({ name: "Ada", plan: "pro" });
    expect(data.profile.anonymousIds).toEqual(["anon-1"]);
    // Devices of the whole journey, the anonymous start on a Mac included.
    expect(data.profile.devices.map((d) => `${d.platform}/${d.os}/${d.model}/${d.browser}`).sort()).toEqual(["ios///", "ios/iOS/iPhone15,2/", "web///", "web/macOS//Chrome"]);
    expect(data.profile.firstSeenMs).toBe(Date.parse(at(30)));
  });

  it("shows the journey across sessions, including what the user did before being identified", async () => {
    const { data } = await get<{ journey: { events: TimelineEvent[]; activity: Array<{ n: number }> } }>(userPage, "/apps/app_shop/users/user-1?range=24h", {
      app: "app_shop",
      user: "user-1",
    });
    const events = data.journey.events;
    // Newest first: s-b's three events, then all four of s-a, the first two sent anonymously.
    expect(events.map((e) => `${e.sessionId}:${e.type}`)).toEqual(["s-b:crash", "s-b:identify", "s-b:screen", "s-a:page", "s-a:identify", "s-a:track", "s-a:page"]);
    expect(events.map((e) => e.path)).not.toContain("/secret");
    expect(data.journey.activity.reduce((sum, p) => sum + p.n, 0)).toBe(7);
    const anonymous = await get<{ profile: UserProfile; journey: { events: TimelineEvent[] } }>(userPage, "/apps/app_shop/users/anon-3?range=24h", {
      app: "app_shop",
      user: "anon-3",
    });
    expect(anonymous.data.profile.userId).toBe("");
    expect(anonymous.data.journey.events).toHaveLength(6);
  });

  it("answers 404 for a user of another app or no user at all", async () => {
    expect((await get(userPage, "/apps/app_shop/users/anon-9", { app: "app_shop", user: "anon-9" })).status).toBe(404);
    expect((await get(userPage, "/apps/app_empty/users/user-1", { app: "app_empty", user: "user-1" })).status).toBe(404);
  });

  it("exports the list and a journey as CSV", async () => {
    const list = await csv(usersCsv, "/apps/app_shop/users.csv?range=24h&platform=ios", { app: "app_shop" });
    expect(list.lines[0]).toBe("user,user_id,first_seen,last_seen,events,sessions,platform,country");
    expect(list.lines.slice(1).map((l) => l.split(",")[0])).toEqual(["anon-2", "user-1"]);
    const journey = await csv(journeyCsv, "/apps/app_shop/users/user-1/journey.csv?range=24h", { app: "app_shop", user: "user-1" });
    expect(journey.res.headers.get("content-disposition")).toContain("journey-user-1-24h.csv");
    expect(journey.lines).toHaveLength(8);
    expect(journey.lines[1]).toContain(",crash,,,TypeError: x is undefined,s-b,");
  });
});
