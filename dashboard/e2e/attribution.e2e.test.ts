// Attribution as a person reads it, in Debian's Chromium against the local stack and its demo app,
// whose web visits land from a newsletter, an ad click, social and search links: the report with
// the five models side by side, revenue by the same channels, a buyer's touch path, and a new
// conversion added in the settings. Screenshots go to test-results/attribution.png,
// attribution-revenue.png and attribution-person.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("attribution"));
});

afterAll(async () => {
  await chrome?.close();
});

const table = (p: Page) => p.locator("table.attribution-table");

it("credits the demo's purchases to their campaigns under the five models, each column adding up", async () => {
  await openWhen(page, `/apps/${APP}/attribution?range=7d&conversion=purchase`, async (p) => ((await table(p).textContent()) ?? "").includes("black-friday"), "the demo's landing pages");
  const text = (await table(page).textContent()) ?? "";
  for (const channel of ["newsletter", "google", "facebook", "t.co", "news.ycombinator.com", "partner-blog", "(direct)"]) expect(text).toContain(channel);
  expect(text).toContain("cpc");
  expect(text).toContain("search");
  const heads = await table(page).locator("thead th").allTextContents();
  expect(heads).toEqual(["Source", "Medium", "Campaign", "Content", "First touch", "Last touch", "Linear", "Time decay", "Position-based", "Touches", "Touch to conversion"]);
  // Each model's column adds up to the purchases.
  const total = Number(((await page.locator(".stats .stat .value").first().textContent()) ?? "").replace(/,/g, ""));
  expect(total).toBeGreaterThan(0);
  for (let col = 5; col <= 9; col++) {
    const cells = await table(page).locator(`tbody tr td:nth-child(${col})`).allTextContents();
    const sum = cells.reduce((n, c) => n + Number(c.replace(/,/g, "")), 0);
    expect(Math.abs(sum - total)).toBeLessThan(0.05 * cells.length);
  }
  await page.screenshot({ path: shot("attribution.png"), fullPage: true });
});

it("shows revenue credited by the same channels", async () => {
  await page.goto(`${stack.url}/apps/${APP}/attribution?range=7d&conversion=purchase&show=revenue`);
  await expect.poll(() => page.locator("section[aria-label='Credit by channel'] h2").textContent()).toContain("Revenue credited");
  expect(await table(page).locator("tbody tr").first().locator("td").nth(4).textContent()).toMatch(/^\d[\d,]*\.\d\d$/);
  await page.screenshot({ path: shot("attribution-revenue.png"), fullPage: true });
});

it("opens a buyer's touch path from the latest purchases, and looks a person up by id", async () => {
  await page.goto(`${stack.url}/apps/${APP}/attribution?range=7d&conversion=purchase`);
  const latest = page.locator("table.attribution-recent tbody tr").first().locator("a");
  const buyer = (await latest.textContent()) ?? "";
  // Whoever bought last: the demo's customers, or a buyer other tests on the same stack sent.
  expect(buyer).not.toBe("");
  await latest.click();
  await page.waitForURL(/\/attribution\/people\?/);
  await expect.poll(() => page.locator("h1").textContent()).toBe(`Touch path of ${buyer}`);
  expect(await page.locator("section[aria-label^='Conversion at'] table tbody tr").count()).toBeGreaterThan(0);
  await page.screenshot({ path: shot("attribution-person.png"), fullPage: true });

  await page.goto(`${stack.url}/apps/${APP}/attribution?range=7d&conversion=purchase`);
  await page.getByLabel("User id (or anonymous id)").fill(buyer);
  await page.getByRole("button", { name: "Show their conversions" }).click();
  await page.waitForURL(/\/attribution\/people\?/);
  await expect.poll(() => page.locator("h1").textContent()).toBe(`Touch path of ${buyer}`);
});

it("adds a conversion in the settings and reports on it", async () => {
  await page.goto(`${stack.url}/apps/${APP}/attribution?range=7d`);
  const form = page.locator("form[aria-label='Edit attribution settings']");
  const rows = await form.locator("tbody tr").count();
  await form.getByLabel(`Conversion ${rows} name`).fill("Carts");
  await form.getByLabel(`Conversion ${rows} event`).fill("Added to Cart");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect.poll(() => page.locator(".card.notice, .notice").first().textContent()).toContain("Attribution settings saved");
  await page.locator("select[name=conversion]").selectOption("carts");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/conversion=carts/);
  await expect.poll(() => page.locator(".stats .stat .label").first().textContent()).toBe("Carts");
  expect(Number(((await page.locator(".stats .stat .value").first().textContent()) ?? "0").replace(/,/g, ""))).toBeGreaterThan(0);
});
