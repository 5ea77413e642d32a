// Retention and paths as a person reads them, in Debian's Chromium against the local stack and
// its demo app: the weekly cohort table with its curve drawn, then the pages people visit after
// the home page as a chart and ranked paths, and the people on the top path in the users view.
// Screenshots go to test-results/insights-retention.png, insights-paths.png and
// insights-path-people.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn } from "./demo";

let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("insights-retention-paths"));
});

afterAll(async () => {
  await chrome?.close();
});

it("shows the demo week's daily cohorts with sizes, shares back and the average curve, by a definition in the URL", async () => {
  await openWhen(page, `/apps/${APP}/insights/retention?range=7d&period=day`, async (p) => (await p.locator("table.retention tbody tr").count()) >= 7, "the demo's cohorts");
  const firstCohort = page.locator("table.retention tbody tr").first();
  expect(Number((await firstCohort.locator("td").nth(1).textContent())?.replace(/,/g, ""))).toBeGreaterThan(0);
  // Counts are in each cell's title, shares in its text.
  expect(await firstCohort.locator("td").nth(2).getAttribute("title")).toMatch(/^\d[\d,]* of \d[\d,]* people$/);
  expect(await firstCohort.locator("td").nth(2).textContent()).toMatch(/%$/);
  await page.waitForSelector("[data-chart='Retention curve'][data-drawn=true] canvas");
  await page.screenshot({ path: shot("insights-retention.png"), fullPage: true });

  // The form rewrites the URL: cohorts of the people who signed up, coming back to order.
  await page.fill("input[name=start]", "Signed Up");
  await page.fill("input[name=return]", "Order Completed");
  await page.click("form[aria-label='Retention definition'] button[type=submit]");
  await page.waitForURL(/start=Signed\+Up&return=Order\+Completed/);
  await expect.poll(() => page.locator("section[aria-label=Retention] h2").textContent()).toContain("First “Signed Up” → back with “Order Completed”");
});

it("draws the pages people visit after the home page and lists the people on the top path", async () => {
  await openWhen(page, `/apps/${APP}/insights/paths?range=7d&kind=pages&start=%2F&depth=4`, async (p) => (await p.locator("table.paths tbody tr").count()) > 1, "the demo's paths");
  // The chart: one column a step, the start alone in the first.
  expect(await page.locator("svg[role=img] g[data-node='/']").count()).toBeGreaterThan(0);
  expect(await page.locator("svg[role=img] rect").count()).toBeGreaterThan(4);
  // The busiest path that goes on from the home page (many visits end on it).
  const top = page.locator("table.paths tbody tr").filter({ hasText: "→" }).first();
  expect(await top.locator("td").first().textContent()).toMatch(/^\/ → /);
  await page.screenshot({ path: shot("insights-paths.png"), fullPage: true });

  const people = Number((await top.locator("td").nth(1).textContent())?.replace(/,/g, ""));
  await top.locator("td").nth(1).getByRole("link").click();
  await page.waitForURL(/\/users\?.*paths=/);
  await expect.poll(() => page.locator("[role=status]").first().textContent()).toContain("People whose path was");
  // Never more people than the path counted (a page holds 50).
  const rows = await page.locator("section[aria-label='Users list'] tbody tr").count();
  expect(rows).toBeGreaterThan(0);
  expect(rows).toBeLessThanOrEqual(Math.min(people, 50));
  await page.waitForSelector("[data-chart='Active users per day'][data-drawn=true] canvas");
  await page.screenshot({ path: shot("insights-path-people.png"), fullPage: true });
});
