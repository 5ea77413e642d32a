// A source-mapped crash end to end, against the local stack: a minified build of the checkout
// module is uploaded with `npm run sourcemaps -- upload`, a page in Debian's Chromium loads it
// with our browser SDK and throws from it, and the crash lands in ClickHouse with the original
// function and file, then shows them on its issue page in the dashboard. Leaves a screenshot in
// test-results/crash-sourcemapped.png.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { chQuery, waitForRows } from "../sdk/e2e/clickhouse";
import type {} from "../sdk/e2e/global-setup";
import { launchChromium, type Chromium } from "./chromium";
import { buildCheckout, checkoutLine } from "./sourcemap-builds";

const stack = inject("sdkStack");
const dashboard = inject("dashboardStack");
const root = resolve(import.meta.dirname, "..");
const shots = resolve(root, "test-results");
const BUNDLE = "app.5ca1ab1e.js";
const release = `sourcemaps-e2e-${Date.now().toString(36)}`;
let dir = "";
let server: Server;
let site = "";
let chrome: Chromium | undefined;

const run = promisify(execFile);

/** `npm run sourcemaps -- …` as a team runs it after a build: its exit code and output. */
async function sourcemaps(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "dev/sourcemaps.ts", ...args], { cwd: root });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sourcemaps-e2e-"));
  const { js, map } = await buildCheckout(BUNDLE);
  await mkdir(join(dir, "assets"), { recursive: true });
  await writeFile(join(dir, "assets", BUNDLE), js);
  await writeFile(join(dir, "assets", `${BUNDLE}.map`), map);

  const sdk = readFileSync(resolve(root, "sdk/dist/telemetry.min.js"));
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>
<script src="/telemetry.min.js"></script>
<script>Telemetry.init(${JSON.stringify({ writeKey: stack.writeKey, endpoint: stack.edge, context: { app: { version: release } } })});</script>
<script src="/assets/${BUNDLE}"></script></head>
<body><h1>Checkout</h1><button id="pay" onclick="Shop.placeOrder([{ price: 1250, qty: 2 }], 'XMAS')">Pay with code XMAS</button></body></html>`;
  // The page serves the minified bundle only: the map is never public, the edge has it.
  server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/telemetry.min.js") res.writeHead(200, { "content-type": "text/javascript" }).end(sdk);
    else if (path === `/assets/${BUNDLE}`) res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else if (path === "/") res.writeHead(200, { "content-type": "text/html" }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  chrome = await launchChromium("sourcemaps", { width: 1280, height: 1000 });
});

afterAll(async () => {
  await chrome?.close();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface CrashRow {
  fingerprint: string;
  frames: string;
}

it("uploads a build's source maps with the documented command, and refuses an unknown app with a non-zero exit", async () => {
  const bad = await sourcemaps("upload", "--app", "app_nobody_has", "--release", release, "--url", stack.edge, dir);
  expect(bad.code).not.toBe(0);
  expect(bad.out).toContain("404");

  const good = await sourcemaps("upload", "--app", stack.appId, "--release", release, "--url", stack.edge, dir);
  expect(good.code, good.out).toBe(0);
  expect(good.out).toContain(`uploaded assets/${BUNDLE}.map as ${BUNDLE}`);
  const listed = await fetch(`${stack.edge}/admin/apps/${stack.appId}/releases/${release}/sourcemaps`, { headers: { authorization: `Bearer ${process.env.ADMIN_TOKEN ?? "local-admin-token"}` } });
  expect(((await listed.json()) as { sourceMaps: Array<{ file: string }> }).sourceMaps.map((m) => m.file)).toEqual([BUNDLE]);
});

it("stores a crash thrown from the minified bundle in Chromium with its original names, and shows them on the issue page", async () => {
  if (!chrome) throw new Error("Chromium did not start");
  const page = await chrome.context.newPage();
  await page.goto(site, { waitUntil: "load" });
  await page.click("#pay");
  await page.evaluate(() => (globalThis as unknown as { Telemetry: { flush(): Promise<void> } }).Telemetry.flush());

  const [crash] = await waitForRows(
    () =>
      chQuery<CrashRow>(
        stack.clickhouse,
        `SELECT crash_fingerprint AS fingerprint, JSONExtractRaw(properties, 'error', 'frames') AS frames
         FROM events WHERE app_id = {app:String} AND type = 'crash' AND app_version = {release:String}`,
        { app: stack.appId, release },
      ),
    (rows) => rows.length > 0,
    40_000,
  );
  const frames = JSON.parse(crash?.frames ?? "[]") as Array<{ function?: string; file?: string; line?: number; minified?: { function?: string; file?: string } }>;
  expect(frames.slice(0, 2).map((f) => [f.function, f.file, f.line])).toEqual([
    ["applyDiscount", "src/checkout.ts", checkoutLine("throw new RangeError")],
    ["checkout", "src/checkout.ts", checkoutLine("const charged")],
  ]);
  expect(frames[0]?.minified?.file).toBe(`${site}/assets/${BUNDLE}`);
  expect(frames[0]?.minified?.function).not.toBe("applyDiscount");

  await page.goto(`${dashboard.url}/login`);
  await page.fill("input[name=email]", dashboard.email);
  await page.fill("input[name=password]", dashboard.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${dashboard.url}/apps`);
  await page.goto(`${dashboard.url}/apps/${stack.appId}/crashes/${crash?.fingerprint ?? ""}?range=24h`);
  await expect.poll(() => page.locator("body").textContent()).toContain("applyDiscount");
  expect(await page.locator("body").textContent()).toContain("src/checkout.ts");
  await page.waitForSelector("[data-chart][data-drawn=true] canvas");
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, "crash-sourcemapped.png"), fullPage: true });
  await page.close();
});
