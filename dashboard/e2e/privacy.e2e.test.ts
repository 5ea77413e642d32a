// Privacy as an owner uses it, in Debian's Chromium against the local stack: a person's events
// sent through the edge, their data downloaded as JSON from the Privacy page, their deletion
// requested (the id typed twice, the browser's confirmation accepted) and listed with its state
// and the audit log; and the app's settings saying what retention deletes and where the data
// lives. Screenshots: test-results/privacy.png and data-lifecycle.png.
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP as APP, openWhen, shot, signedIn, stack } from "./demo";

const sdk = inject("sdkStack");
let chrome: Chromium | undefined;
let page: Page;
// The stack outlives this file: a person of this run only.
const PERSON = `privacy-e2e-${Date.now().toString(36)}`;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("privacy"));
  const batch = ["Product Viewed", "Added to Cart", "Order Completed"].map((event, i) => ({
    type: "track",
    event,
    userId: PERSON,
    anonymousId: `${PERSON}-device`,
    messageId: `${PERSON}-${i}`,
    properties: { step: i },
  }));
  const res = await fetch(`${sdk.edge}/v1/batch`, { method: "POST", headers: { "content-type": "application/json", "x-write-key": sdk.writeKey }, body: JSON.stringify({ batch }) });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await chrome?.close();
});

const form = (p: Page, name: string) => p.getByRole("form", { name });

it("downloads a person's data as JSON from the Privacy page, with every event they sent", async () => {
  await page.goto(`${stack.url}/apps/${APP}/privacy`);
  const exportForm = form(page, "Export a person's data");
  await exportForm.locator("select[name=kind]").selectOption("user");
  await exportForm.locator("input[name=id]").fill(PERSON);
  // The events reach ClickHouse a few seconds after the edge accepted them: download until they are all there.
  let events: Array<{ event: string }> = [];
  await openWhen(
    page,
    `/apps/${APP}/privacy`,
    async (p) => {
      const again = form(p, "Export a person's data");
      await again.locator("select[name=kind]").selectOption("user");
      await again.locator("input[name=id]").fill(PERSON);
      const [download] = await Promise.all([p.waitForEvent("download"), again.getByRole("button", { name: "Download JSON" }).click()]);
      const body = JSON.parse(await readFile((await download.path()) ?? "", "utf8")) as { events?: Array<{ event: string }> };
      events = body.events ?? [];
      return events.length === 3;
    },
    "the person's three events in the export",
  );
  expect(events.map((e) => e.event).sort()).toEqual(["Added to Cart", "Order Completed", "Product Viewed"]);
});

it("requests a person's deletion with the id typed twice, and lists it with the audit log", async () => {
  await page.goto(`${stack.url}/apps/${APP}/privacy`);
  const del = form(page, "Delete a person");
  await del.locator("select[name=kind]").selectOption("user");
  await del.locator("input[name=id]").fill(PERSON);
  await del.locator("input[name=confirmId]").fill(`${PERSON}x`);
  await del.getByRole("button").click();
  await expect.poll(() => page.locator(".card.error[role=alert]").textContent()).toContain("The two ids differ");

  await del.locator("input[name=confirmId]").fill(PERSON);
  await del.getByRole("button").click();
  await expect.poll(() => page.locator(".card.notice[role=status]").textContent()).toContain(`Deletion of ${PERSON} requested`);
  const requests = page.locator("section", { has: page.getByRole("heading", { name: "Deletion requests" }) });
  await expect.poll(() => requests.locator("tr", { hasText: PERSON }).count()).toBe(1);
  const audit = page.locator("section", { has: page.getByRole("heading", { name: "Audit log" }) });
  expect(await audit.textContent()).toContain(PERSON);
  await page.screenshot({ path: shot("privacy.png"), fullPage: true });
});

it("says on the app's settings what retention deletes, the oldest event kept, and where the data lives", async () => {
  await page.goto(`${stack.url}/apps/${APP}/settings`);
  const lifecycle = page.getByRole("region", { name: "Data lifecycle" });
  const text = (await lifecycle.textContent()) ?? "";
  expect(text).toContain("deleted daily");
  expect(text).toContain("The oldest event kept is from");
  await lifecycle.screenshot({ path: shot("data-lifecycle.png") });
});
