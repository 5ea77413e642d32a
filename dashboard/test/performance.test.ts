// Performance views over hand-worked fixtures in the real local ClickHouse, inserted through the
// perf_hourly materialized view production uses. Percentiles come from the rollup's quantile
// states: each is checked against the nearest-rank value (rank ⌈p·n⌉ of the sorted values, from
// 1), within QUANTILE_ACCURACY.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUANTILE_ACCURACY, REGRESSION } from "../../schemas/perf";
import { compareReleases, type Regression } from "../app/queries/perf-regressions.server";
import type { MetricView, PerfOverview } from "../app/queries/perf.server";
import * as metricPage from "../app/routes/apps.$app.performance.$metric";
import * as perfPage from "../app/routes/apps.$app.performance._index";
import * as perfCsv from "../app/routes/apps.$app.performance[.csv]";
import * as releasesPage from "../app/routes/apps.$app.releases";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
const APP = "app_perf";
const OTHER = "app_perf_other";
// Every fixture in one hour two hours ago, so the 24 h chart's bucket holds the range's figures.
const HOUR = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
let seq = 0;
const at = (ms: number) => new Date(ms).toISOString();

type Row = Record<string, string | number>;
/** A perf event `offsetMs` into the hour (release order follows first events). */
function perf(metric: string, value: number, offsetMs: number, fields: Row = {}, props: Record<string, string> = {}): Row {
  const ts = at(HOUR + offsetMs + (++seq % 1000));
  return {
    app_id: APP,
    message_id: `p${seq}`,
    type: "perf",
    event: metric,
    perf_metric: metric,
    perf_value: value,
    perf_unit: "ms",
    anonymous_id: `a${seq % 7}`,
    timestamp: ts,
    received_at: ts,
    properties: JSON.stringify(props),
    ...fields,
  };
}

const near = (got: number | null | undefined, want: number): void => {
  expect(got).not.toBeNull();
  expect(got).toBeDefined();
  expect(Math.abs(Number(got) - want) / want).toBeLessThanOrEqual(QUANTILE_ACCURACY);
};

// LCP, 20 values sorted: p75 is rank ⌈0.75·20⌉ = 15 → 3900. Good (≤ 2500): 9; poor
// (> 4000): 5; needs improvement: 6. /home holds the first ten (p75 rank 8 → 2400; 9 good,
// 1 needs improvement), /orders/:id the last ten (rank 8 → 5000; 5 needs improvement, 5 poor).
const LCP = [1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400, 2500, 2600, 3000, 3200, 3500, 3800, 3900, 4100, 4500, 5000, 6000, 8000];
// Transaction "GET /orders/:id": five durations (total 4000, p75 rank 4 → 1000), each with two
// db.query spans (50 and 100 ms) and one http.client span (200 ms).
const TXN = "GET /orders/:id";
const TXN_DURATIONS = [400, 500, 600, 1000, 1500];
// app_start_cold per release, in the order they came out: 2.0.0 is 25 % slower than 1.0.0,
// 3.0.0 5 % slower than 2.0.0, 4.0.0 has too few values, 5.0.0 is 14.3 % slower than 3.0.0.
const STARTS: Array<[release: string, value: number, count: number]> = [
  ["1.0.0", 1000, 20],
  ["2.0.0", 1250, 20],
  ["3.0.0", 1312.5, 20],
  ["4.0.0", 2000, 10],
  ["5.0.0", 1500, 20],
];

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [
    { id: APP, name: "Perf" },
    { id: OTHER, name: "Other" },
  ]);
  const web = (page: string, i: number): Row => ({
    path: page.replace(":id", String(100 + i)),
    path_template: page,
    app_version: "1.0.0",
    platform: "web",
    browser: i % 2 === 0 ? "Chrome" : "Firefox",
    device_type: page === "/home" ? "desktop" : "mobile",
    country: "DE",
  });
  const rows: Row[] = [
    ...LCP.map((v, i) => perf("LCP", v, 0, web(i < 10 ? "/home" : "/orders/:id", i))),
    // CLS, a score: p75 rank 3 → 0.2; 2 good (≤ 0.1), 1 poor (> 0.25), 1 needs improvement.
    ...[0.05, 0.1, 0.2, 0.3].map((v, i) => perf("CLS", v, 0, { ...web("/home", i), perf_unit: "score" })),
    ...TXN_DURATIONS.flatMap((d, i) => [
      perf(TXN, d, 0, web("/orders/:id", i), { kind: "transaction" }),
      perf("db.query", 50, 0, web("/orders/:id", i), { kind: "span", transaction: TXN, op: "db.query", description: "SELECT * FROM orders" }),
      perf("db.query", 100, 0, web("/orders/:id", i), { kind: "span", transaction: TXN, op: "db.query", description: "SELECT * FROM items" }),
      perf("http.client", 200, 0, web("/orders/:id", i), { kind: "span", transaction: TXN, op: "http.client", description: "GET /api/stock" }),
    ]),
    // A custom metric: p50 rank 3 → 30, p75 rank 4 → 40, p95 and p99 rank 5 → 50.
    ...[10, 20, 30, 40, 50].map((v, i) => perf("checkout_render", v, 0, web("/home", i))),
    // A screen: p75 rank 4 → 600.
    ...[300, 400, 500, 600, 700].map((v) => perf("screen_load", v, 0, { path: "Checkout", path_template: "Checkout", platform: "ios", app_version: "1.0.0" })),
    ...STARTS.flatMap(([release, value, count], k) =>
      Array.from({ length: count }, () => perf("app_start_cold", value, (k + 1) * 300_000, { platform: "android", device_type: "mobile", app_version: release })),
    ),
    // Another app's values never count: worse than anything here, on the same page and metrics.
    ...LCP.map((_, i) => ({ ...perf("LCP", 99_999, 0, web("/home", i)), app_id: OTHER })),
    ...Array.from({ length: 20 }, () => ({ ...perf("app_start_cold", 9000, 6 * 300_000, { platform: "android", app_version: "5.0.0" }), app_id: OTHER })),
    { ...perf("other_only", 5, 0), app_id: OTHER },
  ];
  await h.insertEvents(rows);
}, 120_000);

afterAll(async () => h?.close());

async function json<T>(res: Response): Promise<T> {
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function overview(query: string): Promise<PerfOverview> {
  const res = await run(() => perfPage.loader({ request: browserRequest(`/apps/${APP}/performance?${query}`, { session }), params: { app: APP }, context: h.context }));
  const body = await json<{ view: PerfOverview | null; error: string | null }>(res);
  expect(body.error).toBeNull();
  if (!body.view) throw new Error("no view");
  return body.view;
}

const metricRequest = (app: string, metric: string, query: string) =>
  run(() =>
    metricPage.loader({ request: browserRequest(`/apps/${app}/performance/${encodeURIComponent(metric)}?${query}`, { session }), params: { app, metric }, context: h.context }),
  );

async function metric(name: string, query = "range=24h"): Promise<MetricView> {
  const body = await json<{ view: MetricView | null; error: string | null }>(await metricRequest(APP, name, query));
  expect(body.error).toBeNull();
  if (!body.view) throw new Error("no view");
  return body.view;
}

describe("web vitals", () => {
  it("shows each vital's p75 with its rating, its count and its exact band shares", async () => {
    const view = await overview("range=24h");
    const lcp = view.vitals.find((v) => v.vital === "LCP");
    expect(lcp?.n).toBe(20);
    near(lcp?.p75, 3900);
    expect(lcp?.band).toBe("needs_improvement");
    expect(lcp?.shares).toEqual({ good: 9 / 20, needsImprovement: 6 / 20, poor: 5 / 20 });
    const cls = view.vitals.find((v) => v.vital === "CLS");
    expect(cls?.n).toBe(4);
    near(cls?.p75, 0.2);
    expect(cls?.shares).toEqual({ good: 0.5, needsImprovement: 0.25, poor: 0.25 });
    // A vital without values reads as none, not as zero.
    expect(view.vitals.find((v) => v.vital === "INP")).toMatchObject({ n: 0, p75: null, band: null, shares: null });
    expect(view.vitals.map((v) => v.vital)).toEqual(["LCP", "INP", "CLS", "FCP", "TTFB"]);
  });

  it("draws each vital's p75 per hour over a day", async () => {
    const view = await overview("range=24h");
    expect(view.step).toBe(3600);
    const points = view.series.filter((p) => p.vital === "LCP");
    expect(points.map((p) => p.t)).toEqual([HOUR / 1000]);
    near(points[0]?.p75, 3900);
    // Beyond two days a point per day.
    expect((await overview("range=7d")).step).toBe(86_400);
  });

  it("breaks a vital down by page and by device class, most values first, with each value's p75 and bands", async () => {
    const byPage = (await overview("range=24h&dimension=page&vital=LCP")).breakdown;
    expect(byPage.map((r) => [r.value, r.n])).toEqual([
      ["/home", 10],
      ["/orders/:id", 10],
    ]);
    near(byPage[0]?.p75, 2400);
    expect(byPage[0]?.shares).toEqual({ good: 0.9, needsImprovement: 0.1, poor: 0 });
    near(byPage[1]?.p75, 5000);
    expect(byPage[1]?.shares).toEqual({ good: 0, needsImprovement: 0.5, poor: 0.5 });
    const byDevice = (await overview("range=24h&dimension=device")).breakdown;
    expect(byDevice.map((r) => r.value)).toEqual(["desktop", "mobile"]);
    near(byDevice.find((r) => r.value === "mobile")?.p75, 5000);
    const cls = (await overview("range=24h&dimension=browser&vital=CLS")).breakdown;
    expect(cls.map((r) => [r.value, r.n])).toEqual([
      ["Chrome", 2],
      ["Firefox", 2],
    ]);
  });

  it("applies the filters to every figure", async () => {
    const home = await overview("range=24h&page=%2Fhome");
    const lcp = home.vitals.find((v) => v.vital === "LCP");
    expect(lcp?.n).toBe(10);
    near(lcp?.p75, 2400);
    expect(lcp?.band).toBe("good");
    // /home has the custom metric and CLS but no transaction, screen or app start.
    expect(home.metrics.map((m) => m.metric)).toEqual(["checkout_render"]);
    const firefox = await overview("range=24h&browser=Firefox&device=mobile");
    // Odd indexes 11..19 of the LCP values: 3200 3800 4100 5000 8000, p75 rank 4 → 5000.
    const ff = firefox.vitals.find((v) => v.vital === "LCP");
    expect(ff?.n).toBe(5);
    near(ff?.p75, 5000);
    const android = await overview("range=24h&platform=android&release=2.0.0");
    expect(android.vitals.every((v) => v.n === 0)).toBe(true);
    expect(android.metrics.map((m) => [m.metric, m.n])).toEqual([["app_start_cold", 20]]);
  });
});

describe("other metrics", () => {
  it("lists app start, screen load, transactions and custom metrics with their percentiles, without vitals or spans", async () => {
    const view = await overview("range=24h");
    expect(view.metrics.map((m) => [m.metric, m.kind, m.n])).toEqual([
      ["app_start_cold", "app_start", 90],
      ["screen_load", "screen_load", 5],
      [TXN, "transaction", 5],
      ["checkout_render", "custom", 5],
    ]);
    const custom = view.metrics.find((m) => m.metric === "checkout_render");
    near(custom?.p50, 30);
    near(custom?.p75, 40);
    near(custom?.p95, 50);
    near(custom?.p99, 50);
    const txn = view.metrics.find((m) => m.metric === TXN);
    near(txn?.p75, 1000);
    near(txn?.p50, 600);
  });

  it("ranks the slowest pages, screens and transactions by p75", async () => {
    const view = await overview("range=24h");
    expect(view.slowest.map((r) => [r.source, r.name, r.n])).toEqual([
      ["LCP", "/orders/:id", 10],
      ["LCP", "/home", 10],
      ["transaction", TXN, 5],
      ["screen_load", "Checkout", 5],
    ]);
    near(view.slowest[3]?.p75, 600);
  });

  it("shows an app without perf data as empty, not as an error", async () => {
    const view = await overview("range=1h");
    expect(view.vitals.every((v) => v.n === 0 && v.p75 === null)).toBe(true);
    expect(view.metrics).toEqual([]);
    expect(view.slowest).toEqual([]);
  });
});

describe("a metric's page", () => {
  it("shows a vital's percentiles, bands, releases, platforms, device classes and slowest pages", async () => {
    const view = await metric("LCP");
    expect(view).toMatchObject({ metric: "LCP", kind: "vital", unit: "ms", spans: null, slowSpans: null });
    expect(view.summary?.n).toBe(20);
    near(view.summary?.p75, 3900);
    // p50 rank 10 → 2600; p95 rank 19 → 6000; p99 rank 20 → 8000.
    near(view.summary?.p50, 2600);
    near(view.summary?.p95, 6000);
    near(view.summary?.p99, 8000);
    expect(view.summary?.shares).toEqual({ good: 0.45, needsImprovement: 0.3, poor: 0.25 });
    expect(view.series.map((p) => p.t)).toEqual([HOUR / 1000]);
    near(view.series[0]?.p75, 3900);
    expect(view.releases.map((r) => [r.release, r.n])).toEqual([["1.0.0", 20]]);
    expect(view.platforms.map((r) => [r.value, r.n])).toEqual([["web", 20]]);
    expect(view.devices.map((r) => [r.value, r.n])).toEqual([
      ["desktop", 10],
      ["mobile", 10],
    ]);
    expect(view.pages.map((r) => r.value)).toEqual(["/orders/:id", "/home"]);
    near(view.pages[0]?.p75, 5000);
  });

  it("breaks a transaction down by span op: spans per transaction, average, p75 and share of its time", async () => {
    const view = await metric(TXN);
    expect(view.kind).toBe("transaction");
    expect(view.summary?.n).toBe(5);
    near(view.summary?.p75, 1000);
    const spans = view.spans ?? [];
    expect(spans.map((s) => s.op)).toEqual(["http.client", "db.query"]);
    const db = spans.find((s) => s.op === "db.query");
    // Ten db.query spans over five transactions, 750 ms of the transactions' 4000 ms.
    expect(db).toMatchObject({ n: 10, perTransaction: 2, avg: 75 });
    expect(db?.share).toBeCloseTo(750 / 4000, 9);
    // p75 rank 8 of five 50s and five 100s.
    near(db?.p75, 100);
    const http = spans.find((s) => s.op === "http.client");
    expect(http).toMatchObject({ n: 5, perTransaction: 1, avg: 200 });
    expect(http?.share).toBeCloseTo(1000 / 4000, 9);
    // The slowest span descriptions, from the transaction's own span events.
    expect(view.slowSpans?.map((s) => [s.op, s.description, s.n, s.avg, s.max])).toEqual([
      ["http.client", "GET /api/stock", 5, 200, 200],
      ["db.query", "SELECT * FROM items", 5, 100, 100],
      ["db.query", "SELECT * FROM orders", 5, 50, 50],
    ]);
  });

  it("flags the release whose p75 is 25 % worse than the previous one, not a 5 % change nor one with too few values", async () => {
    const view = await metric("app_start_cold");
    const by = new Map(view.releases.map((r) => [r.release, r]));
    expect(view.releases.map((r) => r.release)).toEqual(["1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0"]);
    expect(by.get("1.0.0")).toMatchObject({ previous: null, change: null, regressed: false });
    expect(by.get("2.0.0")).toMatchObject({ previous: "1.0.0", regressed: true });
    expect(by.get("2.0.0")?.change).toBeCloseTo(0.25, 1);
    expect(by.get("3.0.0")).toMatchObject({ previous: "2.0.0", regressed: false });
    expect(by.get("3.0.0")?.change).toBeCloseTo(0.05, 1);
    expect(by.get("4.0.0")).toMatchObject({ n: 10, change: null, regressed: false });
    // 5.0.0 is compared with 3.0.0, the latest release with enough values: +14.3 %.
    expect(by.get("5.0.0")).toMatchObject({ previous: "3.0.0", regressed: true });
    expect(by.get("5.0.0")?.change).toBeCloseTo(1500 / 1312.5 - 1, 1);
    // Another app's slower 5.0.0 never mixes in.
    near(by.get("5.0.0")?.p75, 1500);
  });

  it("answers 404 for a metric the app never sent, and for another app's metric", async () => {
    expect((await metricRequest(APP, "no_such_metric", "range=24h")).status).toBe(404);
    expect((await metricRequest(APP, "other_only", "range=24h")).status).toBe(404);
    // A span op is not a metric page of its own: its transaction's page shows it.
    expect((await metricRequest(APP, "db.query", "range=24h")).status).toBe(404);
  });

  it("applies the filters on a metric's page", async () => {
    const desktop = await metric("LCP", "range=24h&device=desktop");
    expect(desktop.summary?.n).toBe(10);
    near(desktop.summary?.p75, 2400);
    expect(desktop.pages.map((r) => r.value)).toEqual(["/home"]);
    const android = await metric("app_start_cold", "range=24h&release=5.0.0");
    expect(android.releases.map((r) => r.release)).toEqual(["5.0.0"]);
    expect(android.summary?.n).toBe(20);
  });

  it("answers 404 for a metric name longer than any the edge stores", async () => {
    expect((await metricRequest(APP, "x".repeat(600), "range=24h")).status).toBe(404);
  });

  it("shows a metric sent before the range as empty", async () => {
    const view = await metric("LCP", "range=1h");
    expect(view.summary).toBeNull();
    expect(view.series).toEqual([]);
    expect(view.releases).toEqual([]);
  });
});

describe("regressions", () => {
  const s = (release: string, firstSeen: number, n: number, p75: number, platform = "ios") => ({ platform, release, firstSeen, n, p75 });

  it("compares each release with the latest earlier one that has enough values, in first-seen order", () => {
    const out = compareReleases([s("b", 2, 30, 111), s("a", 1, 30, 100), s("c", 3, 5, 500), s("d", 4, 30, 121)]);
    expect(out.map((r) => [r.release, r.previous, r.regressed])).toEqual([
      ["a", null, false],
      // +11 %: over the threshold.
      ["b", "a", true],
      // Too few values: never flagged, never a baseline.
      ["c", "b", false],
      // +9 % over b, not over c.
      ["d", "b", false],
    ]);
  });

  it("compares releases of one platform only", () => {
    const out = compareReleases([s("ios-1", 1, 30, 100), s("web-1", 2, 30, 50, "web"), s("ios-2", 3, 30, 105), s("web-2", 4, 30, 80, "web")]);
    expect(out.map((r) => [r.platform, r.release, r.previous, r.regressed])).toEqual([
      ["ios", "ios-1", null, false],
      ["ios", "ios-2", "ios-1", false],
      ["web", "web-1", null, false],
      ["web", "web-2", "web-1", true],
    ]);
  });

  it("does not flag a change of exactly the threshold, nor one whose previous release has too few values", () => {
    expect(REGRESSION.threshold).toBe(0.1);
    expect(compareReleases([s("a", 1, 20, 100), s("b", 2, 20, 110)])[1]?.regressed).toBe(false);
    expect(compareReleases([s("a", 1, REGRESSION.minSamples - 1, 100), s("b", 2, 20, 200)])[1]).toMatchObject({ previous: null, regressed: false });
  });

  it("names the regressed metrics with their change on the releases page", async () => {
    const res = await run(() => releasesPage.loader({ request: browserRequest(`/apps/${APP}/releases?range=24h`, { session }), params: { app: APP }, context: h.context }));
    const body = await json<{ regressions: Record<string, Regression[]>; error: string | null }>(res);
    expect(body.error).toBeNull();
    expect(Object.keys(body.regressions).sort()).toEqual(["2.0.0", "5.0.0"]);
    expect(body.regressions["2.0.0"]?.map((r) => [r.metric, r.platform, r.previous])).toEqual([["app_start_cold", "android", "1.0.0"]]);
    expect(body.regressions["2.0.0"]?.[0]?.change).toBeCloseTo(0.25, 1);
    near(body.regressions["5.0.0"]?.[0]?.previousP75, 1312.5);
  });
});

describe("CSV", () => {
  const csv = async (query: string): Promise<string[]> => {
    const res = await run(() => perfCsv.loader({ request: browserRequest(`/apps/${APP}/performance.csv?${query}`, { session }), params: { app: APP }, context: h.context }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    return (await res.text()).trim().split("\r\n");
  };

  it("exports the metrics table", async () => {
    const lines = await csv("range=24h");
    expect(lines[0]).toBe("metric,kind,unit,values,p50,p75,p95,p99");
    expect(lines.slice(1).map((l) => l.split(",").slice(0, 4).join(","))).toEqual([
      "app_start_cold,app_start,ms,90",
      "screen_load,screen_load,ms,5",
      `${TXN},transaction,ms,5`,
      "checkout_render,custom,ms,5",
    ]);
    near(Number(lines[4]?.split(",")[5]), 40);
  });

  it("exports with the page's filters", async () => {
    const lines = await csv("range=24h&platform=android");
    expect(lines.slice(1).map((l) => l.split(",").slice(0, 4).join(","))).toEqual(["app_start_cold,app_start,ms,90"]);
  });

  it("exports a vital's breakdown by the chosen dimension", async () => {
    const lines = await csv("range=24h&dimension=page&vital=LCP");
    expect(lines[0]).toBe("vital,dimension,value,values,p75,good,needs_improvement,poor");
    expect(lines[1]).toMatch(/^LCP,page,\/home,10,[\d.]+,0\.900000,0\.100000,0\.000000$/);
    expect(lines[2]).toMatch(/^LCP,page,\/orders\/:id,10,[\d.]+,0\.000000,0\.500000,0\.500000$/);
  });
});
