// API clients as a person sets one up, in Debian's Chromium against the local stack: create a
// client with data:read, read its id and secret off the page (shown once), trade them at the
// Worker's POST /oauth/token for an access token that lists the organisation's apps at
// GET /admin/apps; rotate (the new secret works, the old one stops with no overlap), then revoke
// (the token endpoint answers 401); then a second client for the demo app alone, whose token sees
// only that app. Screenshots go to test-results/api-clients.png and api-client-secret.png. Both
// clients end revoked, so the other browser tests meet no live one; fresh names keep runs apart.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Chromium } from "../../test/chromium";
import { DEMO_APP, shot, signedIn, stack } from "./demo";

let chrome: Chromium | undefined;
let page: Page;

beforeAll(async () => {
  ({ chrome, page } = await signedIn("api-clients"));
});

afterAll(async () => {
  await chrome?.close();
});

const NAME = `e2e client ${Date.now()}`;

/** POST /oauth/token with the client's id and secret as HTTP Basic. */
async function token(id: string, secret: string): Promise<Response> {
  return fetch(`${stack.edge}/oauth/token`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
}

/** The id and secret the page shows this once. */
async function shownSecret(p: Page): Promise<{ id: string; secret: string; curl: string }> {
  const box = p.locator("[aria-label='New client secret']");
  await expect.poll(() => box.count()).toBe(1);
  return {
    id: (await box.locator("[data-client-id]").textContent()) ?? "",
    secret: (await box.locator("[data-secret]").textContent()) ?? "",
    curl: (await box.locator("[data-curl]").textContent()) ?? "",
  };
}

it("creates a client whose secret, shown once, gets a token that lists the organisation's apps; rotates it, then revokes it", async () => {
  await page.goto(`${stack.url}/org/api-clients`);
  // The organisation's navigation leads here.
  expect(await page.locator("nav[aria-label='Organisation']").getByRole("link", { name: "API clients" }).getAttribute("class")).toContain("active");
  const form = page.locator("form[aria-label='Create API client']");
  await form.locator("input[name=name]").fill(NAME);
  await form.getByRole("checkbox", { name: /data:read/ }).check();
  await form.getByRole("button", { name: "Create client" }).click();

  const { id, secret, curl } = await shownSecret(page);
  expect(id).toMatch(/^cli_[0-9a-f]{24}$/);
  expect(secret).toMatch(/^cs_[0-9a-f]{64}$/);
  expect(curl).toBe(`curl -s https://<your worker>/oauth/token -u "${id}:${secret}" -d grant_type=client_credentials`);
  const row = page.locator(`section[aria-label='API clients'] tbody tr[data-client='${id}']`);
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.textContent()).toContain("all apps");
  await page.locator("[aria-label='New client secret']").screenshot({ path: shot("api-client-secret.png") });

  const granted = await token(id, secret);
  expect(granted.status).toBe(200);
  const body = (await granted.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
  expect(body).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), expires_in: 900, scope: "data:read" });
  const apps = await fetch(`${stack.edge}/admin/apps`, { headers: { authorization: `Bearer ${body.access_token}` } });
  expect(apps.status).toBe(200);
  expect(((await apps.json()) as { apps: Array<{ id: string }> }).apps.map((a) => a.id)).toContain(DEMO_APP);

  // Shown once: the page read again does not carry it, and now says it was used.
  await page.goto(`${stack.url}/org/api-clients`);
  expect(await page.content()).not.toContain(secret);
  expect(await row.locator("td").nth(4).textContent()).not.toContain("never");

  // Rotate with no overlap: the new secret works at once and the old one stops.
  await row.locator("select[name=overlap]").selectOption("none");
  await row.getByRole("button", { name: "Rotate" }).click();
  await expect.poll(() => page.locator("[role=status]").first().textContent()).toContain("The old secret stopped working now.");
  const rotated = await shownSecret(page);
  expect(rotated.id).toBe(id);
  expect(rotated.secret).not.toBe(secret);
  expect((await token(id, rotated.secret)).status).toBe(200);
  expect((await token(id, secret)).status).toBe(401);

  // Revoke, confirming the browser's question (signedIn accepts dialogs).
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect.poll(() => row.getAttribute("data-state")).toBe("revoked");
  expect(await row.getByRole("button", { name: "Revoke" }).count()).toBe(0);
  expect((await token(id, rotated.secret)).status).toBe(401);

  // A second client for only the demo app, chosen from the app checkboxes "Only these apps" reveals.
  const appBox = form.getByRole("checkbox", { name: /Demo app/ });
  expect(await appBox.isVisible()).toBe(false);
  await form.locator("input[name=name]").fill(`${NAME} (demo app)`);
  await form.getByRole("checkbox", { name: /data:read/ }).check();
  await form.getByRole("radio", { name: "Only these apps" }).check();
  await expect.poll(() => appBox.isVisible()).toBe(true);
  await appBox.check();
  await form.getByRole("button", { name: "Create client" }).click();
  const second = await shownSecret(page);
  expect(second.id).not.toBe(id);
  const secondRow = page.locator(`section[aria-label='API clients'] tbody tr[data-client='${second.id}']`);
  await expect.poll(() => secondRow.count()).toBe(1);
  expect(await secondRow.locator("td").nth(2).textContent()).toBe("Demo app");
  const limited = (await (await token(second.id, second.secret)).json()) as { access_token: string };
  const seen = await fetch(`${stack.edge}/admin/apps`, { headers: { authorization: `Bearer ${limited.access_token}` } });
  expect(((await seen.json()) as { apps: Array<{ id: string }> }).apps.map((a) => a.id)).toEqual([DEMO_APP]);

  // The list with one live client and one revoked, greyed.
  await page.goto(`${stack.url}/org/api-clients`);
  await page.screenshot({ path: shot("api-clients.png"), fullPage: true });
  await secondRow.getByRole("button", { name: "Revoke" }).click();
  await expect.poll(() => secondRow.getAttribute("data-state")).toBe("revoked");
});
