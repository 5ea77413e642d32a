// What the dashboard's browser tests share: Chromium signed in as the demo owner on the local
// stack, where screenshots go, and a page reloaded until the demo's events have landed (they are
// sent while the stack starts, so a test may open a page before the last ones are stored).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { inject } from "vitest";
import type {} from "../../sdk/e2e/global-setup";
import { launchChromium, type Chromium } from "../../test/chromium";

export const stack = inject("dashboardStack");
export const DEMO_APP = "app_demo";

const shots = resolve(import.meta.dirname, "../../test-results");

/** Where a screenshot named `name` (e.g. `network.png`) is saved. */
export function shot(name: string): string {
  mkdirSync(shots, { recursive: true });
  return join(shots, name);
}

/** Chromium with one page signed in as the demo owner, at the apps list. */
export async function signedIn(name: string): Promise<{ chrome: Chromium; page: Page }> {
  const chrome = await launchChromium(name, { width: 1280, height: 900 });
  const page = await chrome.context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());
  // The form is in the served HTML: signing in needs neither the scripts nor hydration. The
  // local dashboard server has been seen to stall for over a minute on a loaded CI machine (one
  // GET /login answered after 84 s, nothing else served meanwhile): a navigation that times
  // out is made again, within the hook's limit, rather than failing the whole file.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(`${stack.url}/login`, { waitUntil: "domcontentloaded", timeout: 50_000 });
      break;
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error && err.name === "TimeoutError")) throw err;
    }
  }
  await page.fill("input[name=email]", stack.email);
  await page.fill("input[name=password]", stack.password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${stack.url}/apps`);
  return { chrome, page };
}

/** `path` reloaded until `ready` finds what the demo's events put there; `what` names it in the error. */
export async function openWhen(p: Page, path: string, ready: (p: Page) => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await p.goto(`${stack.url}${path}`);
    if (await ready(p)) return;
    if (Date.now() > deadline) {
      // What the page showed instead (an error card, an empty state), so a failure explains itself.
      const shown = (await p.locator("[role=alert], .empty-state, .empty, h2").allInnerTexts()).join(" | ").slice(0, 600);
      await p.screenshot({ path: shot(`did-not-show-${what.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
      throw new Error(`${what} did not show in ${timeoutMs / 1000} s; ${p.url()} showed: ${shown}`);
    }
    await p.waitForTimeout(1000);
  }
}
