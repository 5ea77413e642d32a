import { describe, expect, it } from "vitest";
import { LIMITS, MAX_SHARD_COUNT } from "../../schemas";
import { sameRouting, shardOf, shardOfEvent, shardsAt, shardsWanted, type ShardSettings } from "./shards";

const hot = { eventsPerSecond: 5000, deviceCallsPerSecond: 500, windowMs: 60_000 };
const events = (eventsPerSecond: number) => ({ eventsPerSecond, deviceCallsPerSecond: 0 });
const calls = (deviceCallsPerSecond: number) => ({ eventsPerSecond: deviceCallsPerSecond, deviceCallsPerSecond });

describe("shardsWanted", () => {
  it("keeps the count while a shard is under both marks", () => {
    expect(shardsWanted(events(0), 1, hot)).toBeNull();
    expect(shardsWanted(events(4999), 4, hot)).toBeNull();
    expect(shardsWanted({ eventsPerSecond: 4999, deviceCallsPerSecond: 499 }, 4, hot)).toBeNull();
  });

  it("at least doubles a busy app's shards, and leaves each at half the mark", () => {
    expect(shardsWanted(events(5000), 1, hot)).toBe(2);
    expect(shardsWanted(events(5000), 3, hot)).toBe(6);
    // 20,000 events/s on one shard: 8 shards take 2,500/s each.
    expect(shardsWanted(events(20_000), 1, hot)).toBe(8);
  });

  it("raises a shard busy with calls of few events each, which more shards spread", () => {
    // 500 one-event requests a second from many devices: 1 shard becomes 2, each taking 250.
    expect(shardsWanted(calls(500), 1, hot)).toBe(2);
    // 1,000 a second on each of 2 shards: 8 leave each at 250.
    expect(shardsWanted(calls(1000), 2, hot)).toBe(8);
    // Whichever mark asks for more shards wins.
    expect(shardsWanted({ eventsPerSecond: 20_000, deviceCallsPerSecond: 600 }, 1, hot)).toBe(8);
    expect(shardsWanted({ eventsPerSecond: 5_000, deviceCallsPerSecond: 2_000 }, 1, hot)).toBe(8);
  });

  it("stops at the most shards an app may have", () => {
    expect(shardsWanted(events(50_000), 40, hot)).toBe(MAX_SHARD_COUNT);
    expect(shardsWanted(events(50_000), MAX_SHARD_COUNT, hot)).toBeNull();
    expect(shardsWanted(calls(5_000), MAX_SHARD_COUNT, hot)).toBeNull();
  });

  it("never raises by a mark the deployment switched off", () => {
    expect(shardsWanted(events(1_000_000), 1, { eventsPerSecond: 0, deviceCallsPerSecond: 500, windowMs: 60_000 })).toBeNull();
    expect(shardsWanted(calls(100_000), 1, { eventsPerSecond: 1_000_000, deviceCallsPerSecond: 0, windowMs: 60_000 })).toBeNull();
    expect(shardsWanted(calls(1_000), 1, { eventsPerSecond: 0, deviceCallsPerSecond: 500, windowMs: 60_000 })).toBe(4);
  });
});

describe("shardOfEvent", () => {
  const device = { count: 8, key: "device" as const };
  it("places every event of a device on one shard, by its anonymousId, else its userId", () => {
    const a = { messageId: "m1", anonymousId: "phone-1", userId: "" };
    expect(shardOfEvent({ ...a, messageId: "m2" }, device)).toBe(shardOfEvent(a, device));
    expect(shardOfEvent(a, device)).toBe(shardOf("phone-1", 8));
    // The anonymousId wins over the userId, which identify adds to a device mid-session.
    expect(shardOfEvent({ ...a, userId: "user-9" }, device)).toBe(shardOf("phone-1", 8));
    expect(shardOfEvent({ messageId: "m3", anonymousId: "", userId: "user-9" }, device)).toBe(shardOf("user-9", 8));
    expect(shardOfEvent({ messageId: "m3", anonymousId: "", userId: "" }, device)).toBe(shardOf("m3", 8));
  });

  it("places by messageId for an app that kept that routing, and everything on shard 0 of one", () => {
    expect(shardOfEvent({ messageId: "m1", anonymousId: "phone-1", userId: "" }, { count: 8, key: "id" })).toBe(shardOf("m1", 8));
    expect(shardOfEvent({ messageId: "m1", anonymousId: "phone-1", userId: "" }, { count: 1, key: "id" })).toBe(0);
  });
});

describe("shardsAt", () => {
  const at = 1_000_000_000_000;
  const changed: ShardSettings = { shardCount: 4, shardKey: "device", previousShardCount: 4, previousShardKey: "id", shardsFrom: at, autoShards: true };

  it("routes by the previous count and key until the change, then asks the previous shards for the dedup window", () => {
    expect(shardsAt(changed, at - 1)).toEqual({ count: 4, key: "id", previous: null });
    expect(shardsAt(changed, at)).toEqual({ count: 4, key: "device", previous: { count: 4, key: "id" } });
    expect(shardsAt(changed, at + LIMITS.dedupWindowMs)).toEqual({ count: 4, key: "device", previous: null });
  });

  it("asks nothing of the previous shards when they placed every event where the new routing does", () => {
    expect(sameRouting({ count: 1, key: "id" }, { count: 1, key: "device" })).toBe(true);
    expect(shardsAt({ ...changed, shardCount: 1, previousShardCount: 1 }, at)).toEqual({ count: 1, key: "device", previous: null });
    expect(shardsAt({ ...changed, shardCount: 3, previousShardCount: 1 }, at).previous).toEqual({ count: 1, key: "id" });
  });
});
