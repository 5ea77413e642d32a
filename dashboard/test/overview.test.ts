// The overview loader over fixture events in the real local ClickHouse: totals, series and
// top lists come from the rollups, only for the app asked for, and failures are shown, not thrown.
import { afterAll, beforeAll, expect, it } from "vitest";
import * as overview from "../app/routes/apps.$app._index";
import * as overviewCsv from "../app/routes/apps.$app.overview[.csv]";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";

const at = (minutesAgo: number): string => new Date(Date.now() - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [
    { id: "app_shop", name: "Shop" },
    { id: "app_empty", name: "Empty" },
  ]);
  const rows: Array<Record<string, string | number>> = [];
  for (let i = 0; i < 30; i++) {
    const user = `u${i % 3}`;
    const base = {
      app_id: "app_shop",
      message_id: `m${i}`,
      anonymous_id: user,
      session_id: `s${i % 2}`,
      timestamp: at(i * 20),
      received_at: at(i * 20),
      platform: i % 2 ? "web" : "ios",
      country: i < 20 ? "DE" : "FR",
      app_version: "1.2.0",
    };
    rows.push(i % 3 === 0 ? { ...base, type: "page", event: "", path: "/pricing" } : { ...base, type: "track", event: i % 3 === 1 ? "Order Completed" : "Signed Up" });
  }
  // Another app's events must never show up.
  rows.push({ app_id: "app_noise", type: "track", event: "Noise", message_id: "n1", anonymous_id: "z", timestamp: at(1), received_at: at(1), country: "US" });
  await h.insertEvents(rows);
}, 120_000);

afterAll(async () => h?.close());

interface Data {
  overview: {
    totals: { events: number; users: number; sessions: number };
    events: Array<{ t: number; n: number }>;
    topEvents: Array<{ key: string; n: number }>;
    topPages: Array<{ key: string; n: number }>;
    countries: Array<{ key: string; n: number }>;
    platforms: Array<{ key: string; n: number }>;
    liveRate: number;
  } | null;
  error: string | null;
  tookMs: number;
}

async function load(app: string, range = "24h", context = h.context, extra = ""): Promise<Data> {
  const res = await run(() => overview.loader({ request: browserRequest(`/apps/${app}?range=${range}${extra}`, { session }), params: { app }, context }));
  expect(res.status).toBe(200);
  return (await res.json()) as Data;
}

it("counts the app's events, users and sessions and ranks its events, pages and countries", async () => {
  const d = await load("app_shop");
  expect(d.error).toBeNull();
  expect(d.overview?.totals).toEqual({ events: 30, users: 3, sessions: 2 });
  expect(d.overview?.events.reduce((s, p) => s + p.n, 0)).toBe(30);
  expect(d.overview?.topEvents).toEqual([
    { key: "Order Completed", n: 10 },
    { key: "Signed Up", n: 10 },
  ]);
  expect(d.overview?.topPages).toEqual([{ key: "/pricing", n: 10 }]);
  expect(d.overview?.countries).toEqual([
    { key: "DE", n: 20 },
    { key: "FR", n: 10 },
  ]);
  expect(d.overview?.liveRate).toBeGreaterThan(0);
});

it("narrows to the range in the URL", async () => {
  const d = await load("app_shop", "1h");
  expect(d.overview?.totals.events).toBe(3);
});

it("narrows every figure to the platform and country in the URL", async () => {
  const fr = await load("app_shop", "24h", h.context, "&country=FR");
  expect(fr.overview?.totals.events).toBe(10);
  expect(fr.overview?.countries).toEqual([{ key: "FR", n: 10 }]);
  const webFr = await load("app_shop", "24h", h.context, "&country=FR&platform=web");
  expect(webFr.overview?.totals.events).toBe(5);
  expect(webFr.overview?.platforms).toEqual([{ key: "web", n: 5 }]);
  // Users and sessions come from the same filtered daily states: u0..u2 all have FR web events.
  expect(webFr.overview?.totals.users).toBe(3);
  const none = await load("app_shop", "24h", h.context, "&country=ZZ");
  expect(none.error).toBeNull();
  expect(none.overview?.totals).toEqual({ events: 0, users: 0, sessions: 0 });
});

it("offers the range's platforms and countries in the filter menus, whatever is filtered", async () => {
  const d = (await load("app_shop", "24h", h.context, "&country=FR")) as Data & { options: { platforms: string[]; countries: string[] } };
  expect(d.options.countries).toEqual(["DE", "FR"]);
  expect([...d.options.platforms].sort()).toEqual(["ios", "web"]);
});

it("exports the overview's tables as CSV with the same filters", async () => {
  const res = await run(() =>
    overviewCsv.loader({ request: browserRequest("/apps/app_shop/overview.csv?range=24h&country=FR", { session }), params: { app: "app_shop" }, context: h.context }),
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-disposition")).toContain("app_shop-overview-24h.csv");
  const lines = (await res.text()).trim().split("\r\n");
  expect(lines[0]).toBe("table,key,count");
  expect(lines).toContain("country,FR,10");
  expect(lines.some((l) => l.startsWith("country,DE"))).toBe(false);
  expect(lines).toContain("path,/pricing,3");
});

it("shows an empty app as zeros, not an error", async () => {
  const d = await load("app_empty");
  expect(d.error).toBeNull();
  expect(d.overview?.totals).toEqual({ events: 0, users: 0, sessions: 0 });
  expect(d.overview?.topEvents).toEqual([]);
});

it("reports an unreachable ClickHouse in the page instead of failing it", async () => {
  const env = { ...h.env, CLICKHOUSE_URL: "http://127.0.0.1:9" };
  const d = await load("app_shop", "24h", { cloudflare: { env } });
  expect(d.overview).toBeNull();
  expect(d.error).toMatch(/did not answer/);
});
