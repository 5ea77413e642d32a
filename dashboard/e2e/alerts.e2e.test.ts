// An alert rule as a person sets one up, in Debian's Chromium against the local stack: an
// endpoint on the Webhooks page pointing at a receiver on this machine, the rule "more than 5
// Checkout Failed events in 1 minute" from the form, six failures sent to the edge, and the rule
// seen firing in its history (and its webhook received) once the Worker's minute cron has read
// them; then muted. Screenshots go to test-results/alerts.png and alert-rule.png. The rule and
// the endpoint are deleted at the end, so the other browser tests see the demo app as seeded.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { startWebhookReceiver, type Received } from "../../test/webhook-receiver";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
const sdk = inject("sdkStack");
const NAME = `alerts-${Date.now()}`;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ chrome, page } = await signedIn("alerts"));
});

afterAll(async () => {
  await chrome?.close();
  await receiver?.close();
});

async function received(): Promise<Received[]> {
  const res = await fetch(`${receiver?.url ?? ""}/received/${NAME}`);
  return (await res.json()) as Received[];
}

/** Six `Checkout Failed` events through the edge, as the demo app's SDK would send them. */
/**
 * When the failures happened: the cron reads the minute before last, so events of the minute
 * before this one are read when the next minute starts, 20 to 60 s from now (an app's queued
 * events often arrive a minute late). Past the minute's 40th second that could come before
 * they are stored, so they happen now and are read a minute later.
 */
function failureTime(): string {
  const now = Date.now();
  return new Date(now % 60_000 < 40_000 ? now - 60_000 : now).toISOString();
}

async function sendCheckoutFailures(): Promise<void> {
  const now = failureTime();
  const batch = Array.from({ length: 6 }, (_, i) => ({
    type: "track",
    event: "Checkout Failed",
    messageId: `${NAME}-${i}`,
    anonymousId: `buyer-${i}`,
    timestamp: now,
    // As a browser client sends them: the events view and other tests read the newest events' context.
    context: { library: { name: "checkout-web", version: "1.4.0" }, page: { path: "/checkout" } },
  }));
  const res = await fetch(`${sdk.edge}/v1/batch`, { method: "POST", headers: { "content-type": "application/json", "x-write-key": sdk.writeKey }, body: JSON.stringify({ batch }) });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ accepted: 6, rejected: [] });
}

const rulesTable = (p: Page) => p.locator("table.alert-rules tbody tr");
let rulePath = "";

it("creates the checkout rule from the form, sending to an endpoint made on the Webhooks page, and lists it in words", async () => {
  await page.goto(`${stack.url}/org/webhooks`);
  const hookForm = page.locator("form[aria-label='Create endpoint']");
  await hookForm.locator("input[name=url]").fill(`${receiver?.url ?? ""}/hooks/${NAME}`);
  await hookForm.locator("input[name=description]").fill("On-call receiver");
  await hookForm.getByRole("button", { name: "Create endpoint" }).click();
  await expect.poll(() => page.locator("[aria-label='New secret'] [data-secret]").count()).toBe(1);

  await page.goto(`${stack.url}/apps/${APP}/alerts`);
  const form = page.locator("form[aria-label='Create rule']");
  await form.locator("input[name=name]").fill("Checkout failures");
  await form.locator("select[name=kind]").selectOption("events");
  await form.locator("input[name=eventName]").fill("Checkout Failed");
  await form.locator("select[name=window]").selectOption("1m");
  await form.locator("select[name=condition]").selectOption("above");
  await form.locator("input[name=value]").fill("5");
  // Kept firing for a few clear minutes, so the list can be seen with it firing.
  await form.locator("input[name=resolveAfter]").fill("3");
  await form.getByLabel("On-call receiver", { exact: false }).check();
  await form.getByRole("button", { name: "Create rule" }).click();
  await expect.poll(() => page.locator("[role=status]").textContent()).toContain("Rule “Checkout failures” created");
  const row = rulesTable(page).filter({ hasText: "Checkout failures" });
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.textContent()).toContain("events Checkout Failed, count over 1 min above 5");
  expect(await row.locator("[data-state]").getAttribute("data-state")).toBe("ok");

  // The form hides what the chosen metric does not use once the page runs.
  await form.locator("select[name=kind]").selectOption("crash_free_users");
  await expect.poll(() => form.locator("input[name=platform]").isVisible()).toBe(false);
  expect(await form.locator("input[name=release]").isVisible()).toBe(true);

  await row.getByRole("link", { name: "Checkout failures" }).click();
  await page.waitForURL(/\/apps\/app_demo\/alerts\/rule_[0-9a-f]+$/);
  rulePath = new URL(page.url()).pathname;
  await expect.poll(() => page.locator("main").textContent()).toContain("No changes yet");
});

it("fires once six failures have reached the minute the cron reads, sends its webhook, and mutes", async () => {
  await sendCheckoutFailures();
  // The cron reads the minute before last: the rule fires within about a minute (failureTime).
  await openWhen(page, rulePath, async (p) => (await p.locator("table.alert-history [data-state=firing]").count()) > 0, "the rule's firing", 200_000);
  const firstChange = page.locator("table.alert-history tbody tr").last();
  expect(await firstChange.textContent()).toMatch(/ok\s*→\s*firing\s*6\s*5/);
  await expect.poll(async () => (await received()).map((r) => (JSON.parse(r.body) as { type: string }).type), { timeout: 60_000, interval: 1000 }).toContain("alert.firing");

  await page.getByRole("button", { name: "Mute 1 hour" }).click();
  await expect.poll(() => page.locator("[role=status]").textContent()).toContain("Muted until");
  await expect.poll(() => page.getByRole("button", { name: "Unmute" }).count()).toBe(1);
  await page.screenshot({ path: shot("alert-rule.png"), fullPage: true });

  await page.goto(`${stack.url}/apps/${APP}/alerts`);
  const row = rulesTable(page).filter({ hasText: "Checkout failures" });
  expect(await row.locator("td").nth(5).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await page.screenshot({ path: shot("alerts.png"), fullPage: true });
}, 300_000);

it("deletes the rule and its endpoint", async () => {
  await page.goto(`${stack.url}${rulePath}`);
  await page.getByRole("button", { name: "Delete rule" }).click();
  await page.waitForURL(`${stack.url}/apps/${APP}/alerts`);
  await expect.poll(() => rulesTable(page).filter({ hasText: "Checkout failures" }).count()).toBe(0);

  await page.goto(`${stack.url}/org/webhooks`);
  await page.locator("section[aria-label='Endpoints']").getByRole("link", { name: `${receiver?.url ?? ""}/hooks/${NAME}` }).click();
  await page.waitForURL(/\/org\/webhooks\/whe_[0-9a-f]+$/);
  await page.getByRole("button", { name: "Delete endpoint" }).click();
  await page.waitForURL(`${stack.url}/org/webhooks`);
});
