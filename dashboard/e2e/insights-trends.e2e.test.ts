// Trends as a person uses them, in Debian's Chromium against the local stack: the insights
// index, then a trend of the demo app's product views built in the form (its definition then in
// the URL), broken down by platform as lines, the same trend as a table of every day, and the
// stickiness of product views; custom days picked in the range picker. Screenshots:
// test-results/insights-index.png, insights-trends.png, insights-custom-range.png and
// insights-stickiness.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("insights-trends"));
});

afterAll(async () => {
  await chrome?.close();
});

it("lists every kind of insight on the app's Insights tab", async () => {
  await page.goto(`${stack.url}/apps/${APP}`);
  await page.getByRole("navigation", { name: "App views" }).getByRole("link", { name: "Insights" }).click();
  await page.waitForURL(`**/apps/${APP}/insights`);
  const kinds = page.getByRole("list", { name: "Insight types" }).getByRole("listitem");
  // A client-side navigation changes the URL before the new page is drawn: poll for the list.
  await expect.poll(() => kinds.evaluateAll((items) => items.map((i) => i.querySelector("h2")?.textContent ?? ""))).toEqual(["Trends", "Funnels", "Retention", "Paths", "Stickiness"]);
  await page.screenshot({ path: shot("insights-index.png"), fullPage: true });
});

const totals = (p: Page) => p.locator("table[aria-label='Totals'] tbody tr");

it("builds a trend in the form and breaks it down by platform as lines", async () => {
  // The demo's events may still be arriving: wait until the event list offers product views.
  await openWhen(page, `/apps/${APP}/insights/trends?range=7d`, async (p) => (await p.locator("datalist#insight-events option[value='Product Viewed']").count()) > 0, "the demo app's track events");
  const form = page.getByRole("form", { name: "Trend definition" });
  const first = form.getByRole("group", { name: "Series 1" });
  await first.getByLabel("Event").fill("Product Viewed");
  await first.getByLabel("Measure").selectOption("users");
  await form.locator("select[name=breakdown]").selectOption("platform");
  await form.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/breakdown=platform/);
  const q = new URL(page.url()).searchParams;
  expect([q.get("event0"), q.get("measure0"), q.get("breakdown")]).toEqual(["Product Viewed", "users", "platform"]);
  await expect.poll(() => page.locator("[data-chart=Trend][data-drawn=true]").count()).toBe(1);
  // A line per platform the demo's shoppers used, each with people in it.
  await expect.poll(() => totals(page).count()).toBeGreaterThan(1);
  const people = await totals(page).evaluateAll((rows) => rows.map((r) => Number((r.children[1]?.textContent ?? "").replace(/,/g, ""))));
  expect(people.every((n) => n > 0)).toBe(true);
  // The form keeps the definition and offers a spare row for a second series.
  expect(await form.getByRole("group", { name: "Series 2" }).getByLabel("Measure").inputValue()).toBe("none");
  expect(await page.getByRole("link", { name: "Export CSV" }).getAttribute("href")).toContain(`/apps/${APP}/insights/trends.csv?`);
  await page.screenshot({ path: shot("insights-trends.png"), fullPage: true });
});

it("shows the same trend as a table of days, and the link keeps it", async () => {
  const form = page.getByRole("form", { name: "Trend definition" });
  await form.locator("select[name=display]").selectOption("table");
  await form.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/display=table/);
  const table = page.locator("table[aria-label='Trend table']");
  await expect.poll(() => table.locator("tbody tr").count()).toBeGreaterThan(1);
  // A column per UTC day the 7 days touch (eight, or seven when the range starts at midnight), after the line and its total.
  const columns = await table.locator("thead th").count();
  expect(columns === 2 + 8 || columns === 2 + 7).toBe(true);
  await page.reload();
  expect(await table.locator("tbody tr").count()).toBeGreaterThan(1);
});

it("picks custom days in the range picker: a column per day, kept by the trend's form", async () => {
  const day = (ago: number): string => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
  const picker = page.getByRole("navigation", { name: "Time range" });
  await picker.getByText("Custom").click();
  await picker.getByLabel("From").fill(day(3));
  await picker.getByLabel("To").fill(day(0));
  await picker.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/range=custom/);
  const table = page.locator("table[aria-label='Trend table']");
  // Four whole UTC days, both ends included, after the line and its total.
  await expect.poll(() => table.locator("thead th").count()).toBe(2 + 4);
  expect(await picker.locator("summary[aria-current=page]").textContent()).toBe(`${day(3)} – ${day(0)}`);
  await page.screenshot({ path: shot("insights-custom-range.png"), fullPage: true });
  // The trend's own form carries the days along.
  const form = page.getByRole("form", { name: "Trend definition" });
  await form.locator("select[name=display]").selectOption("line");
  await form.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/display=line/);
  const q = new URL(page.url()).searchParams;
  expect([q.get("range"), q.get("from"), q.get("to")]).toEqual(["custom", day(3), day(0)]);
});

it("counts the days of the week people came back to view products", async () => {
  await page.goto(`${stack.url}/apps/${APP}/insights`);
  await page.getByRole("list", { name: "Insight types" }).getByRole("link", { name: "Stickiness" }).click();
  await page.waitForURL(`**/apps/${APP}/insights/stickiness`);
  const form = page.getByRole("form", { name: "Stickiness definition" });
  await form.getByLabel("Event").fill("Product Viewed");
  await form.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/event=Product/);
  await expect.poll(() => page.locator("[data-drawn=true]").count()).toBe(1);
  // Every person-week counted once, by its days: the table's shares add up to the whole.
  const shares = await page.locator("table[aria-label='Days active'] tbody tr td:nth-child(3)").allTextContents();
  expect(shares.length).toBeGreaterThan(0);
  const total = shares.reduce((sum, s) => sum + Number(s.replace(/[^\d.]/g, "")), 0);
  expect(Math.abs(total - 100)).toBeLessThan(0.5 * shares.length);
  await page.screenshot({ path: shot("insights-stickiness.png"), fullPage: true });
});
