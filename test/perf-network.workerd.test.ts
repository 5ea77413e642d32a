// Perf and network events end to end inside workerd: our wire format through the Worker, the
// AppBatcher and the queue consumer into the local ClickHouse, then the columns as stored and
// the perf_hourly and network_hourly rollups the views read. Each test has its own app.
import { SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { QUANTILE_ACCURACY } from "../schemas";
import { clearWriteKeyCache } from "../workers/http/write-key";
import { chQuery, createTestApp, post } from "./seed";

const CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const EMAIL = "jane.doe@example.com";
const TOKEN = "a1b2c3d4e5f6g7h8i9";

// The nearest-rank percentile, rank ⌈p·n⌉ of the sorted values: what a rollup percentile approximates.
function exactQuantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1] ?? Number.NaN;
}

function expectClose(got: number, want: number): void {
  expect(Math.abs(got - want) / want).toBeLessThanOrEqual(QUANTILE_ACCURACY);
}

async function send(key: string, batch: unknown[]): Promise<void> {
  const res = await post("/v1/batch", { batch }, { "x-write-key": key, "cf-connecting-ip": "203.0.113.77", "user-agent": CHROME_MAC });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ accepted: batch.length, rejected: [] });
}

// An insert's rows may show in events before its rollup rows: wait for both.
async function waitForEvents(appId: string, n: number, rollup: "perf_hourly" | "network_hourly"): Promise<void> {
  await vi.waitUntil(
    async () => {
      const [row] = await chQuery<{ events: string; rolled: string }>(
        `SELECT (SELECT count() FROM events WHERE app_id = {app:String}) AS events, (SELECT sum(n) FROM ${rollup} WHERE app_id = {app:String}) AS rolled`,
        { app: appId },
      );
      return Number(row?.events ?? 0) >= n && Number(row?.rolled ?? 0) >= n;
    },
    { timeout: 25_000, interval: 250 },
  );
}

let seq = 0;
const page = (path: string) => ({ page: { path, url: `https://shop.example${path}?mail=${encodeURIComponent(EMAIL)}` }, userAgent: CHROME_MAC });
const vital = (name: string, value: number, path: string, unit = "ms") => ({ type: "perf", anonymousId: "anon-1", messageId: `v-${++seq}`, metric: { name, value, unit }, context: page(path) });
const call = (method: string, url: string, request: Record<string, unknown> = {}) => ({
  type: "network",
  anonymousId: "anon-1",
  messageId: `n-${++seq}`,
  request: { method, url, ...request },
  context: page("/checkout/9912"),
});

describe("perf events", () => {
  it("land in perf_hourly by metric and templated page with the vitals' bands and percentiles", async () => {
    const app = await createTestApp();
    const lcp = [1200, 1500, 1800, 2100, 2400, 2500, 2600, 3000, 3500, 4000, 4100, 5000];
    const cls = [0.01, 0.05, 0.1, 0.2, 0.3];
    const batch = [
      ...lcp.map((v, i) => vital("LCP", v, `/products/${88100 + i}`)),
      ...cls.map((v) => vital("CLS", v, "/products/88123", "score")),
      // A React Native app start: no page, the current screen instead.
      { type: "perf", anonymousId: "anon-2", messageId: "rn-1", metric: { name: "app_start_cold", value: 1450 }, properties: { screen: "Home" }, context: { library: { name: "telemetry-react-native" }, os: { name: "iOS" }, userAgent: "okhttp/4.12.0" } },
    ];
    await send(app.key, batch);
    await waitForEvents(app.appId, batch.length, "perf_hourly");

    const stored = await chQuery<{ path: string; path_template: string }>(
      "SELECT DISTINCT path, path_template FROM events WHERE app_id = {app:String} AND perf_metric = 'LCP' ORDER BY path LIMIT 3",
      { app: app.appId },
    );
    expect(stored).toEqual([
      { path: "/products/88100", path_template: "/products/:id" },
      { path: "/products/88101", path_template: "/products/:id" },
      { path: "/products/88102", path_template: "/products/:id" },
    ]);

    const rows = await chQuery<{ metric: string; page: string; device_class: string; browser: string; n: string; good: string; poor: string; p75: number }>(
      `SELECT metric, page, device_class, browser, sum(n) AS n, sum(good) AS good, sum(poor) AS poor,
              quantilesBFloat16Merge(0.5, 0.75, 0.95, 0.99)(q)[2] AS p75
       FROM perf_hourly WHERE app_id = {app:String}
       GROUP BY metric, page, device_class, browser ORDER BY metric`,
      { app: app.appId },
    );
    expect(rows.map((r) => [r.metric, r.page, r.device_class, Number(r.n), Number(r.good), Number(r.poor)])).toEqual([
      ["CLS", "/products/:id", "desktop", 5, 3, 1],
      ["LCP", "/products/:id", "desktop", 12, 6, 2],
      ["app_start_cold", "Home", "mobile", 1, 0, 0],
    ]);
    expect(rows[1]?.browser).toBe("Chrome");
    // Hand-worked: LCP sorted, rank ⌈0.75·12⌉ = 9 → 3500; CLS rank ⌈0.75·5⌉ = 4 → 0.2.
    expect(exactQuantile(lcp, 0.75)).toBe(3500);
    expect(exactQuantile(cls, 0.75)).toBe(0.2);
    expectClose(rows[1]?.p75 ?? 0, 3500);
    expectClose(rows[0]?.p75 ?? 0, 0.2);
    expectClose(rows[2]?.p75 ?? 0, 1450);
  });
});

describe("network events", () => {
  it("are stored templated beside their redacted URL, with outcome and sizes, and roll up per endpoint", async () => {
    const app = await createTestApp();
    const batch = [
      call("GET", `https://api.example.com/v1/users/8812/orders?email=${encodeURIComponent(EMAIL)}&auth_token=${TOKEN}`, { status: 200, duration: 100, responseBytes: 2000 }),
      call("GET", "https://api.example.com/v1/users/9913/orders?page=2", { status: 200, duration: 200, responseBytes: 3000 }),
      call("GET", "https://api.example.com/v1/users/10014/orders", { status: 200, duration: 300, responseBytes: 1000 }),
      call("GET", "https://api.example.com/v1/files/3f2504e0-4f89-11d3-9a0c-0305e82c3301/download", { status: 404, duration: 50 }),
      call("POST", "https://api.example.com/v1/builds/9fceb02d0ae598e95dc970b74767f19372d61af8", { status: 503, duration: 800, requestBytes: 512 }),
      call("POST", "https://api.example.com/v1/builds/5d41402abc4b2a76b9719d911017c592", { status: 500, duration: 700, requestBytes: 256 }),
      call("GET", `https://api.example.com/v1/search?q=${EMAIL}`, { duration: 10_000, error: "The operation timed out" }),
      call("GET", "https://api.example.com/v1/search?q=shoes#secret-fragment", { duration: 5, error: "TypeError: Failed to fetch" }),
      call("GET", "https://cdn.example.com/static/js/main.3f9a2b1c.chunk.js", { status: 200, duration: 40, responseBytes: 90_000 }),
    ];
    await send(app.key, batch);
    await waitForEvents(app.appId, batch.length, "network_hourly");

    const stored = await chQuery<Record<string, unknown>>("SELECT * FROM events WHERE app_id = {app:String} ORDER BY message_id", { app: app.appId });
    const text = JSON.stringify(stored);
    for (const secret of [EMAIL, encodeURIComponent(EMAIL), TOKEN, "secret-fragment"]) expect(text).not.toContain(secret);
    const first = stored.find((r) => r.net_path === "/v1/users/8812/orders");
    expect(first).toMatchObject({ net_host: "api.example.com", net_template: "/v1/users/:id/orders", net_outcome: "ok", net_status: 200, net_response_bytes: "2000", path: "/checkout/9912", path_template: "/checkout/:id" });
    expect(JSON.parse(String(first?.properties))).toMatchObject({ request: { url: "https://api.example.com/v1/users/8812/orders?email=[email]&auth_token=[redacted]" } });
    expect(stored.map((r) => [r.net_template, r.net_outcome])).toEqual(
      expect.arrayContaining([
        ["/v1/files/:uuid/download", "client_error"],
        ["/v1/builds/:hash", "server_error"],
        ["/v1/search", "timeout"],
        ["/v1/search", "failed"],
        ["/static/js/main.:hash.chunk.js", "ok"],
      ]),
    );

    const rolled = await chQuery<{ host: string; method: string; template: string; status: number; outcome: string; n: string; req: string; resp: string; p50: number }>(
      `SELECT host, method, template, status, outcome, sum(n) AS n, sum(req_bytes) AS req, sum(resp_bytes) AS resp,
              quantilesBFloat16Merge(0.5, 0.95, 0.99)(q)[1] AS p50
       FROM network_hourly WHERE app_id = {app:String}
       GROUP BY host, method, template, status, outcome ORDER BY host, template, status, outcome`,
      { app: app.appId },
    );
    expect(rolled.map((r) => [r.host, r.method, r.template, r.status, r.outcome, Number(r.n), Number(r.req), Number(r.resp)])).toEqual([
      ["api.example.com", "POST", "/v1/builds/:hash", 500, "server_error", 1, 256, 0],
      ["api.example.com", "POST", "/v1/builds/:hash", 503, "server_error", 1, 512, 0],
      ["api.example.com", "GET", "/v1/files/:uuid/download", 404, "client_error", 1, 0, 0],
      ["api.example.com", "GET", "/v1/search", 0, "failed", 1, 0, 0],
      ["api.example.com", "GET", "/v1/search", 0, "timeout", 1, 0, 0],
      ["api.example.com", "GET", "/v1/users/:id/orders", 200, "ok", 3, 0, 6000],
      ["cdn.example.com", "GET", "/static/js/main.:hash.chunk.js", 200, "ok", 1, 0, 90_000],
    ]);
    // Hand-worked: the three order calls took 100, 200 and 300 ms; rank ⌈0.5·3⌉ = 2 → 200.
    expectClose(rolled.find((r) => r.template === "/v1/users/:id/orders")?.p50 ?? 0, 200);
  });

  it("group by the app's own template once it is set through the admin API, from the next calls on", async () => {
    const app = await createTestApp();
    await send(app.key, [call("GET", "https://api.example.com/v1/users/8812/orders/55", { status: 200, duration: 10 })]);
    await waitForEvents(app.appId, 1, "network_hourly");

    const put = await SELF.fetch(`https://edge.test/admin/apps/${app.appId}/url-templates`, {
      method: "PUT",
      headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ templates: ["/v1/users/:user/**", "/v1/teams/*/members"] }),
    });
    expect(put.status).toBe(200);
    // The edge reads settings at most a minute old; a test need not wait for that.
    clearWriteKeyCache();
    await send(app.key, [
      call("GET", "https://api.example.com/v1/users/9913/orders/56", { status: 200, duration: 10 }),
      call("GET", "https://api.example.com/v1/teams/12345/members", { status: 200, duration: 10 }),
    ]);
    await waitForEvents(app.appId, 3, "network_hourly");

    const rolled = await chQuery<{ template: string; n: string }>(
      "SELECT template, sum(n) AS n FROM network_hourly WHERE app_id = {app:String} GROUP BY template ORDER BY template",
      { app: app.appId },
    );
    expect(rolled.map((r) => [r.template, Number(r.n)])).toEqual([
      ["/v1/teams/12345/members", 1],
      ["/v1/users/:id/orders/:id", 1],
      ["/v1/users/:user/**", 1],
    ]);
  });
});
