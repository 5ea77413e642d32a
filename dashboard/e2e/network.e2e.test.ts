// The network views as a person uses them, in Debian's Chromium against the local stack: the
// demo app's endpoints with their charts drawn, sorted from a column header, one endpoint's page,
// and the URL templates page (save a template, preview a URL, put the list back as it was).
// Screenshots go to test-results/network.png, network-endpoint.png and network-templates.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("network"));
});

afterAll(async () => {
  await chrome?.close();
});

const endpointRows = (p: Page) => p.locator("section[aria-label='Endpoints'] tbody tr");

/** The network page at `query`, reloaded until the demo's calls have landed. */
const networkWithCalls = (p: Page, query: string): Promise<void> =>
  openWhen(p, `/apps/${APP}/network?${query}`, async (q) => (await endpointRows(q).count()) > 0, "the demo app's network calls", 40_000);

it("lists the demo app's endpoints with calls, errors and latency drawn, and sorts from a header", async () => {
  await networkWithCalls(page, "range=7d");
  await expect.poll(() => page.locator("[data-chart][data-drawn=true]").count()).toBe(4);
  expect(await page.locator("section[aria-label='Highest error rate'] tbody tr").count()).toBeGreaterThan(0);
  expect(await page.locator("section[aria-label='Slowest (p95)'] tbody tr").count()).toBeGreaterThan(0);
  // The endpoints table carries its id placeholders, not one row per id.
  const labels = await endpointRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-endpoint") ?? ""));
  expect(labels.some((l) => /:id|:uuid|:hash/.test(l))).toBe(true);
  expect(await page.getByRole("link", { name: "Export CSV" }).getAttribute("href")).toContain(`/apps/${APP}/network.csv?range=7d`);
  await page.screenshot({ path: shot("network.png"), fullPage: true });

  await page.locator("section[aria-label='Endpoints'] thead").getByRole("link", { name: /p95/ }).click();
  // The header marks the sort once the sorted rows have rendered with it.
  await expect.poll(() => page.locator("section[aria-label='Endpoints'] th[aria-sort=descending]").textContent()).toContain("p95");
  const p95s = await endpointRows(page).evaluateAll((rows) => rows.map((r) => r.children[8]?.textContent ?? ""));
  const asMs = (t: string): number => (t.endsWith(" s") ? Number.parseFloat(t) * 1000 : Number.parseFloat(t.replace(/,/g, "")));
  expect(p95s.map(asMs)).toEqual([...p95s.map(asMs)].sort((a, b) => b - a));
});

it("opens an endpoint's page with its status codes, releases, platforms and failing calls", async () => {
  await networkWithCalls(page, "range=7d&sort=errors");
  const first = endpointRows(page).first();
  const label = (await first.getAttribute("data-endpoint")) ?? "";
  await first.locator("a").first().click();
  await page.waitForURL(/\/apps\/app_demo\/network\/[A-Za-z0-9_-]+/);
  await expect.poll(() => page.locator("h1").textContent()).toContain(label.split(" ")[0] ?? "");
  await expect.poll(() => page.locator("section[aria-label='Status codes'] tbody tr").count()).toBeGreaterThan(0);
  await expect.poll(() => page.locator("[data-chart][data-drawn=true]").count()).toBe(4);
  expect(await page.locator("section[aria-label='By release'] tbody tr").count()).toBeGreaterThan(0);
  expect(await page.locator("section[aria-label='Recent failing calls'] tbody tr").count()).toBeGreaterThan(0);
  await page.screenshot({ path: shot("network-endpoint.png"), fullPage: true });
});

it("saves a URL template, previews a URL under it, and puts the list back", async () => {
  await page.goto(`${stack.url}/apps/${APP}/network/templates`);
  const textarea = page.locator("form[aria-label='Edit URL templates'] textarea");
  const before = await textarea.inputValue();
  await textarea.fill(`${before}\n/v1/products/:product/reviews`.trim());
  await page.getByRole("button", { name: "Save templates" }).click();
  await expect.poll(() => page.locator("[role=status]").textContent()).toContain("applies them to calls received after the change");

  await page.fill("input[name=preview]", "https://api.shop.example/v1/products/12345/reviews?page=2");
  await page.getByRole("button", { name: "Show its template" }).click();
  await expect.poll(() => page.locator("[data-template]").textContent()).toBe("/v1/products/:product/reviews");
  await page.screenshot({ path: shot("network-templates.png"), fullPage: true });

  await page.goto(`${stack.url}/apps/${APP}/network/templates`);
  await page.locator("form[aria-label='Edit URL templates'] textarea").fill(before);
  await page.getByRole("button", { name: "Save templates" }).click();
  await expect.poll(() => page.locator("[role=status]").textContent()).toMatch(/saved|No URL templates now/);
  expect(await page.locator("form[aria-label='Edit URL templates'] textarea").inputValue()).toBe(before);
});
