import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cronMatches, wranglerCrons } from "./cron";

describe("local Cron Triggers", () => {
  it("fires each of wrangler.toml's schedules at the minutes Cloudflare would", () => {
    const crons = wranglerCrons(resolve(import.meta.dirname, ".."));
    expect(crons).toEqual(expect.arrayContaining(["* * * * *", "41 * * * *", "17 3 * * *"]));
    const firing = (iso: string) => crons.filter((c) => cronMatches(c, new Date(iso))).sort();
    expect(firing("2026-12-01T10:05:00Z")).toEqual(["* * * * *"]);
    expect(firing("2026-12-01T10:41:00Z")).toEqual(["* * * * *", "41 * * * *"]);
    expect(firing("2026-12-01T03:17:00Z")).toEqual(["* * * * *", "17 3 * * *"]);
    expect(firing("2026-12-01T04:17:00Z")).toEqual(["* * * * *"]);
  });

  it("reads lists and steps", () => {
    expect(cronMatches("*/15 * * * *", new Date("2026-12-01T10:45:00Z"))).toBe(true);
    expect(cronMatches("*/15 * * * *", new Date("2026-12-01T10:46:00Z"))).toBe(false);
    expect(cronMatches("0 9 * * 1,3", new Date("2026-12-02T09:00:00Z"))).toBe(true);
    expect(cronMatches("0 9 * * 1,3", new Date("2026-12-01T09:00:00Z"))).toBe(false);
  });
});
