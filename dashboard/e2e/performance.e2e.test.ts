// Performance as a person reads it, in Debian's Chromium against the local stack and its demo
// app: the vitals with their charts drawn, a transaction's page with its span breakdown, and the
// releases page naming the release that made the largest paint slower. Screenshots go to
// test-results/performance.png, performance-metric.png, performance-vital.png and
// releases-regression.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

const SERVER_TXN = "GET /v1/orders/:id";
let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("performance"));
});

afterAll(async () => {
  await chrome?.close();
});

it("shows the demo app's web vitals with their ratings, charts and bands, and the other metrics", async () => {
  // The API server's transactions are the demo's last events: once they show, everything has landed.
  await openWhen(page, `/apps/${APP}/performance?range=7d`, async (p) => ((await p.locator("table.perf-metrics").textContent()) ?? "").includes(SERVER_TXN), "the demo's perf events");
  for (const vital of ["LCP", "INP", "CLS", "FCP", "TTFB"]) {
    expect(await page.locator(`[data-vital=${vital}] .vitals-p75`).textContent()).toMatch(/\d/);
    expect(await page.locator(`[data-vital=${vital}] .vitals-p75`).getAttribute("data-band")).toMatch(/^(good|needs_improvement|poor)$/);
  }
  await expect.poll(() => page.locator(".vitals-card [data-chart][data-drawn=true]").count()).toBe(5);
  expect(await page.locator("table.perf-breakdown tbody tr").count()).toBeGreaterThan(0);
  const metrics = page.locator("table.perf-metrics");
  await expect.poll(() => metrics.textContent()).toContain("app_start_cold");
  expect(await metrics.textContent()).toContain("checkout");
  expect(await page.locator("table.perf-slowest tbody tr").count()).toBeGreaterThan(0);
  await page.screenshot({ path: shot("performance.png"), fullPage: true });

  // The breakdown follows its dimension through the URL.
  await page.locator("nav[aria-label=Dimension]").getByRole("link", { name: "Release", exact: true }).click();
  await page.waitForURL(/dimension=release/);
  await expect.poll(() => page.locator("table.perf-breakdown tbody").textContent()).toContain("5.13.0");
});

it("opens a transaction's page with its percentiles drawn and its span breakdown", async () => {
  await page.goto(`${stack.url}/apps/${APP}/performance?range=7d`);
  await page.locator("table.perf-metrics").getByRole("link", { name: "checkout", exact: true }).click();
  await page.waitForURL(/\/performance\/checkout/);
  await expect.poll(() => page.locator("table.perf-spans tbody tr").count()).toBeGreaterThan(0);
  expect(await page.locator("table.perf-slow-spans tbody tr").count()).toBeGreaterThan(0);
  await page.waitForSelector("[data-chart='Percentiles over time'][data-drawn=true] canvas");
  expect(await page.locator("table.perf-releases tbody tr").count()).toBeGreaterThan(0);
  await page.screenshot({ path: shot("performance-metric.png"), fullPage: true });
});

it("opens a transaction whose name holds slashes and a colon, from its link", async () => {
  await page.goto(`${stack.url}/apps/${APP}/performance?range=7d`);
  await page.locator("table.perf-metrics").getByRole("link", { name: SERVER_TXN, exact: true }).click();
  await page.waitForURL((u) => u.pathname === `/apps/${APP}/performance/${encodeURIComponent(SERVER_TXN)}`);
  await expect.poll(() => page.locator(".perf-metric-name").textContent()).toBe(SERVER_TXN);
  await expect.poll(() => page.locator("table.perf-spans tbody").textContent()).toContain("cache.get");
  expect(await page.locator("table.perf-slow-spans tbody").textContent()).toContain("SELECT * FROM order_lines WHERE order_id = ?");
});

it("draws a vital's percentiles with its thresholds and shows its bands", async () => {
  await page.goto(`${stack.url}/apps/${APP}/performance/LCP?range=7d`);
  await page.waitForSelector("[data-chart='Percentiles over time'][data-drawn=true] canvas");
  expect(await page.locator("section[aria-label=Bands] .vitals-shares").textContent()).toMatch(/%.*%.*%/);
  expect(await page.locator(".u-legend").textContent()).toContain("poor > 4 s");
  await page.screenshot({ path: shot("performance-vital.png"), fullPage: true });
});

it("flags the release that made the largest paint slower on the releases page and on LCP's page", async () => {
  const badge = (p: Page) => p.locator("table.releases tr", { hasText: "5.13.0" }).locator(".perf-regressed", { hasText: "LCP" });
  await openWhen(page, `/apps/${APP}/releases?range=7d`, async (p) => (await badge(p).count()) === 1, "the LCP regression");
  expect(await badge(page).textContent()).toMatch(/^LCP \+\d/);
  await page.waitForSelector("[data-chart][data-drawn=true] canvas");
  await page.screenshot({ path: shot("releases-regression.png"), fullPage: true });

  await badge(page).click();
  await page.waitForURL(/\/performance\/LCP/);
  await expect.poll(() => page.locator("tr[data-release='5.13.0']").getAttribute("data-regressed")).toBe("true");
});
