// The real script-tag build in Debian's Chromium, sending to the local edge: page views (one
// by SPA navigation), an interaction, a crash, network calls, web vitals and a span tree must
// all land in ClickHouse, the perf and network ones in their rollups with the edge's templates;
// a landing's campaign and click id reach a conversion made after an SPA navigation; a flag
// changed through the admin API reaches an open page, whose exposures land in ClickHouse.
// Leaves a screenshot in test-results/sdk-e2e-page.png.
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { LOCAL_ADMIN_TOKEN } from "../../dev/local";
import { booleanFlag } from "../../schemas/flags";
import { launchChromium, type Chromium } from "../../test/chromium";
import { chQuery, waitForRows } from "./clickhouse";

const stack = inject("sdkStack");
const root = resolve(import.meta.dirname, "../..");
let server: Server;
let site = "";
let browser: BrowserContext;
let chrome: Chromium | undefined;

beforeAll(async () => {
  const fixture = (name: string): string => readFileSync(resolve(import.meta.dirname, "fixtures", name), "utf8").replace("__WRITE_KEY__", stack.writeKey).replace("__EDGE__", stack.edge);
  const html = fixture("page.html");
  const flagsHtml = fixture("flags.html");
  const script = readFileSync(resolve(root, "sdk/dist/telemetry.min.js"));
  server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/telemetry.min.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (path === "/api/items") res.writeHead(200, { "content-type": "application/json" }).end('{"items":[1,2,3]}');
    else if (path === "/api/orders/12345") res.writeHead(200, { "content-type": "application/json" }).end('{"id":12345,"total":30}');
    else if (path?.startsWith("/api/orders/")) res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no such order"}');
    else if (path === "/favicon.ico") res.writeHead(204).end();
    else if (path === "/flags") res.writeHead(200, { "content-type": "text/html" }).end(flagsHtml);
    else res.writeHead(200, { "content-type": "text/html" }).end(html);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  chrome = await launchChromium("sdk");
  browser = chrome.context;
});

afterAll(async () => {
  await chrome?.close();
  await new Promise<void>((done) => server?.close(() => done()));
});

interface Row {
  type: string;
  event: string;
  path: string;
  session_id: string;
  library_name: string;
  crash_type: string;
  crash_message: string;
  frames: number;
  perf_metric: string;
  perf_value: number;
  net_method: string;
  net_path: string;
  net_status: number;
  request_url: string;
  plan: string;
}

it("records page views, an interaction, a crash, a network call and web vitals from a real page", async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "warning" && m.text().includes("[telemetry]") && problems.push(m.text()));
  const edgeCalls: string[] = [];
  page.on("requestfinished", (req) => {
    if (!req.url().startsWith(stack.edge) || req.method() === "OPTIONS") return;
    void req.response().then((res) => edgeCalls.push(`${req.method()} ${new URL(req.url()).pathname} ${res?.status() ?? 0} ${req.headers()["content-encoding"] ?? "plain"}`));
  });
  await page.goto(`${site}/?utm_source=e2e`, { waitUntil: "load" });
  const anonymousId = await page.evaluate(() => (globalThis as unknown as { Telemetry: { ids(): { anonymousId: string } } }).Telemetry.ids().anonymousId);
  expect(anonymousId).toMatch(/^[0-9a-f-]{36}$/);

  await page.waitForTimeout(500);
  await page.click("#buy");
  await page.evaluate(async () => {
    await fetch("/api/items?token=secret-value&page=2");
  });
  await page.evaluate(() => {
    setTimeout(() => {
      throw new TypeError("e2e boom");
    }, 0);
  });
  await page.waitForTimeout(300);
  // What is queued so far goes by fetch (gzipped, across origins); the rest by beacon below.
  await page.evaluate(() => (globalThis as unknown as { Telemetry: { flush(): Promise<void> } }).Telemetry.flush());
  mkdirSync(resolve(root, "test-results"), { recursive: true });
  await page.screenshot({ path: resolve(root, "test-results/sdk-e2e-page.png") });
  // Leaving the page hides it: vitals are final and the queue goes out by sendBeacon.
  await page.goto("about:blank");
  await page.close();

  const rows = await waitForRows(
    () =>
      chQuery<Row>(
        stack.clickhouse,
        `SELECT type, event, path, session_id, library_name, crash_type, crash_message,
                toUInt32(length(JSONExtractArrayRaw(properties, 'error', 'frames'))) AS frames,
                perf_metric, perf_value, net_method, net_path, net_status,
                JSONExtractString(properties, 'request', 'url') AS request_url,
                JSONExtractString(properties, 'plan') AS plan
         FROM events WHERE app_id = {app:String} AND anonymous_id = {anon:String} ORDER BY timestamp`,
        { app: stack.appId, anon: anonymousId },
      ),
    (r) => ["LCP", "CLS", "INP", "TTFB", "FCP"].every((m) => r.some((e) => e.perf_metric === m)) && r.some((e) => e.type === "crash") && r.filter((e) => e.type === "page").length >= 2,
    40_000,
  );

  const pages = rows.filter((r) => r.type === "page").map((r) => r.path);
  expect(pages).toEqual(["/", "/pricing"]);
  expect(rows.find((r) => r.type === "track")).toMatchObject({ event: "Buy Clicked", plan: "pro" });
  const crash = rows.find((r) => r.type === "crash");
  expect(crash).toMatchObject({ crash_type: "TypeError", crash_message: "e2e boom" });
  expect(crash?.frames).toBeGreaterThan(0);
  const network = rows.find((r) => r.type === "network" && r.net_path === "/api/items");
  expect(network).toMatchObject({ net_method: "GET", net_status: 200 });
  expect(network?.request_url).toBe(`${site}/api/items`);
  // The SDK's own requests to the edge are never recorded.
  expect(rows.filter((r) => r.type === "network" && r.net_path.startsWith("/v1/"))).toEqual([]);
  for (const metric of ["LCP", "FCP", "TTFB", "INP", "app_start"]) expect(rows.find((r) => r.perf_metric === metric)?.perf_value, metric).toBeGreaterThan(0);
  expect(rows.filter((r) => r.perf_metric === "FCP")).toHaveLength(1);
  expect(rows.find((r) => r.perf_metric === "INP")?.perf_value).toBeGreaterThanOrEqual(100);
  expect(rows.find((r) => r.perf_metric === "CLS")?.perf_value).toBeGreaterThan(0);
  expect(new Set(rows.map((r) => r.session_id)).size).toBe(1);
  expect(new Set(rows.map((r) => r.library_name))).toEqual(new Set(["edge-telemetry-web"]));
  expect(problems).toEqual([]);
  expect(edgeCalls).toContain("GET /v1/config 200 plain");
  expect(edgeCalls).toContain("POST /v1/batch 200 gzip");
});

interface Telemetry {
  ids(): { anonymousId: string };
  flush(): Promise<void>;
  span<T>(name: string, fn: (span: { startChild(op: string, description?: string): { end(): void } }) => T, options?: { op?: string }): T;
}

it("records a span tree and network calls that land in the perf and network rollups under their templates", async () => {
  const page = await browser.newPage();
  // A page with an id in its path: the rollups group it under the page's template.
  await page.goto(`${site}/orders/4321`, { waitUntil: "load" });
  const anonymousId = await page.evaluate(() => (globalThis as unknown as { Telemetry: Telemetry }).Telemetry.ids().anonymousId);
  const txn = `checkout ${anonymousId.slice(0, 8)}`;
  await page.evaluate(async (name) => {
    const t = (globalThis as unknown as { Telemetry: Telemetry }).Telemetry;
    await t.span(
      name,
      async (s) => {
        const call = s.startChild("http.client", "GET /api/orders/:id");
        await Promise.all([fetch("/api/orders/12345"), fetch("/api/orders/67890")]);
        call.end();
        s.startChild("render", "OrderSummary").end();
        // Still running when the transaction ends: not sent.
        s.startChild("resource.script", "late.js");
      },
      { op: "ui.action" },
    );
    // Nothing listens on port 9: a call that gets no answer.
    await fetch("http://127.0.0.1:9/api/ping").catch(() => undefined);
    await t.flush();
  }, txn);
  await page.close();

  const perf = await waitForRows(
    () =>
      chQuery<{ metric: string; kind: string; txn: string; page: string; n: string }>(
        stack.clickhouse,
        `SELECT metric, kind, txn, page, sum(n) AS n FROM perf_hourly
         WHERE app_id = {app:String} AND (txn = {txn:String} OR (metric = {txn:String} AND kind = 'transaction'))
         GROUP BY metric, kind, txn, page ORDER BY kind DESC, metric`,
        { app: stack.appId, txn },
      ),
    (r) => r.length >= 3,
  );
  expect(perf).toEqual([
    { metric: txn, kind: "transaction", txn: "", page: "/orders/:id", n: "1" },
    { metric: "http.client", kind: "span", txn, page: "/orders/:id", n: "1" },
    { metric: "render", kind: "span", txn, page: "/orders/:id", n: "1" },
  ]);

  const host = new URL(site).host;
  const network = await waitForRows(
    () =>
      chQuery<{ host: string; method: string; template: string; status: number; outcome: string; n: string }>(
        stack.clickhouse,
        `SELECT host, method, template, status, outcome, sum(n) AS n FROM network_hourly
         WHERE app_id = {app:String} AND host IN ({host:String}, '127.0.0.1:9') AND template != '/api/items'
         GROUP BY host, method, template, status, outcome ORDER BY status`,
        { app: stack.appId, host },
      ),
    (r) => r.length >= 3,
  );
  expect(network).toEqual([
    { host: "127.0.0.1:9", method: "GET", template: "/api/ping", status: 0, outcome: "failed", n: "1" },
    { host, method: "GET", template: "/api/orders/:id", status: 200, outcome: "ok", n: "1" },
    { host, method: "GET", template: "/api/orders/:id", status: 404, outcome: "client_error", n: "1" },
  ]);
});

interface Touch {
  source?: string;
  medium?: string;
  name?: string;
  gclid?: string;
  at: number;
  referrer?: string;
}

it("carries a landing's campaign and click id to a conversion after an SPA navigation, and attribution() answers with the touch", async () => {
  const page = await browser.newPage();
  // A new visitor: the other tests' pages share this origin's localStorage, and its session.
  await page.addInitScript(() => (globalThis as unknown as { localStorage: { clear(): void } }).localStorage.clear());
  const before = Date.now();
  await page.goto(`${site}/?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&gclid=abc123`, { waitUntil: "load", referer: "http://mail.example.com/inbox" });
  const { anonymousId, attribution } = await page.evaluate(() => {
    const w = globalThis as unknown as {
      Telemetry: { track(event: string, properties?: Record<string, unknown>): void; ids(): { anonymousId: string }; attribution(): { first: Touch; last: Touch } | null };
      history: { pushState(state: unknown, title: string, url: string): void };
    };
    const t = w.Telemetry;
    w.history.pushState({}, "", "/checkout");
    t.track("Order Completed", { total: 30 });
    return { anonymousId: t.ids().anonymousId, attribution: t.attribution() };
  });
  const touch = { source: "newsletter", medium: "email", name: "black-friday", gclid: "abc123" };
  expect(attribution?.first).toMatchObject(touch);
  expect(attribution?.last).toEqual(attribution?.first);
  expect(attribution?.first.at).toBeGreaterThanOrEqual(before);
  expect(attribution?.first.at).toBeLessThanOrEqual(Date.now());
  expect(attribution?.first.referrer).toMatch(/^http:\/\/mail\.example\.com\//);
  // Leaving the page sends the queue by beacon, the navigation's page view included.
  await page.goto("about:blank");
  await page.close();

  const rows = await waitForRows(
    () =>
      chQuery<{ type: string; event: string; path: string; utm_source: string; utm_medium: string; utm_campaign: string; gclid: string }>(
        stack.clickhouse,
        `SELECT type, event, path, utm_source, utm_medium, utm_campaign, JSONExtractString(context, 'campaign', 'gclid') AS gclid
         FROM events WHERE app_id = {app:String} AND anonymous_id = {anon:String} AND type IN ('page', 'track') ORDER BY path, type`,
        { app: stack.appId, anon: anonymousId },
      ),
    (r) => r.some((e) => e.event === "Order Completed") && r.filter((e) => e.type === "page").length >= 2,
  );
  const campaign = { utm_source: "newsletter", utm_medium: "email", utm_campaign: "black-friday", gclid: "abc123" };
  expect(rows).toMatchObject([
    { type: "page", path: "/", ...campaign },
    { type: "page", path: "/checkout", ...campaign },
    { type: "track", event: "Order Completed", path: "/checkout", ...campaign },
  ]);
  expect(rows).toHaveLength(3);
});

interface FlagsPage {
  Telemetry: { isEnabled(key: string): boolean; getVariant(key: string): string | undefined; ids(): { anonymousId: string }; flush(): Promise<void> };
}

it("serves a flag changed through the admin API to an open page, and records its exposures", async () => {
  const admin = async (method: "POST" | "PUT", path: string, body: unknown): Promise<number> => {
    const res = await fetch(`${stack.edge}/admin/apps/${stack.appId}/flags${path}`, {
      method,
      headers: { authorization: `Bearer ${process.env.ADMIN_TOKEN ?? LOCAL_ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await res.text();
    return res.status;
  };
  const flag = booleanFlag("new-checkout", "New checkout");
  expect(await admin("POST", "", flag)).toBe(201);

  const page = await browser.newPage();
  await page.goto(`${site}/flags`, { waitUntil: "load" });
  await page.waitForFunction(() => (globalThis as unknown as FlagsPage).Telemetry.getVariant("new-checkout") === "off", undefined, { timeout: 30_000 });
  expect(await page.evaluate(() => (globalThis as unknown as FlagsPage).Telemetry.isEnabled("new-checkout"))).toBe(false);

  expect(await admin("PUT", "/new-checkout", { ...flag, fallthrough: { variant: "on" } })).toBe(200);
  const changedAt = Date.now();
  await page.waitForFunction(() => (globalThis as unknown as FlagsPage).Telemetry.isEnabled("new-checkout"), undefined, { timeout: 60_000, polling: 100 });
  console.log(`flag change seen by the page after ${((Date.now() - changedAt) / 1000).toFixed(1)} s (the local stack's edge recheck FLAGS_RECHECK_MS 1 s, 5 s deployed; page refresh 1 s)`);
  expect(await page.textContent("#checkout")).toBe("checkout: on");

  const anonymousId = await page.evaluate(async () => {
    const t = (globalThis as unknown as FlagsPage).Telemetry;
    await t.flush();
    return t.ids().anonymousId;
  });
  await page.close();

  // One exposure for each variant the page read in the session.
  const rows = await waitForRows(
    () =>
      chQuery<{ flag: string; response: string; value: string }>(
        stack.clickhouse,
        `SELECT JSONExtractString(properties, '$feature_flag') AS flag, JSONExtractString(properties, '$feature_flag_response') AS response,
                JSONExtractRaw(properties, '$feature_flag_value') AS value
         FROM events WHERE app_id = {app:String} AND anonymous_id = {anon:String} AND event = '$feature_flag_called' ORDER BY timestamp`,
        { app: stack.appId, anon: anonymousId },
      ),
    (r) => r.length >= 2,
  );
  expect(rows).toEqual([
    { flag: "new-checkout", response: "off", value: "false" },
    { flag: "new-checkout", response: "on", value: "true" },
  ]);
});
