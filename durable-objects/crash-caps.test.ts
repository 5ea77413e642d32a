import { describe, expect, it } from "vitest";
import { CrashCaps, shardLimits } from "./crash-caps";

const MINUTE = Date.UTC(2026, 10, 30, 10, 0, 0);

function run(caps: CrashCaps, fingerprints: readonly string[], now = MINUTE): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fp of fingerprints) {
    const key = caps.admit(fp, now) ?? "kept";
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe("CrashCaps", () => {
  it("keeps a fingerprint's crashes up to its cap each minute, then names the issue cap", () => {
    const caps = new CrashCaps({ perIssue: 3, perApp: 0 });
    expect(run(caps, Array(10).fill("loop"))).toEqual({ kept: 3, issue_cap: 7 });
    expect(run(caps, ["other", "other"])).toEqual({ kept: 2 });
    // The next minute starts afresh.
    expect(run(caps, Array(5).fill("loop"), MINUTE + 60_000)).toEqual({ kept: 3, issue_cap: 2 });
  });

  it("keeps the app's crashes up to its cap, and a loop's crashes still count as the issue's", () => {
    const caps = new CrashCaps({ perIssue: 2, perApp: 5 });
    expect(run(caps, ["a", "a", "b", "c", "d", "e", "a"], MINUTE + 59_999)).toEqual({ kept: 5, app_cap: 1, issue_cap: 1 });
  });

  it("caps nothing at 0", () => {
    expect(run(new CrashCaps({ perIssue: 0, perApp: 0 }), Array(5000).fill("loop"))).toEqual({ kept: 5000 });
  });

  it("splits the app's caps over its shards, never down to no cap", () => {
    expect(shardLimits({ perIssue: 60, perApp: 1000 }, 4)).toEqual({ perIssue: 15, perApp: 250 });
    expect(shardLimits({ perIssue: 60, perApp: 1000 }, 1)).toEqual({ perIssue: 60, perApp: 1000 });
    expect(shardLimits({ perIssue: 1, perApp: 0 }, 64)).toEqual({ perIssue: 1, perApp: 0 });
  });
});
