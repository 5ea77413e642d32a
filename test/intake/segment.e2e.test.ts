// Segment's browser library, @segment/analytics-next as published, in Debian's Chromium against
// the local edge: its settings are given inline and its Segment.io destination points at the
// edge, so no request leaves the machine. Every call it makes must answer 2xx, in its default
// mode (one request per event on the short paths) and in batching mode (/v1/b), and every
// event must land in ClickHouse with its type and fields.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { chQuery, waitForRows } from "../../sdk/e2e/clickhouse";
import { launchChromium, type Chromium } from "../chromium";
import { servePage, type TestPage } from "./page";

const stack = inject("sdkStack");
const apiHost = `${new URL(stack.edge).host}/v1`;

// The page exposes `runSegment(mode, anonymousId)`, which loads the library and makes one call
// of each kind. Settings are inlined (`cdnSettings`) so it never asks Segment's CDN.
const entry = `
import { AnalyticsBrowser } from "@segment/analytics-next";

async function runSegment(mode: "standard" | "batching", anonymousId: string): Promise<void> {
  localStorage.clear();
  const writeKey = ${JSON.stringify(stack.writeKey)};
  const segmentio = {
    apiKey: writeKey,
    apiHost: ${JSON.stringify(apiHost)},
    protocol: "http" as const,
    ...(mode === "batching" ? { deliveryStrategy: { strategy: "batching" as const, config: { size: 6, timeout: 1000 } } } : {}),
  };
  const [analytics] = await AnalyticsBrowser.load(
    { writeKey, cdnSettings: { integrations: { "Segment.io": segmentio } } },
    { integrations: { "Segment.io": segmentio } },
  );
  analytics.setAnonymousId(anonymousId);
  await analytics.page("Docs", "Pricing", { plan: "pro" });
  await analytics.track("Order Completed", { total: 30, currency: "EUR" });
  await analytics.screen("Checkout", { step: 2 });
  await analytics.identify("user-" + anonymousId, { plan: "pro", email: "ada@example.com" });
  await analytics.group("acme-" + anonymousId, { seats: 3 });
  await analytics.alias("alias-" + anonymousId, "prev-" + anonymousId);
}

(globalThis as unknown as { runSegment: typeof runSegment }).runSegment = runSegment;
`;

let chrome: Chromium | undefined;
let site: TestPage | undefined;

beforeAll(async () => {
  site = await servePage({ entry });
  chrome = await launchChromium("segment");
});

afterAll(async () => {
  await chrome?.close();
  await site?.close();
});

interface Row {
  type: string;
  event: string;
  user_id: string;
  anonymous_id: string;
  path: string;
  library_name: string;
  platform: string;
  properties: string;
  traits: string;
}

async function runMode(mode: "standard" | "batching"): Promise<{ calls: string[]; rows: Row[]; anonymousId: string }> {
  if (!chrome || !site) throw new Error("browser not started");
  const anonymousId = `seg-${mode}-${Date.now().toString(36)}`;
  // analytics.js keeps the user's ids in cookies and localStorage: each mode starts as a new visitor.
  await chrome.context.clearCookies();
  const page = await chrome.context.newPage();
  const calls: string[] = [];
  const errors: string[] = [];
  const answers: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("response", (res) => {
    const req = res.request();
    if (!req.url().startsWith(stack.edge) || req.method() === "OPTIONS") return;
    calls.push(`${req.method()} ${new URL(req.url()).pathname} ${res.status()}`);
    void res.text().then((t) => answers.push(`${new URL(req.url()).pathname} ${(req.postData() ?? "").slice(0, 3000)} -> ${t}`), () => undefined);
  });
  page.on("requestfailed", (req) => errors.push(`${req.method()} ${req.url()} failed: ${req.failure()?.errorText ?? ""}`));
  await page.goto(site.url, { waitUntil: "load" });
  await page.evaluate(
    async ([m, anon]) => {
      await (globalThis as unknown as { runSegment(mode: string, anonymousId: string): Promise<void> }).runSegment(m, anon);
    },
    [mode, anonymousId] as const,
  );

  const rows = await waitForRows(
    () =>
      chQuery<Row>(
        stack.clickhouse,
        `SELECT type, event, user_id, anonymous_id, path, library_name, platform, properties, traits
         FROM events WHERE app_id = {app:String} AND anonymous_id = {anon:String} ORDER BY timestamp`,
        { app: stack.appId, anon: anonymousId },
      ),
    (r) => r.length >= 6,
    60_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nedge calls: ${JSON.stringify(calls)}\nbrowser errors: ${JSON.stringify(errors)}\nanswers: ${answers.join("\n")}`);
  });
  await page.close();
  expect(errors).toEqual([]);
  return { calls, rows, anonymousId };
}

function expectEvents(rows: Row[], anonymousId: string): void {
  expect(rows.map((r) => r.type).sort()).toEqual(["alias", "group", "identify", "page", "screen", "track"]);
  const byType = new Map(rows.map((r) => [r.type, r]));
  const props = (type: string): Record<string, unknown> => JSON.parse(byType.get(type)?.properties ?? "{}") as Record<string, unknown>;
  expect(byType.get("page")).toMatchObject({ event: "Pricing", path: "/", platform: "web" });
  expect(props("page")).toMatchObject({ plan: "pro", category: "Docs" });
  expect(byType.get("track")).toMatchObject({ event: "Order Completed" });
  expect(props("track")).toMatchObject({ total: 30, currency: "EUR" });
  expect(byType.get("screen")).toMatchObject({ event: "Checkout" });
  expect(props("screen")).toMatchObject({ step: 2 });
  const identify = byType.get("identify");
  expect(identify?.user_id).toBe(`user-${anonymousId}`);
  expect(JSON.parse(identify?.traits ?? "{}")).toMatchObject({ plan: "pro" });
  expect(props("group")).toMatchObject({ groupId: `acme-${anonymousId}` });
  // analytics.js sends an alias with the current user's id as userId, whatever `to` says.
  expect(byType.get("alias")?.user_id).toBe(`user-${anonymousId}`);
  expect(props("alias")).toMatchObject({ previousId: `prev-${anonymousId}` });
  expect(new Set(rows.map((r) => r.library_name))).toEqual(new Set(["analytics.js"]));
}

it("sends every call of analytics-next's default mode to the short paths, each answered 2xx and stored", async () => {
  const { calls, rows, anonymousId } = await runMode("standard");
  for (const path of ["/v1/p", "/v1/t", "/v1/s", "/v1/i", "/v1/g", "/v1/a"]) expect(calls, path).toContain(`POST ${path} 200`);
  expect(calls.filter((c) => !/ 2\d\d$/.test(c))).toEqual([]);
  expectEvents(rows, anonymousId);
});

it("sends analytics-next's batches to /v1/b, answered 2xx, and stores every event of them", async () => {
  const { calls, rows, anonymousId } = await runMode("batching");
  expect(calls.some((c) => c === "POST /v1/b 200")).toBe(true);
  expect(calls.filter((c) => !/ 2\d\d$/.test(c))).toEqual([]);
  expectEvents(rows, anonymousId);
});
