// Feature flags and remote config as a person manages them, in Debian's Chromium against the
// local stack: a new on/off flag, a rule "20 % of users with plan in pro → on" built in the
// editor and seen in the list's summary and served by the edge, the kill switch, an earlier
// version restored from the history, a user tested; then the configuration with a JSON Schema
// that refuses a typo, a valid save, the diff between versions and a restore, also seen at the
// edge. The flag is deleted and the configuration put back at the end, so other browser tests
// see the demo app as seeded. Screenshots: test-results/flags.png, flag.png and config.png.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { bucket } from "../../workers/flags/evaluate";
import { DEMO_APP as APP, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;
/** What the pages threw in the browser: a broken editor shows here before any assertion fails. */
const pageErrors: string[] = [];
const sdk = inject("sdkStack");
const KEY = `e2e-flag-${Date.now()}`;
const CONFIG_KEY = `e2e_${Date.now()}`;
// A user the 20 % rollout lets in: its bucket for this flag is below 0.2, as the edge computes it.
const PRO_USER = Array.from({ length: 1000 }, (_, i) => `pro-user-${i}`).find((id) => bucket(`${KEY}.${id}`) < 0.2) ?? "pro-user-0";

beforeAll(async () => {
  ({ chrome, page } = await signedIn("flags"));
  page.on("pageerror", (err) => pageErrors.push(err.message));
});

afterAll(async () => {
  await chrome?.close();
});

interface EdgeAnswer {
  config: Record<string, unknown>;
  flags: Record<string, { variant: string; value: unknown }>;
}

/** What a device of `userId` with `traits` gets from the edge now. */
async function atEdge(userId: string, traits: Record<string, unknown>): Promise<EdgeAnswer> {
  const q = new URLSearchParams({ writeKey: sdk.writeKey, userId, traits: JSON.stringify(traits) });
  const res = await fetch(`${stack.edge}/v1/config?${q}`);
  expect(res.status).toBe(200);
  return (await res.json()) as EdgeAnswer;
}

// The edge rechecks an app's definitions every 5 s; a generous wait, and no claim on how long it took.
const EDGE_WAIT = { timeout: 30_000, interval: 500 };

const row = (p: Page) => p.locator(`table.flags tbody tr[data-key='${KEY}']`);
const status = (p: Page) => p.locator("[role=status]").first().textContent();

it("creates an on/off flag from the list, off for everyone", async () => {
  await page.goto(`${stack.url}/apps/${APP}/flags`);
  const form = page.locator("form[aria-label='Create flag']");
  await form.locator("input[name=key]").fill(KEY);
  await form.locator("input[name=name]").fill("Pro checkout");
  await form.getByRole("button", { name: "Create flag" }).click();
  await expect.poll(() => status(page)).toContain("Flag “Pro checkout” created");
  await expect.poll(() => row(page).count()).toBe(1);
  expect(await row(page).locator(".flag-summary").textContent()).toBe("everyone → off");
  await expect.poll(async () => (await atEdge(PRO_USER, { plan: "pro" })).flags[KEY]?.variant, EDGE_WAIT).toBe("off");
});

it("adds a rule with a condition and a 20 % rollout in the editor, saves it, and the list and the edge follow", async () => {
  await row(page).getByRole("link", { name: "Pro checkout" }).click();
  await page.waitForURL(`${stack.url}/apps/${APP}/flags/${KEY}`);
  // The structured editor replaces the JSON field once the page runs.
  const addRule = page.getByRole("button", { name: "Add rule" });
  await addRule.waitFor();
  await addRule.click();
  const rule = page.locator("li[aria-label='Rule 1']");
  await rule.getByRole("button", { name: "Add condition" }).click();
  await rule.getByLabel("Rule 1 condition 1 subject").selectOption("trait");
  await rule.getByLabel("Rule 1 condition 1 trait").fill("plan");
  await rule.getByLabel("Rule 1 condition 1 operator").selectOption("in");
  await rule.getByLabel("Rule 1 condition 1 values").fill("pro, enterprise");
  await rule.getByLabel("Rule 1 rollout %").fill("20");
  await rule.getByLabel("Rule 1 serve variant").selectOption("on");
  await page.getByRole("button", { name: "Save flag" }).click();
  await expect.poll(() => status(page)).toContain("Saved as version 2");
  // The notice comes with the action's answer, the page's new data a moment later.
  await expect.poll(() => page.locator(".flag-summary-line").textContent()).toBe("20 % of users with plan in pro, enterprise → on; else off");

  await expect.poll(async () => (await atEdge(PRO_USER, { plan: "pro" })).flags[KEY]?.variant, EDGE_WAIT).toBe("on");
  expect((await atEdge(PRO_USER, { plan: "free" })).flags[KEY]?.variant).toBe("off");

  await page.goto(`${stack.url}/apps/${APP}/flags`);
  expect(await row(page).locator(".flag-summary").textContent()).toBe("20 % of users with plan in pro, enterprise → on; else off");
});

it("refuses a split whose weights do not add up to 100, saying so next to its rule, and saves nothing", async () => {
  await page.goto(`${stack.url}/apps/${APP}/flags/${KEY}`);
  await page.getByRole("button", { name: "Add rule" }).click();
  const rule = page.locator("li[aria-label='Rule 2']");
  await rule.getByLabel("Rule 2 serve kind").selectOption("split");
  await rule.getByLabel("Rule 2 serve split 1 weight").fill("30");
  await page.getByRole("button", { name: "Save flag" }).click();
  await expect.poll(() => rule.locator("[role=alert]").textContent()).toContain("add up to 80, not 100");
  expect(await page.locator("[role=alert]").first().textContent()).toContain("Nothing was saved");

  // The refused rule moved first, then removed: the saved rule is back where it was, unchanged.
  await rule.getByRole("button", { name: "move up" }).click();
  expect(await page.locator("li[aria-label='Rule 1']").getByLabel("Rule 1 serve kind").inputValue()).toBe("split");
  await page.locator("li[aria-label='Rule 1']").getByRole("button", { name: "remove rule" }).click();
  expect(await page.locator("ol.flag-rules > li").count()).toBe(1);
  expect(await page.getByLabel("Rule 1 rollout %").inputValue()).toBe("20");
  await page.reload();
  expect(await page.locator("li[aria-label='Rule 2']").count()).toBe(0);
});

it("switches the flag off from the list and restores the version before from its history", async () => {
  await page.goto(`${stack.url}/apps/${APP}/flags`);
  await row(page).getByRole("button", { name: "Switch off" }).click();
  await expect.poll(() => status(page)).toContain("switched off");
  await expect.poll(() => row(page).locator(".flag-summary").textContent()).toBe("switched off: everyone → off");
  await expect.poll(async () => (await atEdge(PRO_USER, { plan: "pro" })).flags[KEY]?.variant, EDGE_WAIT).toBe("off");

  await row(page).getByRole("link", { name: "Pro checkout" }).click();
  await page.waitForURL(`${stack.url}/apps/${APP}/flags/${KEY}`);
  const history = page.locator("table.version-history tbody tr");
  expect(await history.first().textContent()).toMatch(/^3.*enabled\s*true → false/);
  await page.getByRole("form", { name: "Restore version 2" }).getByRole("button").click();
  await expect.poll(() => status(page)).toContain("Version 2 restored as version 4");
  await expect.poll(() => history.first().textContent()).toMatch(/^4.*enabled\s*false → true/);
  await expect.poll(async () => (await atEdge(PRO_USER, { plan: "pro" })).flags[KEY]?.variant, EDGE_WAIT).toBe("on");
});

it("tests a user: the variant served and the rule that served it", async () => {
  const form = page.locator("form[aria-label='Test a user']");
  await form.locator("input[name=userId]").fill(PRO_USER);
  await form.locator("input[name=platform]").fill("ios");
  await form.locator("textarea[name=traits]").fill('{"plan": "pro"}');
  await form.getByRole("button", { name: "Test" }).click();
  await expect.poll(() => form.locator(".flag-answer").textContent()).toBe("Serves on true, because rule 1: 20 % of users with plan in pro, enterprise → on.");
  await page.screenshot({ path: shot("flag.png"), fullPage: true });

  await form.locator("textarea[name=traits]").fill('{"plan": "free"}');
  await form.getByRole("button", { name: "Test" }).click();
  await expect.poll(() => form.locator(".flag-answer").textContent()).toContain("no rule served this user, so it got the fallthrough");

  await page.goto(`${stack.url}/apps/${APP}/flags`);
  await page.screenshot({ path: shot("flags.png"), fullPage: true });
});

it("saves the configuration only when its schema allows it, shows each version's diff, restores one, and the edge serves it", async () => {
  await page.goto(`${stack.url}/apps/${APP}/config`);
  const form = page.locator("form[aria-label='Save configuration']");
  const original = { config: await form.locator("textarea[name=config]").inputValue(), schema: await form.locator("textarea[name=schema]").inputValue() };
  let version = Number(await form.locator("input[name=version]").inputValue());
  // The notice comes with the action's answer, the form's new version a moment later: the next edit waits for it.
  const saved = async () => {
    version += 1;
    await expect.poll(() => form.locator("input[name=version]").inputValue()).toBe(String(version));
  };
  const base = JSON.parse(original.config) as Record<string, unknown>;
  const schema = JSON.stringify({ type: "object", properties: { [CONFIG_KEY]: { type: "object", properties: { retries: { type: "integer" } }, required: ["retries"] } } });
  const saveWith = async (retries: unknown, note: string) => {
    await form.locator("textarea[name=config]").fill(JSON.stringify({ ...base, [CONFIG_KEY]: { retries } }, null, 2));
    await form.locator("textarea[name=schema]").fill(schema);
    await form.locator("input[name=note]").fill(note);
    await form.getByRole("button", { name: "Save" }).click();
  };

  await saveWith("three", "a typo");
  await expect.poll(() => form.locator("[role=alert]").textContent()).toContain(`${CONFIG_KEY}/retries`);
  await saveWith(3, "three retries");
  await saved();
  await saveWith(5, "five retries");
  await saved();
  const newest = page.locator("table.version-history tbody tr").first();
  expect(await newest.textContent()).toContain(`config.${CONFIG_KEY}.retries 3 → 5`);
  await expect.poll(async () => (await atEdge("someone", {})).config[CONFIG_KEY], EDGE_WAIT).toEqual({ retries: 5 });

  const three = version - 1;
  await page.getByRole("form", { name: `Restore version ${three}` }).getByRole("button").click();
  await expect.poll(() => status(page)).toContain(`Version ${three} restored`);
  await saved();
  expect(await newest.textContent()).toContain(`rollback to version ${three}`);
  expect(JSON.parse(await form.locator("textarea[name=config]").inputValue())).toMatchObject({ [CONFIG_KEY]: { retries: 3 } });
  await expect.poll(async () => (await atEdge("someone", {})).config[CONFIG_KEY], EDGE_WAIT).toEqual({ retries: 3 });
  expect(await page.locator("main").textContent()).toContain(`t.getConfig("`);
  await page.screenshot({ path: shot("config.png"), fullPage: true });

  // Put the demo's configuration back as it was.
  await form.locator("textarea[name=config]").fill(original.config);
  await form.locator("textarea[name=schema]").fill(original.schema);
  await form.locator("input[name=note]").fill("end of the flags browser test");
  await form.getByRole("button", { name: "Save" }).click();
  await saved();
  expect(await newest.textContent()).toContain("end of the flags browser test");
});

it("deletes the flag, after asking", async () => {
  await page.goto(`${stack.url}/apps/${APP}/flags/${KEY}`);
  await page.getByRole("button", { name: "Delete flag" }).click();
  await page.waitForURL(`${stack.url}/apps/${APP}/flags`);
  expect(await row(page).count()).toBe(0);
  await expect.poll(async () => Object.keys((await atEdge(PRO_USER, { plan: "pro" })).flags), EDGE_WAIT).not.toContain(KEY);
});

it("ran without an error in the browser", () => {
  expect(pageErrors).toEqual([]);
});
