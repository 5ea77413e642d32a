// Debian's Chromium for browser tests, driven by playwright-core (never a downloaded browser):
// headless, with a fresh profile, and without the background traffic this offline machine refuses.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** A running browser and how to close it (which also removes its profile). */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium: `const { context, close } = await launchChromium("sdk")`. */
export async function launchChromium(name: string, viewport?: { width: number; height: number }): Promise<Chromium> {
  if (!existsSync("/usr/bin/chromium")) throw new Error("this test drives Debian's Chromium: apt-get install -y chromium (.ci/run does it)");
  // A fresh profile directory: playwright passes it to Chromium as --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), `${name}-chromium-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    ...(viewport ? { viewport } : {}),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // A ceiling for a page held up on a busy machine (the stack, ClickHouse and Chromium share two
  // cores), never a measure of speed: playwright's 30 s was reached once by a first page load.
  context.setDefaultTimeout(75_000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
