// Saved insights and dashboards as a person uses them, in Debian's Chromium against the local
// stack: a trend of the demo app saved from its page, a dashboard made and the trend added as a
// card that draws its chart, the dashboard's range applied to the card and its link, Refresh,
// the card's link back to the trend's page with its definition, and a funnel, retention, paths
// and stickiness saved from their pages beside it. Screenshots: test-results/insights-dashboard.png
// (every kind of card), insights-dashboards.png (the list), insights-saved.png (one saved insight)
// and insights-demo-dashboard.png (the dashboard a fresh `npm start` seeds).
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;
// The stack's D1 outlives a run of this file: names of this run only.
const run = Date.now().toString(36);
const INSIGHT = `Daily visitors ${run}`;
const BOARD = `Growth ${run}`;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("insights-dashboards"));
});

afterAll(async () => {
  await chrome?.close();
});

/** Saves the insight the page at `path` shows, once `ready` finds it rendered. */
async function saveFrom(path: string, name: string, ready: (p: Page) => Promise<boolean>): Promise<void> {
  await openWhen(page, path, ready, name);
  await page.getByText("Save this insight").click();
  const form = page.getByRole("form", { name: "Save insight" });
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => page.getByRole("status").filter({ hasText: "Saved as" }).textContent()).toContain(name);
}

const drawn = (p: Page, scope = "") => p.locator(`${scope} [data-chart][data-drawn=true]`.trim());
// Whether data landed is read from what the server rendered: a chart's frame. The browser draws
// into it after hydration, which a busy machine may finish only after the page's load event.
const framed = (p: Page, chart = "") => p.locator(chart ? `[data-chart='${chart}']` : "[data-chart]");

it("saves a trend from its page, makes a dashboard, adds the trend as a card and sees its chart", async () => {
  // Unique people a day on pages over the week, as the trends page defines it in its URL.
  await openWhen(page, `/apps/${APP}/insights/trends?range=7d&type0=page&measure0=users&interval=day`, async (p) => (await framed(p).count()) > 0, "the demo app's trend");
  await expect.poll(() => drawn(page).count()).toBeGreaterThan(0);
  await page.getByText("Save this insight").click();
  const form = page.getByRole("form", { name: "Save insight" });
  await form.getByLabel("Name").fill(INSIGHT);
  await form.getByLabel("Description").fill("People who viewed a page, per day");
  await form.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => page.getByRole("status").filter({ hasText: "Saved as" }).textContent()).toContain(INSIGHT);

  await page.goto(`${stack.url}/dashboards`);
  expect(await page.locator("section[aria-label='Saved insights']").getByRole("link", { name: INSIGHT }).count()).toBe(1);
  const create = page.getByRole("form", { name: "New dashboard" });
  await create.getByLabel("Name").fill(BOARD);
  await create.getByLabel("Description").fill("What the growth team looks at on Mondays");
  await create.getByRole("button", { name: "Create dashboard" }).click();
  await page.waitForURL(/\/dashboards\/dsh_[0-9a-f]+$/);
  await expect.poll(() => page.locator("h1").textContent()).toBe(BOARD);

  const option = await page.locator("select[name=insightId] option", { hasText: INSIGHT }).getAttribute("value");
  await page.getByLabel("Saved insight").selectOption(option ?? "");
  await page.getByRole("button", { name: "Add card" }).click();
  const card = page.locator(`section.insight-card[aria-label='${INSIGHT}']`);
  await expect.poll(() => card.count()).toBe(1);
  await expect.poll(() => drawn(page, `section.insight-card[aria-label='${INSIGHT}']`).count()).toBe(1);
  expect(await card.textContent()).toContain("People who viewed a page, per day");
});

it("applies the dashboard's range to its cards, refreshes them, and links each card to its insight's page", async () => {
  await page.goto(`${stack.url}/dashboards`);
  expect(await page.locator("section[aria-label='Dashboards']").getByRole("row", { name: new RegExp(BOARD) }).textContent()).toContain("1");
  await page.screenshot({ path: shot("insights-dashboards.png"), fullPage: true });
  await page.getByRole("link", { name: BOARD }).click();
  await page.waitForURL(/\/dashboards\/dsh_/);
  // Until a range is chosen, each card keeps the one it was saved with.
  expect(await page.getByRole("link", { name: "each card's own" }).getAttribute("aria-current")).toBe("page");
  await page.locator("nav.range").getByRole("link", { name: "30d" }).click();
  await page.waitForURL(/range=30d/);
  const title = page.locator(`section.insight-card[aria-label='${INSIGHT}'] h2 a`);
  await expect.poll(async () => (await title.getAttribute("href")) ?? "").toContain("range=30d");
  await expect.poll(() => drawn(page, "section.insight-card").count()).toBe(1);

  await page.getByRole("button", { name: "Refresh" }).click();
  await page.waitForLoadState("networkidle");
  expect(new URL(page.url()).searchParams.get("range")).toBe("30d");
  await expect.poll(() => drawn(page, "section.insight-card").count()).toBe(1);

  const board = page.url();
  // The saved insight's own page: its card, its name and description to edit, and the dashboards to add it to.
  await page.goto(`${stack.url}/dashboards`);
  await page.locator("section[aria-label='Saved insights']").getByRole("link", { name: INSIGHT }).click();
  await page.waitForURL(/\/dashboards\/insights\/ins_/);
  await expect.poll(() => drawn(page, "section.insight-card").count()).toBe(1);
  await page.screenshot({ path: shot("insights-saved.png"), fullPage: true });
  await page.goto(board);

  await title.click();
  await page.waitForURL(new RegExp(`/apps/${APP}/insights/trends\\?.*range=30d`));
  expect(new URL(page.url()).searchParams.get("type0")).toBe("page");
  expect(new URL(page.url()).searchParams.get("measure0")).toBe("users");
  await expect.poll(() => drawn(page).count()).toBeGreaterThan(0);
  // Opened from the saved insight, the page offers to update it in place.
  await expect.poll(() => page.getByRole("form", { name: "Update saved insight" }).getByRole("button", { name: `Update “${INSIGHT}” to this definition` }).count()).toBe(1);
});

it("holds every kind of insight: a funnel, retention, paths and stickiness saved from their pages, beside the trend", async () => {
  const funnel = `Checkout funnel ${run}`;
  const others = [
    {
      name: funnel,
      path: `/apps/${APP}/insights/funnels?range=7d&step=Product+Viewed&step=Added+to+Cart&step=Checkout+Started&window=1d`,
      ready: async (p: Page) => (await framed(p, "Funnel").count()) > 0,
    },
    { name: `Daily retention ${run}`, path: `/apps/${APP}/insights/retention?range=7d&period=day`, ready: async (p: Page) => (await p.locator("table[aria-label=Cohorts]").count()) > 0 },
    { name: `Pages after the start ${run}`, path: `/apps/${APP}/insights/paths?range=7d&kind=pages&depth=3`, ready: async (p: Page) => (await p.locator("table[aria-label='Top paths']").count()) > 0 },
    { name: `Days active a week ${run}`, path: `/apps/${APP}/insights/stickiness?range=30d`, ready: async (p: Page) => (await p.locator("table[aria-label='Days active']").count()) > 0 },
  ];
  for (const o of others) await saveFrom(o.path, o.name, o.ready);

  await page.goto(`${stack.url}/dashboards`);
  await page.getByRole("link", { name: BOARD }).click();
  await page.waitForURL(/\/dashboards\/dsh_[0-9a-f]+$/);
  for (const o of others) {
    const option = await page.locator("select[name=insightId] option", { hasText: o.name }).getAttribute("value");
    await page.getByLabel("Saved insight").selectOption(option ?? "");
    await page.getByRole("button", { name: "Add card" }).click();
    await expect.poll(() => page.locator(`section.insight-card[aria-label='${o.name}']`).count()).toBe(1);
  }
  // The trend across the grid's two columns, the funnel first.
  await page.locator(`section.insight-card[aria-label='${INSIGHT}']`).getByRole("button", { name: "⇔" }).click();
  await expect.poll(() => page.locator("section.insight-card.w2").count()).toBe(1);
  const move = page.locator(`section.insight-card[aria-label='${funnel}']`).getByRole("button", { name: "↑" });
  await move.click();
  await expect.poll(() => page.locator("section.insight-card").nth(0).getAttribute("aria-label")).toBe(funnel);

  await expect.poll(() => page.locator("section.insight-card").count()).toBe(5);
  expect(await page.locator("section.insight-card [role=alert]").count()).toBe(0);
  for (const name of [INSIGHT, funnel, others[1]?.name ?? "", others[3]?.name ?? ""]) await expect.poll(() => drawn(page, `section.insight-card[aria-label='${name}']`).count()).toBe(1);
  // A card still computing when the page answered fills in as the page reloads it.
  for (const table of ["Cohorts", "Top paths"]) await expect.poll(() => page.locator(`section.insight-card table[aria-label='${table}']`).count(), { message: table }).toBe(1);
  await page.screenshot({ path: shot("insights-dashboard.png"), fullPage: true });
});

it("a fresh stack opens with the demo's Growth dashboard: five saved insights of the demo app, each drawn", async () => {
  await page.goto(`${stack.url}/dashboards`);
  await page.getByRole("link", { name: "Growth", exact: true }).first().click();
  await page.waitForURL(/\/dashboards\/dsh_[0-9a-f]+$/);
  const names = ["Daily visitors", "Checkout funnel", "Daily retention", "Pages after the start", "Days active a week"];
  await expect.poll(() => page.locator("section.insight-card").evaluateAll((cards) => cards.map((c) => c.getAttribute("aria-label")))).toEqual(names);
  expect(await page.locator("section.insight-card [role=alert]").count()).toBe(0);
  for (const name of ["Daily visitors", "Checkout funnel", "Daily retention", "Days active a week"]) await expect.poll(() => drawn(page, `section.insight-card[aria-label='${name}']`).count()).toBe(1);
  await expect.poll(() => page.locator("section.insight-card table[aria-label='Top paths']").count()).toBe(1);
  expect(await page.getByText(/computed every 15 minutes/).count()).toBe(1);
  await page.screenshot({ path: shot("insights-demo-dashboard.png"), fullPage: true });
});
