// Webhook endpoints as a person sets one up, in Debian's Chromium against the local stack: create
// an endpoint pointing at a receiver on this machine, copy its secret (shown once), press "Send
// test", and watch the delivery turn delivered once the Worker's queue consumer has made the
// attempt; the receiver's request verifies with a Standard Webhooks library under that secret.
// Screenshots go to test-results/webhooks.png and webhook-endpoint.png. The endpoint is deleted
// at the end, so the other browser tests see the organisation as `npm start` seeds it.
import type { Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { startWebhookReceiver, type Received } from "../../test/webhook-receiver";
import { openWhen, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ chrome, page } = await signedIn("webhooks"));
});

afterAll(async () => {
  await chrome?.close();
  await receiver?.close();
});

const NAME = `e2e-${Date.now()}`;

async function received(): Promise<Received[]> {
  const res = await fetch(`${receiver?.url ?? ""}/received/${NAME}`);
  return (await res.json()) as Received[];
}

it("creates an endpoint showing its secret once, sends a test that is delivered, signed so a Standard Webhooks library verifies it", async () => {
  const hookUrl = `${receiver?.url ?? ""}/hooks/${NAME}`;
  await page.goto(`${stack.url}/org/webhooks`);
  const form = page.locator("form[aria-label='Create endpoint']");
  await form.locator("input[name=url]").fill(hookUrl);
  await form.locator("input[name=description]").fill("On-call receiver");
  await form.getByRole("button", { name: "Create endpoint" }).click();

  const shown = page.locator("[aria-label='New secret'] [data-secret]");
  await expect.poll(() => shown.count()).toBe(1);
  const secret = (await shown.textContent()) ?? "";
  expect(secret).toMatch(/^whsec_/);
  const row = page.locator("section[aria-label='Endpoints'] tbody tr", { hasText: hookUrl });
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.locator("[data-state]").getAttribute("data-state")).toBe("enabled");
  await page.screenshot({ path: shot("webhooks.png"), fullPage: true });

  // Shown once: the list, read again, does not carry it.
  await page.goto(`${stack.url}/org/webhooks`);
  expect(await page.content()).not.toContain(secret);

  await page.locator("section[aria-label='Endpoints']").getByRole("link", { name: hookUrl }).click();
  await page.waitForURL(/\/org\/webhooks\/whe_[0-9a-f]+$/);
  const endpointPath = new URL(page.url()).pathname;
  await page.getByRole("button", { name: "Send test" }).click();
  await expect.poll(() => page.locator("[role=status]").textContent()).toContain("Test delivery queued");
  await expect.poll(() => page.locator("ol.deliveries > li").count()).toBe(1);

  const delivered = page.locator("ol.deliveries [data-status=delivered]");
  await openWhen(page, endpointPath, async (p) => (await p.locator("ol.deliveries [data-status=delivered]").count()) === 1, "the test delivery as delivered", 120_000);
  expect(await delivered.count()).toBe(1);

  await expect.poll(received).toHaveLength(1);
  const [request] = await received();
  expect(request?.headers["webhook-id"]).toMatch(/^msg_/);
  expect(request?.headers["webhook-timestamp"]).toMatch(/^\d+$/);
  expect(request?.headers["webhook-signature"]).toMatch(/^v1,/);
  const body = new Webhook(secret).verify(request?.body ?? "", request?.headers ?? {});
  expect(body).toMatchObject({ type: "alert.test", version: 1, id: request?.headers["webhook-id"] });

  // The delivery opens to its attempt (HTTP 200 from the receiver) and the body it sent.
  const item = page.locator("ol.deliveries > li").first();
  await item.locator("summary").click();
  await expect.poll(() => item.locator("table.attempts tbody tr").count()).toBe(1);
  expect(await item.locator("table.attempts").textContent()).toContain("HTTP 200");
  expect(await item.locator("pre.payload").textContent()).toContain('"alert.test"');
  await page.screenshot({ path: shot("webhook-endpoint.png"), fullPage: true });

  await page.getByRole("button", { name: "Delete endpoint" }).click();
  await page.waitForURL(`${stack.url}/org/webhooks`);
  await expect.poll(() => page.locator("section[aria-label='Endpoints'] tbody tr", { hasText: hookUrl }).count()).toBe(0);
});
