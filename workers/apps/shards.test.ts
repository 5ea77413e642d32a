import { describe, expect, it } from "vitest";
import { MAX_SHARD_COUNT } from "../../schemas";
import { shardsWanted } from "./shards";

const hot = { eventsPerSecond: 5000, windowMs: 60_000 };

describe("shardsWanted", () => {
  it("keeps the count while a shard is under the mark", () => {
    expect(shardsWanted(0, 1, hot)).toBeNull();
    expect(shardsWanted(4999, 4, hot)).toBeNull();
  });

  it("at least doubles a busy app's shards, and leaves each at half the mark", () => {
    expect(shardsWanted(5000, 1, hot)).toBe(2);
    expect(shardsWanted(5000, 3, hot)).toBe(6);
    // 20,000 events/s on one shard: 8 shards take 2,500/s each.
    expect(shardsWanted(20_000, 1, hot)).toBe(8);
  });

  it("stops at the most shards an app may have", () => {
    expect(shardsWanted(50_000, 40, hot)).toBe(MAX_SHARD_COUNT);
    expect(shardsWanted(50_000, MAX_SHARD_COUNT, hot)).toBeNull();
  });

  it("never raises when the deployment switched it off", () => {
    expect(shardsWanted(1_000_000, 1, { eventsPerSecond: 0, windowMs: 60_000 })).toBeNull();
  });
});
