// PostHog's own libraries, as published, against the local edge: posthog-node with `host` set to
// the edge, and posthog-js in Debian's Chromium with `api_host` set to it (surveys, recordings,
// the toolbar and other lazily loaded extras off, so no request leaves the machine). Every call
// each library makes must answer 2xx, and every event must land in ClickHouse with its type and
// fields, the project key being one of our write keys.
import { randomUUID } from "node:crypto";
import { PostHog } from "posthog-node";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { LOCAL_ADMIN_TOKEN } from "../../dev/local";
import { chQuery, waitForRows } from "../../sdk/e2e/clickhouse";
import { launchChromium, type Chromium } from "../chromium";
import { servePage, type TestPage } from "./page";

const stack = inject("sdkStack");

interface Row {
  type: string;
  event: string;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  path: string;
  url: string;
  library_name: string;
  os_name: string;
  crash_type: string;
  crash_message: string;
  crash_fatal: number;
  frames: number;
  plan: string;
  total: string;
  group_id: string;
  previous_id: string;
}

const rowsOf = (ids: string[]) => () =>
  chQuery<Row>(
    stack.clickhouse,
    `SELECT type, event, user_id, anonymous_id, session_id, path, url, library_name, os_name, crash_type, crash_message, crash_fatal,
            toUInt32(length(JSONExtractArrayRaw(properties, 'error', 'frames'))) AS frames,
            JSONExtractString(traits, 'plan') AS plan, JSONExtractRaw(properties, 'total') AS total,
            JSONExtractString(properties, 'groupId') AS group_id, JSONExtractString(properties, 'previousId') AS previous_id
     FROM events WHERE app_id = {app:String} AND (user_id IN {ids:Array(String)} OR anonymous_id IN {ids:Array(String)}) ORDER BY timestamp`,
    { app: stack.appId, ids: `[${ids.map((id) => `'${id}'`).join(",")}]` },
  );

function byType(rows: Row[], type: string, event?: string): Row {
  const row = rows.find((r) => r.type === type && (event === undefined || r.event === event));
  if (!row) throw new Error(`no ${type} ${event ?? ""} row in ${JSON.stringify(rows, null, 1)}`);
  return row;
}

it("posthog-node: capture, identify, alias, group and captureException land in ClickHouse", async () => {
  const user = `node-${randomUUID()}`;
  const statuses: string[] = [];
  const client = new PostHog(stack.writeKey, {
    host: stack.edge,
    flushAt: 3,
    flushInterval: 0,
    fetch: async (url, options) => {
      const res = await fetch(url, options as RequestInit);
      statuses.push(`${options.method} ${new URL(url).pathname} ${res.status}`);
      return res;
    },
  });
  client.capture({ distinctId: user, event: "order completed", properties: { total: 30, $os: "Linux" } });
  client.identify({ distinctId: user, properties: { $set: { plan: "pro" } } });
  client.alias({ distinctId: user, alias: `anon-${user}` });
  client.groupIdentify({ groupType: "company", groupKey: `acme-${user}`, properties: { seats: 3 }, distinctId: user });
  client.captureException(new TypeError("node boom"), user);
  await client.shutdown();

  expect(statuses.length).toBeGreaterThan(0);
  for (const s of statuses) expect(s).toMatch(/^POST \/batch\/ 200$/);

  const rows = await waitForRows(rowsOf([user]), (r) => r.length >= 5, 60_000);
  expect(byType(rows, "track", "order completed")).toMatchObject({ user_id: user, library_name: "posthog-node", os_name: "Linux", total: "30" });
  expect(byType(rows, "identify")).toMatchObject({ user_id: user, plan: "pro" });
  expect(byType(rows, "alias")).toMatchObject({ user_id: user, previous_id: `anon-${user}` });
  expect(byType(rows, "group")).toMatchObject({ user_id: user, group_id: `acme-${user}` });
  const crash = byType(rows, "crash");
  expect(crash).toMatchObject({ crash_type: "TypeError", crash_message: "node boom" });
  expect(crash.frames).toBeGreaterThan(0);
});

/**
 * Creates a flag on the stack's app through the admin API, and waits until the edge serves it
 * (an edge serves what it read up to a few seconds before). Its key is fresh, so tests sharing
 * the stack never see it.
 */
async function createFlag(prefix: string, variants: Array<{ key: string; value: unknown }>, rules: unknown[], fallthrough: string): Promise<string> {
  const key = `${prefix}-${randomUUID().slice(0, 8)}`;
  const res = await fetch(`${stack.edge}/admin/apps/${stack.appId}/flags`, {
    method: "POST",
    headers: { authorization: `Bearer ${LOCAL_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ key, name: key, enabled: true, variants, rules, fallthrough: { variant: fallthrough }, offVariant: variants[variants.length - 1]?.key }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  await waitForRows(
    async () => {
      const served = (await (await fetch(`${stack.edge}/v1/config?writeKey=${encodeURIComponent(stack.writeKey)}`)).json()) as { flags: Record<string, unknown> };
      return key in served.flags ? [key] : [];
    },
    (keys) => keys.length > 0,
    30_000,
  );
  return key;
}

it("posthog-node: flags evaluated at the edge, by person properties and with payloads", async () => {
  const beta = await createFlag("ph-beta", [{ key: "on", value: true }, { key: "off", value: false }], [{ conditions: [{ op: "in", trait: "plan", values: ["pro"] }], rollout: 100, serve: { variant: "on" } }], "off");
  const button = await createFlag("ph-button", [{ key: "green", value: { color: "#0a0" } }, { key: "control", value: null }], [], "green");
  const client = new PostHog(stack.writeKey, { host: stack.edge, flushAt: 1, flushInterval: 0 });
  try {
    expect(await client.getFeatureFlag(beta, "node-pro", { personProperties: { plan: "pro" }, sendFeatureFlagEvents: false })).toBe(true);
    expect(await client.getFeatureFlag(beta, "node-free", { personProperties: { plan: "free" }, sendFeatureFlagEvents: false })).toBe(false);
    expect(await client.isFeatureEnabled(beta, "node-pro", { personProperties: { plan: "pro" }, sendFeatureFlagEvents: false })).toBe(true);
    expect(await client.getFeatureFlag(button, "node-any", { sendFeatureFlagEvents: false })).toBe("green");
    expect(await client.getFeatureFlagPayload(button, "node-any")).toEqual({ color: "#0a0" });
    const all = await client.getAllFlags("node-pro", { personProperties: { plan: "pro" } });
    expect(all).toMatchObject({ [beta]: true, [button]: "green" });
  } finally {
    await client.shutdown();
  }
});

// The page exposes `runPostHog(userId)`, which starts posthog-js (its page view is automatic),
// clicks a button (autocapture) and makes one call of each kind.
const entry = `
import posthog from "posthog-js";

async function runPostHog(userId: string): Promise<string> {
  const loaded = new Promise<void>((done) => {
    posthog.init(${JSON.stringify(stack.writeKey)}, {
      api_host: ${JSON.stringify(stack.edge)},
      person_profiles: "always",
      disable_session_recording: true,
      disable_surveys: true,
      disable_product_tours: true,
      disable_conversations: true,
      advanced_disable_toolbar_metrics: true,
      capture_performance: false,
      capture_dead_clicks: false,
      capture_heatmaps: false,
      capture_exceptions: false,
      disable_web_experiments: true,
      // Headless Chromium says so in its user agent, which posthog-js would drop as a bot.
      opt_out_useragent_filter: true,
      loaded: () => done(),
    });
  });
  await loaded;
  const anonymousId = posthog.get_distinct_id();
  // Autocapture starts once the remote config (config.js from the edge) has said it may: wait
  // for that, boundedly, so the click below is seen; the first page view goes out meanwhile.
  const autocapture = posthog as unknown as { autocapture?: { isEnabled?: boolean } };
  // The automatic page view is timed 1 ms after \`loaded\`: the first 10 ms wait lets it go first.
  let waits = 0;
  do await new Promise((r) => setTimeout(r, 10));
  while (autocapture.autocapture?.isEnabled !== true && ++waits < 3000);
  document.getElementById("buy")?.click();
  posthog.capture("order completed", { total: 30 });
  posthog.captureException(new TypeError("browser boom"));
  posthog.identify(userId, { plan: "pro" });
  posthog.group("company", "acme-" + userId, { seats: 3 });
  return anonymousId;
}

// \`readFlag(userId, key)\` starts posthog-js as an identified user and reads one flag once the
// edge has answered posthog-js's flags call; the read records posthog-js's exposure event.
async function readFlag(userId: string, key: string): Promise<{ value: unknown; payload: unknown }> {
  return new Promise((done) => {
    posthog.init(${JSON.stringify(stack.writeKey)}, {
      api_host: ${JSON.stringify(stack.edge)},
      bootstrap: { distinctID: userId, isIdentifiedID: true },
      // The first test's flags, kept in this origin's storage, would otherwise be answered before the edge's.
      persistence: "memory",
      disable_session_recording: true,
      disable_surveys: true,
      disable_product_tours: true,
      disable_conversations: true,
      autocapture: false,
      capture_pageview: false,
      disable_web_experiments: true,
      opt_out_useragent_filter: true,
      loaded: (ph) => ph.onFeatureFlags(() => done({ value: ph.getFeatureFlag(key), payload: ph.getFeatureFlagPayload(key) })),
    });
  });
}

(globalThis as unknown as { runPostHog: typeof runPostHog; readFlag: typeof readFlag }).runPostHog = runPostHog;
(globalThis as unknown as { readFlag: typeof readFlag }).readFlag = readFlag;
`;

let chrome: Chromium | undefined;
let site: TestPage | undefined;

beforeAll(async () => {
  site = await servePage({ entry, body: '<button id="buy">Buy</button>' });
  chrome = await launchChromium("posthog");
});

afterAll(async () => {
  await chrome?.close();
  await site?.close();
});

it("posthog-js in Chromium: page view, autocapture, a custom event, an exception, identify and group land in ClickHouse", async () => {
  if (!chrome || !site) throw new Error("the browser did not start");
  const page = await chrome.context.newPage();
  const calls: string[] = [];
  const elsewhere: string[] = [];
  const failed: string[] = [];
  const origin = site.origin;
  page.on("request", (req) => {
    if (!req.url().startsWith(stack.edge) && !req.url().startsWith(origin)) elsewhere.push(req.url());
  });
  page.on("requestfailed", (req) => failed.push(`${req.method()} ${req.url()} ${req.failure()?.errorText ?? ""}`));
  page.on("requestfinished", (req) => {
    if (!req.url().startsWith(stack.edge) || req.method() === "OPTIONS") return;
    void req.response().then((res) => calls.push(`${req.method()} ${new URL(req.url()).pathname} ${res?.status() ?? 0}`));
  });
  const errors: string[] = [];
  const log: string[] = [];
  page.on("console", (m) => {
    log.push(`${m.type()}: ${m.text()}`);
    if (m.type() === "error") errors.push(m.text());
  });

  await page.goto(site.url, { waitUntil: "load" });
  const user = `web-${randomUUID()}`;
  const anonymousId = await page.evaluate((u) => (globalThis as unknown as { runPostHog(u: string): Promise<string> }).runPostHog(u), user);

  const complete = (r: Row[]) => ["page", "identify", "group", "crash"].every((t) => r.some((x) => x.type === t)) && r.some((x) => x.event === "$autocapture") && r.some((x) => x.event === "order completed");
  // What the page did says more than missing rows do.
  const rows = await waitForRows(rowsOf([user, anonymousId]), complete, 60_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\nedge calls: ${JSON.stringify(calls)}\nfailed: ${JSON.stringify(failed)}\nconsole: ${JSON.stringify(log)}`);
  });
  const pageview = byType(rows, "page");
  expect(pageview).toMatchObject({ anonymous_id: anonymousId, user_id: "", path: "/", library_name: "web" });
  expect(pageview.url.startsWith(origin)).toBe(true);
  expect(pageview.session_id).not.toBe("");
  expect(byType(rows, "track", "$autocapture")).toMatchObject({ anonymous_id: anonymousId });
  expect(byType(rows, "track", "order completed")).toMatchObject({ anonymous_id: anonymousId, total: "30" });
  expect(byType(rows, "crash")).toMatchObject({ crash_type: "TypeError", crash_message: "browser boom" });
  expect(byType(rows, "identify")).toMatchObject({ user_id: user, anonymous_id: anonymousId, plan: "pro" });
  expect(byType(rows, "group")).toMatchObject({ user_id: user, group_id: `acme-${user}` });

  expect(calls.some((c) => c.startsWith("POST /e/"))).toBe(true);
  for (const c of calls) expect(c).toMatch(/ 200$/);
  expect(failed).toEqual([]);
  expect(elsewhere).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
});

it("posthog-js in Chromium: a flag targeted at the user is on, its payload arrives, and reading it records $feature_flag_called", async () => {
  if (!chrome || !site) throw new Error("the browser did not start");
  const user = `flag-${randomUUID()}`;
  const key = await createFlag("ph-js", [{ key: "wide", value: { columns: 3 } }, { key: "narrow", value: null }], [{ conditions: [{ op: "in", attribute: "user_id", values: [user] }], rollout: 100, serve: { variant: "wide" } }], "narrow");
  const page = await chrome.context.newPage();
  await page.goto(site.url, { waitUntil: "load" });
  const read = await page.evaluate(([u, k]) => (globalThis as unknown as { readFlag(u: string, k: string): Promise<{ value: unknown; payload: unknown }> }).readFlag(u, k), [user, key] as const);
  expect(read).toEqual({ value: "wide", payload: { columns: 3 } });
  const exposures = await waitForRows(
    () => chQuery<{ flag: string; response: string }>(stack.clickhouse, "SELECT JSONExtractString(properties, '$feature_flag') AS flag, JSONExtractString(properties, '$feature_flag_response') AS response FROM events WHERE app_id = {app:String} AND user_id = {user:String} AND event = '$feature_flag_called'", { app: stack.appId, user }),
    (rows) => rows.length > 0,
    60_000,
  );
  expect(exposures[0]).toEqual({ flag: key, response: "wide" });
  await page.close();
});
