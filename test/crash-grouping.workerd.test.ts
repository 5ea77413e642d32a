// Crashes grouped into issues through the real Worker, on fixtures worked out by hand: crashes
// as our SDK captures them in Chrome, Firefox, Safari, Node and React Native (Hermes), and as
// @sentry/browser and @sentry/node send them. Then grouping rules added in D1, which only new
// crashes follow, and source maps uploaded through the admin API, which new crashes are mapped
// and grouped by.
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { crashInfo, defaultInApp } from "../sdk/core/stack";
import { clearWriteKeyCache } from "../workers/apps/auth";
import sourceMapCrashes from "./fixtures/sourcemap-crashes.json";
import { chQuery, createTestApp, post, type TestApp } from "./seed";

type Json = Record<string, unknown>;

/** A crash our SDK sends: `thrown` as its platform would see it, parsed by the SDK's own stack parser. */
function sdkCrash(id: string, thrown: { name: string; message: string; stack?: string } | string, ctx: Json, inApp?: (file: string) => boolean): Json {
  const error = crashInfo(typeof thrown === "string" ? thrown : { ...thrown, stack: thrown.stack ? `${thrown.name}: ${thrown.message}\n${thrown.stack}` : undefined }, { fatal: false, handled: false }, inApp);
  return { type: "crash", messageId: id, anonymousId: "anon-1", context: ctx, error };
}

const web = (origin: string, release = "1.4.0"): Json => ({
  library: { name: "edge-telemetry-web", version: "0.1.0" },
  app: { version: release },
  page: { url: `${origin}/cart`, path: "/cart" },
});
const fromOrigin = (origin: string) => (file: string) => file.startsWith(origin);
const node: Json = { library: { name: "edge-telemetry-node", version: "0.1.0" }, app: { version: "3.2.0" }, os: { name: "Linux" } };
const reactNative: Json = { library: { name: "edge-telemetry-react-native", version: "0.1.0" }, app: { version: "2.0.1" }, os: { name: "android", version: "14" } };

function sendSdk(app: TestApp, events: Json[]): Promise<Response> {
  return post("/v1/batch", { batch: events }, { "x-write-key": app.key });
}

function sendSentry(app: TestApp, sdk: string, event: Json): Promise<Response> {
  const body = [JSON.stringify({ event_id: event.event_id, sent_at: new Date().toISOString(), sdk: { name: sdk, version: "11.12.0" } }), JSON.stringify({ type: "event" }), JSON.stringify(event)].join("\n");
  return SELF.fetch(`https://edge.test/api/1/envelope/?sentry_key=${app.key}&sentry_version=7`, { method: "POST", body });
}

const sentryId = (label: string): string => (label + "0".repeat(32)).replace(/[^0-9a-f]/g, "0").slice(0, 32);

/** @sentry/browser's event for an uncaught error; frames oldest first, as Sentry lists them. */
function sentryBrowserError(id: string, type: string, value: string, frames: Json[]): Json {
  return {
    event_id: id,
    timestamp: Date.now() / 1000,
    platform: "javascript",
    level: "error",
    release: "1.4.0",
    environment: "production",
    request: { url: "https://shop.example/cart", headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36" } },
    exception: { values: [{ type, value, stacktrace: { frames }, mechanism: { type: "onerror", handled: false } }] },
  };
}

/** @sentry/node's event for a captured exception. */
function sentryNodeError(id: string, type: string, value: string, frames: Json[]): Json {
  return {
    event_id: id,
    timestamp: Date.now() / 1000,
    platform: "node",
    level: "error",
    release: "3.2.0",
    environment: "production",
    server_name: "shop-api-2",
    contexts: { os: { name: "Linux" }, runtime: { name: "node", version: "v20.19.0" } },
    exception: { values: [{ type, value, stacktrace: { frames }, mechanism: { type: "generic", handled: true } }] },
  };
}

/** Sentry's `captureMessage`: no exception, no stack. */
function sentryMessage(id: string, message: string): Json {
  return { event_id: id, timestamp: Date.now() / 1000, platform: "node", level: "warning", release: "3.2.0", message };
}

interface CrashRow {
  message_id: string;
  crash_fingerprint: string;
  properties: string;
}

/** Flushes the app's buffer and waits until it has `n` crash rows in ClickHouse. */
async function crashRows(app: TestApp, n: number): Promise<CrashRow[]> {
  const stub = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:0`));
  const query = () =>
    chQuery<CrashRow>("SELECT message_id, crash_fingerprint, properties FROM events WHERE app_id = {app:String} AND type = 'crash' ORDER BY message_id", { app: app.appId });
  await vi.waitUntil(
    async () => {
      await runDurableObjectAlarm(stub);
      return (await query()).length >= n;
    },
    { timeout: 30_000, interval: 300 },
  );
  return query();
}

/** The issues the rows make, each as the sorted message ids of its events, in a stable order. */
function issuesOf(rows: readonly CrashRow[], ids?: ReadonlySet<string>): string[][] {
  const byFingerprint = new Map<string, string[]>();
  for (const r of rows) {
    if (ids && !ids.has(r.message_id)) continue;
    byFingerprint.set(r.crash_fingerprint, [...(byFingerprint.get(r.crash_fingerprint) ?? []), r.message_id]);
  }
  return [...byFingerprint.values()].map((m) => m.sort()).sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

const fingerprintOf = (rows: readonly CrashRow[], id: string): string | undefined => rows.find((r) => r.message_id === id)?.crash_fingerprint;

interface StoredError {
  rule?: string;
  frames: Array<{ function?: string; file?: string; line?: number; column?: number; inApp?: boolean; minified?: { function?: string; file?: string; line?: number; column?: number } }>;
}
const errorOf = (rows: readonly CrashRow[], id: string): StoredError => (JSON.parse(rows.find((r) => r.message_id === id)?.properties ?? "{}") as { error: StoredError }).error;

// The checkout bug (reading `price` of a missing cart line), as each browser reports it.
const CHROME_CHECKOUT = {
  name: "TypeError",
  message: "Cannot read properties of undefined (reading 'price')",
  stack:
    "    at lineTotal (https://shop.example/assets/app.3f9a2b1c.js:1:2040)\n    at Array.map (<anonymous>)\n    at renderCart (https://shop.example/assets/app.3f9a2b1c.js:1:3100)\n    at HTMLButtonElement.<anonymous> (https://shop.example/assets/app.3f9a2b1c.js:1:4800)",
};

describe("crash grouping", () => {
  it("groups crashes from our SDK and the Sentry SDKs into issues, then by rules for new crashes only, then by source-mapped frames", async () => {
    const app = await createTestApp();

    // 1. Checkout bug: Chrome on two builds and hosts, Firefox, Safari, and @sentry/browser → one
    //    issue of 5, though each engine names the click handler differently.
    // 2. A coupon RangeError in the same file → its own issue.
    // 3. Negative stock in Node: our SDK twice (lines moved by a deploy) and @sentry/node → one issue of 3.
    // 4. A React Native (Hermes) press handler, two builds → one issue of 2.
    // 5./6. Message-only errors: "payment # declined" twice → one issue; "payment service unavailable" → another.
    // 7. Sentry messages "Checkout took # ms" twice → one issue.
    const first: Record<string, string[]> = {
      checkout: ["a-chrome-1", "a-chrome-2", "a-firefox", "a-safari", sentryId("a5")],
      coupon: ["b-chrome"],
      stock: ["c-node-1", "c-node-2", sentryId("c3")],
      press: ["d-hermes-1", "d-hermes-2"],
      declined: ["e-node-1", "e-node-2"],
      unavailable: ["f-node"],
      slow: [sentryId("f1"), sentryId("f2")],
    };
    expect(
      (
        await sendSdk(app, [
          sdkCrash("a-chrome-1", CHROME_CHECKOUT, web("https://shop.example"), fromOrigin("https://shop.example")),
          sdkCrash(
            "a-chrome-2",
            {
              ...CHROME_CHECKOUT,
              stack:
                "    at lineTotal (https://www.shop.example/assets/app.77aa00ff.js:1:2188)\n    at Array.map (<anonymous>)\n    at renderCart (https://www.shop.example/assets/app.77aa00ff.js:1:3291)\n    at HTMLButtonElement.<anonymous> (https://www.shop.example/assets/app.77aa00ff.js:1:4990)",
            },
            web("https://www.shop.example", "1.4.1"),
            fromOrigin("https://www.shop.example"),
          ),
          sdkCrash(
            "a-firefox",
            { name: "TypeError", message: "can't access property \"price\", line is undefined", stack: "lineTotal@https://shop.example/assets/app.3f9a2b1c.js:1:2045\nrenderCart@https://shop.example/assets/app.3f9a2b1c.js:1:3100\nsetupCart/<@https://shop.example/assets/app.3f9a2b1c.js:1:4800" },
            web("https://shop.example"),
            fromOrigin("https://shop.example"),
          ),
          sdkCrash(
            "a-safari",
            { name: "TypeError", message: "undefined is not an object (evaluating 'line.price')", stack: "lineTotal@https://shop.example/assets/app.3f9a2b1c.js:1:2051\nmap@[native code]\nrenderCart@https://shop.example/assets/app.3f9a2b1c.js:1:3100\n@https://shop.example/assets/app.3f9a2b1c.js:1:4800" },
            web("https://shop.example"),
            fromOrigin("https://shop.example"),
          ),
          sdkCrash(
            "b-chrome",
            { name: "RangeError", message: "coupon codes are 6 to 12 characters", stack: "    at applyCoupon (https://shop.example/assets/app.3f9a2b1c.js:1:5120)\n    at renderCart (https://shop.example/assets/app.3f9a2b1c.js:1:3300)" },
            web("https://shop.example"),
            fromOrigin("https://shop.example"),
          ),
        ])
      ).status,
    ).toBe(200);
    const stock = (line: number) =>
      `    at reserveStock (/srv/shop/inventory.js:${line}:11)\n    at placeOrder (/srv/shop/orders.js:88:20)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`;
    expect(
      (
        await sendSdk(app, [
          sdkCrash("c-node-1", { name: "Error", message: "stock for sku 4411 is negative", stack: stock(41) }, node, defaultInApp),
          sdkCrash("c-node-2", { name: "Error", message: "stock for sku 97 is negative", stack: stock(44) }, node, defaultInApp),
          sdkCrash("d-hermes-1", { name: "TypeError", message: "undefined is not a function", stack: "    at onPress (address at index.android.bundle:1:345678)\n    at anonymous (address at index.android.bundle:1:120044)" }, reactNative),
          sdkCrash("d-hermes-2", { name: "TypeError", message: "undefined is not a function", stack: "    at onPress (address at index.android.bundle:1:351002)\n    at anonymous (address at index.android.bundle:1:120311)" }, reactNative),
          sdkCrash("e-node-1", "payment 4411 declined", node),
          sdkCrash("e-node-2", "payment 9023 declined", node),
          sdkCrash("f-node", "payment service unavailable", node),
        ])
      ).status,
    ).toBe(200);
    const browserFrames = [
      { filename: "https://shop.example/assets/app.3f9a2b1c.js", function: "HTMLButtonElement.<anonymous>", lineno: 1, colno: 4800, in_app: true },
      { filename: "https://shop.example/assets/app.3f9a2b1c.js", function: "renderCart", lineno: 1, colno: 3100, in_app: true },
      { filename: "https://shop.example/assets/app.3f9a2b1c.js", function: "lineTotal", lineno: 1, colno: 2040, in_app: true },
    ];
    const nodeFrames = (line: number) => [
      { filename: "node:internal/process/task_queues", module: "task_queues", function: "process.processTicksAndRejections", lineno: 95, colno: 5, in_app: false },
      { filename: "/srv/shop/orders.js", module: "orders", function: "placeOrder", lineno: 88, colno: 20, in_app: true },
      { filename: "/srv/shop/inventory.js", module: "inventory", function: "reserveStock", lineno: line, colno: 11, in_app: true },
    ];
    for (const [sdk, event] of [
      ["sentry.javascript.browser", sentryBrowserError(sentryId("a5"), "TypeError", "Cannot read properties of undefined (reading 'price')", browserFrames)],
      ["sentry.javascript.node", sentryNodeError(sentryId("c3"), "Error", "stock for sku 12 is negative", nodeFrames(41))],
      ["sentry.javascript.node", sentryMessage(sentryId("f1"), "Checkout took 12034 ms")],
      ["sentry.javascript.node", sentryMessage(sentryId("f2"), "Checkout took 9150 ms")],
    ] as const) {
      expect((await sendSentry(app, sdk, event)).status).toBe(200);
    }

    const before = await crashRows(app, 16);
    expect(before).toHaveLength(16);
    expect(issuesOf(before)).toEqual(Object.values(first).map((ids) => [...ids].sort()).sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? "")));
    expect(issuesOf(before).map((ids) => ids.length).sort()).toEqual([1, 1, 2, 2, 2, 3, 5]);
    expect(errorOf(before, "c-node-1").rule).toBeUndefined();

    // Rules: chunk load failures merge into one issue whatever their stack; stock errors split by message.
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO crash_rules (id, app_id, position, action, match_type, match_message, match_module, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(
        "rule-chunks",
        app.appId,
        1,
        "merge",
        "ChunkLoadError",
        "loading chunk * failed*",
        null,
        "Chunk loading",
        now,
      ),
      env.DB.prepare("INSERT INTO crash_rules (id, app_id, position, action, match_type, match_message, match_module, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(
        "rule-stock",
        app.appId,
        2,
        "split",
        null,
        null,
        "*inventory*",
        "",
        now,
      ),
    ]);
    // The edge sees rule changes when its cached copy of the app expires (30 s); this test does not wait.
    clearWriteKeyCache();

    // Two chunk failures from different code → one issue of the rule; a CSS chunk failure the glob
    // does not match → the default grouping. Stock: "sku # is negative" from our SDK and Sentry →
    // one new issue; "stock service timed out" → another; neither joins the old stock issue. A
    // checkout crash no rule matches → still the checkout issue.
    const second: Record<string, string[]> = {
      chunks: ["g-chunk-1", "g-chunk-2"],
      css: ["g-css"],
      negative: ["h-node-1", sentryId("b2")],
      timeout: ["h-node-3"],
    };
    expect(
      (
        await sendSdk(app, [
          sdkCrash("g-chunk-1", { name: "ChunkLoadError", message: "Loading chunk 7 failed.\n(error: https://shop.example/assets/7.js)", stack: "    at requireEnsure (https://shop.example/assets/runtime.1a2b3c4d.js:1:900)" }, web("https://shop.example"), fromOrigin("https://shop.example")),
          sdkCrash("g-chunk-2", { name: "ChunkLoadError", message: "Loading chunk checkout failed.", stack: "    at loadComponent (https://shop.example/assets/app.3f9a2b1c.js:1:7000)" }, web("https://shop.example"), fromOrigin("https://shop.example")),
          sdkCrash("g-css", { name: "ChunkLoadError", message: "Loading CSS chunk 3 failed.", stack: "    at loadStyles (https://shop.example/assets/runtime.1a2b3c4d.js:1:1400)" }, web("https://shop.example"), fromOrigin("https://shop.example")),
          sdkCrash("h-node-1", { name: "Error", message: "stock for sku 4411 is negative", stack: stock(41) }, node, defaultInApp),
          sdkCrash("h-node-3", { name: "Error", message: "stock service timed out", stack: stock(41) }, node, defaultInApp),
          sdkCrash("a-chrome-3", CHROME_CHECKOUT, web("https://shop.example"), fromOrigin("https://shop.example")),
        ])
      ).status,
    ).toBe(200);
    expect((await sendSentry(app, "sentry.javascript.node", sentryNodeError(sentryId("b2"), "Error", "stock for sku 77 is negative", nodeFrames(44)))).status).toBe(200);

    const after = await crashRows(app, 23);
    expect(after).toHaveLength(23);
    const secondIds = new Set(Object.values(second).flat());
    expect(issuesOf(after, secondIds)).toEqual(Object.values(second).map((ids) => [...ids].sort()).sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? "")));
    // Earlier rows keep their fingerprints; new crashes never join an issue a rule took them out of.
    for (const r of before) expect(fingerprintOf(after, r.message_id)).toBe(r.crash_fingerprint);
    const oldStock = fingerprintOf(before, "c-node-1");
    expect([fingerprintOf(after, "h-node-1"), fingerprintOf(after, "h-node-3")]).not.toContain(oldStock);
    expect(fingerprintOf(after, "a-chrome-3")).toBe(fingerprintOf(before, "a-chrome-1"));
    expect(issuesOf(after).length).toBe(7 + 4);
    // The stored crash says which rule grouped it.
    expect([errorOf(after, "g-chunk-1").rule, errorOf(after, "h-node-1").rule, errorOf(after, sentryId("b2")).rule, errorOf(after, "g-css").rule]).toEqual([
      "rule-chunks",
      "rule-stock",
      "rule-stock",
      undefined,
    ]);

    // Source maps: two builds of the same checkout module, each map uploaded for its release.
    const [buildA, buildB] = sourceMapCrashes.builds;
    if (!buildA || !buildB) throw new Error("the source-map fixture holds two builds");
    for (const [release, build] of [["5.0.0", buildA], ["5.0.1", buildB]] as const) {
      const res = await SELF.fetch(`https://edge.test/admin/apps/${app.appId}/releases/${release}/sourcemaps/${build.file}`, {
        method: "PUT",
        headers: { authorization: "Bearer test-admin-token" },
        body: build.map,
      });
      expect(res.status).toBe(201);
    }
    const thrown = (stack: string) => ({ name: "RangeError", message: "discount XMAS is not valid for 25.00", stack: stack.split("\n").slice(1).join("\n") });
    expect(
      (
        await sendSdk(app, [
          sdkCrash("m-build-a", thrown(buildA.stack), web("https://shop.example", "5.0.0")),
          sdkCrash("m-build-b", thrown(buildB.stack), web("https://shop.example", "5.0.1")),
          // Build A's crash reported under a release with no maps stays minified.
          sdkCrash("m-unmapped", thrown(buildA.stack), web("https://shop.example", "4.9.9")),
        ])
      ).status,
    ).toBe(200);
    const mapped = await crashRows(app, 26);
    const a = errorOf(mapped, "m-build-a");
    const { lines } = sourceMapCrashes;
    expect(a.frames.map((f) => [f.function, f.file, f.line])).toEqual([
      ["applyDiscount", "src/checkout.ts", lines.throw],
      ["checkout", "src/checkout.ts", lines.checkoutCall],
      // Called from outside the bundle: the map has no name for it, the minified one stays.
      ["Object.h", "src/checkout.ts", lines.placeOrderCall],
    ]);
    expect(a.frames[0]?.minified).toEqual({ function: "c", file: "https://cdn.example/assets/app.3f2a1b9c.js", line: 1, column: 645 });
    expect(errorOf(mapped, "m-build-b").frames.slice(0, 2).map((f) => f.function)).toEqual(["applyDiscount", "checkout"]);
    expect(fingerprintOf(mapped, "m-build-b")).toBe(fingerprintOf(mapped, "m-build-a"));
    expect(errorOf(mapped, "m-unmapped").frames[0]).toMatchObject({ function: "c", file: "https://cdn.example/assets/app.3f2a1b9c.js" });
    expect(fingerprintOf(mapped, "m-unmapped")).not.toBe(fingerprintOf(mapped, "m-build-a"));
  });
});
