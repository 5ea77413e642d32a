// The funnel insight as a person uses it, in Debian's Chromium against the local stack: a
// funnel of the demo app's shop events built step by step in the form (its definition then in
// the URL), its bars drawn, broken down by platform, and the people who dropped at a step opened
// in the users view. Screenshots: test-results/insights-funnel.png and insights-funnel-dropped.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn } from "./demo";

let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("insights-funnels"));
});

afterAll(async () => {
  await chrome?.close();
});

const stepRows = (p: Page) => p.locator("table[aria-label='Steps'] tbody tr");
/** The people column of the steps table, as numbers. */
const peopleByStep = (p: Page): Promise<number[]> => stepRows(p).evaluateAll((rows) => rows.map((r) => Number((r.children[1]?.textContent ?? "").replace(/,/g, ""))));

it("builds a funnel from the form, draws its steps and breaks it down by platform", async () => {
  // The page without steps asks for them; the demo's events may still be arriving.
  await openWhen(page, `/apps/${APP}/insights/funnels?range=7d`, async (p) => (await p.locator("datalist#funnel-steps option[value='Added to Cart']").count()) > 0, "the demo app's shop events");
  await expect.poll(() => page.getByRole("heading", { name: "Pick the steps of a funnel" }).count()).toBe(1);
  const form = page.getByRole("form", { name: "Funnel definition" });
  // Each submit adds a spare row for the next step.
  for (const [i, event] of ["Product Viewed", "Added to Cart", "Checkout Started"].entries()) {
    await form.getByRole("group", { name: `Step ${i + 1}` }).getByLabel("Add a step").fill(event);
    await form.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByRole("group", { name: `Step ${i + 2}` }).count()).toBe(1);
  }
  expect(new URL(page.url()).searchParams.getAll("step")).toEqual(["Product Viewed", "Added to Cart", "Checkout Started"]);
  await expect.poll(() => page.locator("[data-chart=Funnel][data-drawn=true]").count()).toBe(1);
  const counts = await peopleByStep(page);
  // People thin out step by step, and some of the demo's shoppers get to checkout.
  expect(counts).toHaveLength(3);
  expect(counts[0]).toBeGreaterThan(0);
  expect(counts).toEqual([...counts].sort((a, b) => b - a));
  expect(counts[2]).toBeGreaterThan(0);

  await form.locator("select[name=breakdown]").selectOption("platform");
  await form.getByRole("button", { name: "Apply" }).click();
  await expect.poll(() => page.locator("table[aria-label='Breakdown'] tbody tr").count()).toBeGreaterThan(1);
  expect(new URL(page.url()).searchParams.get("breakdown")).toBe("platform");
  await expect.poll(() => page.locator("[data-chart=Funnel][data-drawn=true]").count()).toBe(1);
  expect(await page.getByRole("link", { name: "Export CSV" }).getAttribute("href")).toContain(`/apps/${APP}/insights/funnels.csv?`);
  await page.screenshot({ path: shot("insights-funnel.png"), fullPage: true });
});

it("opens the people who dropped at a step in the users view", async () => {
  const dropped = stepRows(page).nth(1).getByRole("link", { name: /people/ });
  const expected = Number(((await dropped.textContent()) ?? "").replace(/[^\d]/g, ""));
  expect(expected).toBeGreaterThan(0);
  await dropped.click();
  await page.waitForURL(/\/users\?/);
  await expect.poll(() => page.getByRole("status").filter({ hasText: "but not" }).textContent()).toContain("Added to Cart");
  const listed = await page.locator("section[aria-label='Users list'] tbody tr").count();
  // One page of the users view holds 50.
  expect(listed).toBe(Math.min(expected, 50));
  await page.screenshot({ path: shot("insights-funnel-dropped.png"), fullPage: true });
  await page.getByRole("status").getByRole("link", { name: "funnel" }).click();
  await page.waitForURL(/\/insights\/funnels\?/);
  await expect.poll(() => peopleByStep(page).then((c) => c.length)).toBe(3);
});
