// Sentry's own SDKs as published, pointed at the local edge with a DSN whose public key is one
// of our write keys: @sentry/node in a Node process of its own, as an app would run it, and
// @sentry/browser bundled into a page in Debian's Chromium. Every request either makes must be
// answered 2xx, and errors, messages, transactions with their spans and sessions must land in
// ClickHouse with their types and fields.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { chQuery, waitForRows } from "../../sdk/e2e/clickhouse";
import { launchChromium, type Chromium } from "../chromium";
import { servePage, type TestPage } from "./page";

const stack = inject("sdkStack");
const dsn = `http://${stack.writeKey}@${new URL(stack.edge).host}/1`;
const root = resolve(import.meta.dirname, "../..");

interface Row {
  type: string;
  event: string;
  user_id: string;
  session_id: string;
  platform: string;
  library_name: string;
  crash_type: string;
  crash_message: string;
  crash_fatal: number;
  perf_metric: string;
  duration_ms: number;
  properties: string;
}

/** Every row of one run, told apart by its release (`context.app.version`). */
function rowsOf(release: string, done: (rows: Row[]) => boolean): Promise<Row[]> {
  return waitForRows(
    () =>
      chQuery<Row>(
        stack.clickhouse,
        `SELECT type, event, user_id, session_id, platform, library_name, crash_type, crash_message, crash_fatal, perf_metric, duration_ms, properties
         FROM events WHERE app_id = {app:String} AND app_version = {release:String} ORDER BY timestamp`,
        { app: stack.appId, release },
      ),
    done,
    60_000,
  );
}

const props = (row: Row | undefined): Record<string, unknown> => JSON.parse(row?.properties ?? "{}") as Record<string, unknown>;

// The app @sentry/node runs in: the library's own transport, wrapped only to report the status
// of each request it made.
const nodeApp = `
import * as Sentry from "@sentry/node";
const statuses = [];
Sentry.init({
  dsn: process.env.SENTRY_DSN,
  release: process.env.RELEASE,
  environment: "e2e",
  tracesSampleRate: 1,
  transport: (options) => {
    const transport = Sentry.makeNodeTransport(options);
    return {
      send: async (envelope) => {
        const res = await transport.send(envelope);
        statuses.push({ items: envelope[1].map((item) => item[0].type), size: JSON.stringify(envelope).length, status: res.statusCode });
        return res;
      },
      flush: (timeout) => transport.flush(timeout),
    };
  },
});
Sentry.setUser({ id: process.env.USER_ID });
Sentry.setTag("suite", "e2e");
Sentry.addBreadcrumb({ category: "step", message: "opening the cart" });
// Enough breadcrumbs that the SDK gzips the envelope (it does above 32 KB).
for (let i = 0; i < 99; i++) Sentry.addBreadcrumb({ category: "scroll", message: "item " + i + " " + "·".repeat(400) });
function checkout() {
  throw new TypeError("cart is empty");
}
try {
  checkout();
} catch (err) {
  Sentry.captureException(err);
}
Sentry.captureMessage("stock is low", "warning");
await Sentry.startSpan({ name: "checkout", op: "task" }, async () => {
  await Sentry.startSpan({ name: "load cart", op: "db.query" }, () => new Promise((done) => setTimeout(done, 30)));
  // Sentry's fetch instrumentation makes this an http.client span; the edge answers it 404.
  await fetch(process.env.EDGE + "/v1/carts/88123/items?email=" + encodeURIComponent("jane@example.com")).then((r) => r.text());
});
Sentry.endSession();
await Sentry.flush(15000);
await Sentry.close(15000);
console.log(JSON.stringify(statuses));
`;

it("stores what @sentry/node sends: an exception, a message, a transaction with its spans, the call it made and the session, every request answered 2xx", async () => {
  const release = `node-e2e@${Date.now().toString(36)}`;
  const userId = `sentry-node-${Date.now().toString(36)}`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", nodeApp], {
    cwd: root,
    env: { ...process.env, SENTRY_DSN: dsn, RELEASE: release, USER_ID: userId, EDGE: stack.edge },
    timeout: 60_000,
  });
  const statuses = JSON.parse(stdout.trim().split("\n").pop() ?? "[]") as Array<{ items: string[]; size: number; status: number }>;
  // The SDK gzips a body above 32 KB: the error's envelope was sent compressed.
  expect(statuses.some((s) => s.items.includes("event") && s.size > 32 * 1024)).toBe(true);
  const sent = statuses.flatMap((s) => s.items);
  for (const type of ["event", "session"]) expect(sent, type).toContain(type);
  // Sentry's SDKs stream spans (`span` items) by default now, and send transactions otherwise.
  expect(sent.some((t) => t === "span" || t === "transaction")).toBe(true);
  expect(statuses.filter((s) => s.status < 200 || s.status > 299)).toEqual([]);

  const rows = await rowsOf(
    release,
    (r) => r.filter((x) => x.type === "crash").length >= 2 && r.some((x) => x.type === "perf") && r.some((x) => x.type === "network") && r.some((x) => x.event === "$session" && props(x).status === "exited"),
  );
  const exception = rows.find((r) => r.crash_type === "TypeError");
  expect(exception).toMatchObject({ user_id: userId, crash_message: "cart is empty", crash_fatal: 0, platform: "node", library_name: "sentry.javascript.node" });
  const error = props(exception).error as { handled: boolean; frames: Array<{ function?: string; inApp?: boolean }> };
  expect(error.handled).toBe(true);
  expect(error.frames[0]?.function).toBe("checkout");
  expect(props(exception)).toMatchObject({ environment: "e2e", tags: { suite: "e2e" } });
  // The most recent breadcrumbs are kept, within the event size limit.
  expect(JSON.stringify(props(exception).breadcrumbs)).toContain("item 98");
  expect(rows.find((r) => r.crash_type === "Message")).toMatchObject({ crash_message: "stock is low", user_id: userId });
  expect(props(rows.find((r) => r.crash_type === "Message"))).toMatchObject({ level: "warning" });

  const tx = rows.find((r) => r.type === "perf" && props(r).kind === "transaction");
  expect(tx).toMatchObject({ perf_metric: "checkout", library_name: "sentry.javascript.node" });
  const span = rows.find((r) => r.type === "perf" && props(r).kind === "span");
  expect(span).toMatchObject({ perf_metric: "db.query" });
  expect(span?.duration_ms).toBeGreaterThanOrEqual(25);
  expect(props(span)).toMatchObject({ description: "load cart", transaction: "checkout" });
  expect(tx?.duration_ms).toBeGreaterThanOrEqual(span?.duration_ms ?? 0);

  // The fetch inside the transaction: a network call of its own, templated, its e-mail masked.
  const [call] = await chQuery<{ net_method: string; net_template: string; net_status: number; net_outcome: string; properties: string }>(
    stack.clickhouse,
    "SELECT net_method, net_template, net_status, net_outcome, properties FROM events WHERE app_id = {app:String} AND app_version = {release:String} AND type = 'network'",
    { app: stack.appId, release },
  );
  expect(call).toMatchObject({ net_method: "GET", net_template: "/v1/carts/:id/items", net_status: 404, net_outcome: "client_error" });
  expect(call?.properties).toContain("email=[email]");
  expect(call?.properties).not.toContain("jane");
  expect(props(rows.find((r) => r.type === "perf" && r.perf_metric === "http.client"))).toMatchObject({ kind: "span", transaction: "checkout" });

  // What the performance and network views read: the spans under their transaction, the call under its template.
  const perfRollup = await waitForRows(
    () =>
      chQuery<{ metric: string; kind: string; txn: string; n: string }>(
        stack.clickhouse,
        "SELECT metric, kind, txn, sum(n) AS n FROM perf_hourly WHERE app_id = {app:String} AND app_version = {release:String} GROUP BY metric, kind, txn ORDER BY metric",
        { app: stack.appId, release },
      ),
    (r) => r.length >= 3,
  );
  expect(perfRollup.map((r) => [r.metric, r.kind, r.txn, Number(r.n)])).toEqual([
    ["checkout", "transaction", "", 1],
    ["db.query", "span", "checkout", 1],
    ["http.client", "span", "checkout", 1],
  ]);
  const networkRollup = await waitForRows(
    () =>
      chQuery<{ method: string; template: string; status: number; outcome: string; n: string }>(
        stack.clickhouse,
        "SELECT method, template, status, outcome, sum(n) AS n FROM network_hourly WHERE app_id = {app:String} AND app_version = {release:String} GROUP BY method, template, status, outcome",
        { app: stack.appId, release },
      ),
    (r) => r.length >= 1,
  );
  expect(networkRollup.map((r) => [r.method, r.template, r.status, r.outcome, Number(r.n)])).toEqual([["GET", "/v1/carts/:id/items", 404, "client_error", 1]]);

  const sessions = rows.filter((r) => r.event === "$session");
  expect(new Set(sessions.map((s) => s.session_id)).size).toBe(1);
  expect(sessions.map((s) => props(s).status)).toContain("exited");
  expect(sessions.some((s) => (props(s).errors as number) >= 1)).toBe(true);
  expect(props(sessions[0])).toMatchObject({ release, environment: "e2e", did: userId });
});

// The page exposes `runSentry(release, userId)`: it starts @sentry/browser, captures an
// exception and a message, lets one error go unhandled, runs a transaction and flushes.
const entry = `
import * as Sentry from "@sentry/browser";

async function runSentry(release: string, userId: string): Promise<void> {
  Sentry.init({ dsn: ${JSON.stringify(dsn)}, release, environment: "e2e-browser", tracesSampleRate: 1 });
  Sentry.setUser({ id: userId });
  Sentry.addBreadcrumb({ category: "ui.click", message: "pay button" });
  try {
    JSON.parse("{not json");
  } catch (err) {
    Sentry.captureException(err);
  }
  Sentry.captureMessage("browser says hello", "info");
  setTimeout(() => {
    throw new RangeError("unhandled in the page");
  });
  await new Promise((done) => setTimeout(done, 100));
  await Sentry.startSpan({ name: "render cart", op: "ui.render" }, async () => {
    await Sentry.startSpan({ name: "fetch prices", op: "http.client" }, () => new Promise((done) => setTimeout(done, 20)));
  });
  await Sentry.flush(10000);
}

(globalThis as unknown as { runSentry: typeof runSentry }).runSentry = runSentry;
`;

let chrome: Chromium | undefined;
let site: TestPage | undefined;

beforeAll(async () => {
  site = await servePage({ entry });
  chrome = await launchChromium("sentry");
});

afterAll(async () => {
  await chrome?.close();
  await site?.close();
});

it("stores what @sentry/browser sends from Chromium: exceptions handled and not, a message, a transaction and the session, every request answered 2xx", async () => {
  if (!chrome || !site) throw new Error("browser not started");
  const release = `browser-e2e@${Date.now().toString(36)}`;
  const userId = `sentry-browser-${Date.now().toString(36)}`;
  const page = await chrome.context.newPage();
  const calls: string[] = [];
  const failed: string[] = [];
  page.on("response", (res) => {
    const req = res.request();
    if (req.url().startsWith(stack.edge) && req.method() !== "OPTIONS") calls.push(`${req.method()} ${new URL(req.url()).pathname} ${res.status()}`);
  });
  page.on("requestfailed", (req) => failed.push(`${req.method()} ${req.url()} failed: ${req.failure()?.errorText ?? ""}`));
  await page.goto(site.url, { waitUntil: "load" });
  await page.evaluate(async ([r, u]) => {
    await (globalThis as unknown as { runSentry(release: string, userId: string): Promise<void> }).runSentry(r, u);
  }, [release, userId] as const);

  const rows = await rowsOf(release, (r) => r.filter((x) => x.type === "crash").length >= 3 && r.some((x) => x.type === "perf") && r.some((x) => x.event === "$session"));
  // What the page saw before it closes: closing may cut requests the SDK still has in flight.
  const seen = { calls: [...calls], failed: [...failed] };
  await page.close();
  expect(seen.failed).toEqual([]);
  expect(seen.calls.length).toBeGreaterThan(0);
  expect(seen.calls.filter((c) => !/^POST \/api\/1\/envelope\/ 2\d\d$/.test(c))).toEqual([]);

  const handled = rows.find((r) => r.crash_type === "SyntaxError");
  expect(handled).toMatchObject({ user_id: userId, crash_fatal: 0, platform: "web", library_name: "sentry.javascript.browser" });
  expect(JSON.stringify(props(handled).breadcrumbs)).toContain("pay button");
  const unhandled = rows.find((r) => r.crash_type === "RangeError");
  expect(unhandled).toMatchObject({ crash_message: "unhandled in the page", crash_fatal: 1 });
  expect((props(unhandled).error as { handled: boolean }).handled).toBe(false);
  expect(rows.find((r) => r.crash_type === "Message")).toMatchObject({ crash_message: "browser says hello" });
  expect(rows.find((r) => r.type === "perf" && props(r).kind === "transaction")).toMatchObject({ perf_metric: "render cart" });
  expect(rows.find((r) => r.type === "perf" && props(r).kind === "span")).toMatchObject({ perf_metric: "http.client" });
  const session = rows.find((r) => r.event === "$session");
  expect(session?.session_id).not.toBe("");
  expect(props(session)).toMatchObject({ release, environment: "e2e-browser" });
});
