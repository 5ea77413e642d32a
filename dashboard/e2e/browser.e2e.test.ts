// The dashboard as a person uses it, in Debian's Chromium against the local stack `npm start`
// runs: sign in with the printed login, see the demo app's overview with its charts drawn,
// create an app and a write key, send events with that key and see them arrive, explore the
// events and one event's detail, and watch the live tail pick up a new one. Screenshots
// of each view go to test-results/dashboard-*.png.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type {} from "../../sdk/e2e/global-setup";
import { launchChromium, type Chromium } from "../../test/chromium";

const stack = inject("dashboardStack");
const shots = resolve(import.meta.dirname, "../../test-results");
let browser: BrowserContext;
let chrome: Chromium | undefined;
let page: Page;
/** The write key the second test creates, for the live tail test. */
let writeKey = "";

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  chrome = await launchChromium("dashboard", { width: 1280, height: 900 });
  browser = chrome.context;
  page = await browser.newPage();
});

afterAll(async () => {
  await chrome?.close();
});

/** Count of painted pixels in each uPlot canvas on the page: more than zero means it drew. */
async function paintedCharts(p: Page): Promise<number[]> {
  return p.$$eval("[data-chart] canvas", (canvases) =>
    canvases.map((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
      return painted;
    }),
  );
}

async function overviewWithEvents(p: Page, url: string, minEvents: number): Promise<void> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    await p.goto(url);
    const text = (await p.locator(".stat").first().textContent()) ?? "";
    const events = Number(text.replace(/[^0-9]/g, ""));
    if (events >= minEvents) return;
    if (Date.now() > deadline) throw new Error(`the overview showed "${text}" after 40 s`);
    await p.waitForTimeout(1000);
  }
}

it("signs in with the printed login and shows the demo app's overview with drawn charts", async () => {
  await page.goto(`${stack.url}/apps`);
  expect(new URL(page.url()).pathname).toBe("/login");
  await page.screenshot({ path: join(shots, "dashboard-login.png") });
  await page.fill("input[name=email]", stack.email);
  await page.fill("input[name=password]", "wrong password");
  await page.click("button[type=submit]");
  await expect.poll(() => page.locator("[role=alert]").textContent()).toContain("do not match");
  await page.fill("input[name=password]", stack.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${stack.url}/apps`);
  await page.screenshot({ path: join(shots, "dashboard-apps.png") });

  await page.click("text=app_demo");
  await page.waitForURL(/\/apps\/app_demo$/);
  await overviewWithEvents(page, `${stack.url}/apps/app_demo?range=7d`, 100);
  await page.waitForSelector("[data-chart][data-drawn=true] canvas");
  await expect.poll(async () => (await paintedCharts(page)).length).toBe(2);
  for (const painted of await paintedCharts(page)) expect(painted).toBeGreaterThan(500);
  await expect(page.locator("section[aria-label='Top events'] tbody tr").count()).resolves.toBeGreaterThan(0);
  await page.screenshot({ path: join(shots, "dashboard-overview.png"), fullPage: true });
});

it("creates an app and a write key, and the events sent with it appear", async () => {
  await page.goto(`${stack.url}/apps`);
  await page.fill("form[aria-label='Create an app'] input[name=name]", "Browser test");
  await page.fill("form[aria-label='Create an app'] input[name=id]", "app_browser");
  await page.click("form[aria-label='Create an app'] button");
  await page.waitForURL(/\/apps\/app_browser\/settings$/);
  await page.fill("form[aria-label='Create key'] input[name=name]", "e2e");
  await page.click("form[aria-label='Create key'] button");
  const key = (await page.locator(".new-key").textContent()) ?? "";
  expect(key).toMatch(/^wk_[0-9a-f]{40}$/);
  writeKey = key;
  await expect(page.locator("table code").first().textContent()).resolves.toBe(`${key.slice(0, 12)}…`);
  await page.screenshot({ path: join(shots, "dashboard-settings.png"), fullPage: true });

  const batch = Array.from({ length: 25 }, (_, i) => ({ type: "track", event: i % 2 ? "Clicked" : "Viewed", anonymousId: `b-${i % 4}`, context: { sessionId: "s-b" } }));
  const res = await fetch(`${stack.edge}/v1/batch`, { method: "POST", headers: { authorization: `Basic ${btoa(`${key}:`)}`, "content-type": "application/json" }, body: JSON.stringify({ batch }) });
  expect(await res.json()).toMatchObject({ accepted: 25 });
  await overviewWithEvents(page, `${stack.url}/apps/app_browser?range=1h`, 25);
  await expect(page.locator(".stat").nth(1).textContent()).resolves.toContain("4");
  // All 25 fall in one minute and one day: single-bucket charts must still draw.
  await page.waitForSelector("[data-chart][data-drawn=true] canvas");
  await expect.poll(async () => (await paintedCharts(page)).length).toBe(2);
  for (const painted of await paintedCharts(page)) expect(painted).toBeGreaterThan(100);
  await page.screenshot({ path: join(shots, "dashboard-new-app.png"), fullPage: true });
});

it("explores the demo app's events, opens one, and the live tail prepends a new event", async () => {
  await page.goto(`${stack.url}/apps/app_demo`);
  await page.click("nav[aria-label='App views'] >> text=Events");
  await page.waitForURL(/\/apps\/app_demo\/events$/);
  const rows = page.locator("section[aria-label=Events] tbody tr");
  // The URL changes before the client-side navigation has rendered the new page.
  await expect.poll(() => rows.count()).toBe(50);
  await expect(page.locator("text=Older →").count()).resolves.toBe(1);
  await page.selectOption("select[name=type]", "track");
  await page.click("form[aria-label='Filter events'] button");
  await page.waitForURL(/type=track/);
  await expect.poll(() => page.locator("section[aria-label=Events] tbody tr td:nth-child(2)", { hasText: /^(?!track$)/ }).count()).toBe(0);
  for (const type of await page.locator("section[aria-label=Events] tbody tr td:nth-child(2)").allTextContents()) expect(type).toBe("track");
  await expect(page.locator("a[download]").getAttribute("href")).resolves.toMatch(/^\/apps\/app_demo\/events\.csv\?.*type=track/);
  await page.screenshot({ path: join(shots, "dashboard-events.png"), fullPage: true });

  await rows.nth(1).locator("td").nth(2).click();
  await page.waitForURL(/\/apps\/app_demo\/events\/[^/?]+\?/);
  await expect.poll(() => page.locator("table.kv th", { hasText: /^message_id$/ }).count()).toBe(1);
  await expect(page.locator("section[aria-label=context] pre").textContent()).resolves.toMatch(/^\{\n {2}"/);
  await page.screenshot({ path: join(shots, "dashboard-event.png"), fullPage: true });
  await page.click("text=← Back to events");
  await page.waitForURL(/\/apps\/app_demo\/events\?.*type=track/);

  await page.goto(`${stack.url}/apps/app_browser/events?range=1h`);
  await expect.poll(() => rows.count()).toBe(25);
  await page.check("text=Live tail");
  const res = await fetch(`${stack.edge}/v1/track`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${writeKey}:`)}`, "content-type": "application/json" },
    body: JSON.stringify({ event: "Tail Arrived", anonymousId: "b-tail" }),
  });
  expect(res.status).toBeLessThan(300);
  await expect.poll(() => page.locator("tr[data-fresh] td:nth-child(3)").first().textContent(), { timeout: 40_000 }).toBe("Tail Arrived");
  expect(new URL(page.url()).pathname).toBe("/apps/app_browser/events");
  await expect.poll(() => rows.count()).toBe(26);
});
