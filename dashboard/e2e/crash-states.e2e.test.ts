// Issue states, grouping rules and release health as a person uses them, in Debian's Chromium
// against the local stack: resolve the demo app's crash issue and see the list follow, reopen it,
// add a grouping rule, and read the releases page with its charts drawn. Screenshots go to
// test-results/crash-issue-state.png, crash-rules.png and releases.png. What it changes it undoes, so the
// other browser tests see the demo app as `npm start` seeds it.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;
let issuePath = "";

beforeAll(async () => {
  ({ chrome, page } = await signedIn("crash-states"));
});

afterAll(async () => {
  await chrome?.close();
});

const statusSection = (p: Page) => p.locator("section[aria-label='Issue status']");
const issueRows = (p: Page) => p.locator("section[aria-label='Issues'] tbody tr");

/** The list at `query`, reloaded until the demo's crashes have landed. */
const listWithIssues = (p: Page, query: string): Promise<void> =>
  openWhen(p, `/apps/${APP}/crashes?${query}`, async (q) => (await issueRows(q).count()) > 0, "the demo app's crashes", 40_000);

it("resolves the demo app's issue, which leaves the unresolved list and shows under resolved, and reopens it", async () => {
  await listWithIssues(page, "range=7d");
  const row = issueRows(page).first();
  const fingerprint = (await row.getAttribute("data-fingerprint")) ?? "";
  expect(fingerprint).not.toBe("");
  await row.locator("a").first().click();
  await page.waitForURL(/\/apps\/app_demo\/crashes\/[^/?]+/);
  issuePath = new URL(page.url()).pathname;
  await expect.poll(() => statusSection(page).locator("[data-status]").textContent()).toBe("Unresolved");
  await page.screenshot({ path: shot("crash-issue-state.png") });

  await statusSection(page).getByRole("button", { name: "Resolve", exact: true }).click();
  await expect.poll(() => statusSection(page).locator("[data-status]").textContent()).toBe("Resolved");
  await expect.poll(() => statusSection(page).locator("[role=status]").textContent()).toContain("Resolved.");

  await page.goto(`${stack.url}/apps/${APP}/crashes?range=7d`);
  expect(await page.locator(`tr[data-fingerprint="${fingerprint}"]`).count()).toBe(0);
  await page.goto(`${stack.url}/apps/${APP}/crashes?range=7d&status=resolved`);
  await expect.poll(() => page.locator(`tr[data-fingerprint="${fingerprint}"]`).count()).toBe(1);

  await page.goto(`${stack.url}${issuePath}?range=7d`);
  await statusSection(page).getByRole("button", { name: "Reopen", exact: true }).click();
  await expect.poll(() => statusSection(page).locator("[data-status]").textContent()).toBe("Unresolved");
  await page.goto(`${stack.url}/apps/${APP}/crashes?range=7d`);
  await expect.poll(() => page.locator(`tr[data-fingerprint="${fingerprint}"]`).count()).toBe(1);
});

it("adds a grouping rule on the rules page, which says it applies to new crashes only", async () => {
  await page.goto(`${stack.url}/apps/${APP}/crashes/rules`);
  await expect.poll(() => page.locator("main").textContent()).toContain("do not regroup");
  const form = page.locator("form[aria-label='Add a rule']");
  await form.locator("input[name=type]").fill("ChunkLoadError");
  await form.locator("input[name=message]").fill("Loading chunk * failed");
  await form.locator("input[name=label]").fill("Chunk loading");
  await form.getByRole("button", { name: "Add rule" }).click();
  await expect.poll(() => page.locator("[role=status]").textContent()).toContain("Rule added");
  await expect.poll(() => page.locator("table.rules tbody tr").count()).toBe(1);
  expect(await page.locator("table.rules tbody tr").first().textContent()).toContain("ChunkLoadError");
  await page.screenshot({ path: shot("crash-rules.png"), fullPage: true });

  await page.getByRole("button", { name: "Delete" }).click();
  await expect.poll(() => page.locator("table.rules tbody tr").count()).toBe(0);
});

it("shows release health with its crash-free charts drawn", async () => {
  await page.goto(`${stack.url}/apps/${APP}/releases?range=7d`);
  await expect.poll(() => page.locator("table.releases tbody tr").count()).toBeGreaterThan(0);
  await page.waitForSelector("[data-chart][data-drawn=true] canvas");
  await expect.poll(() => page.locator("[data-chart][data-drawn=true]").count()).toBe(2);
  await expect.poll(() => page.locator("table.releases tbody").textContent()).toMatch(/%/);
  await page.screenshot({ path: shot("releases.png"), fullPage: true });
});
