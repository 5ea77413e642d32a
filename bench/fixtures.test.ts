import { describe, expect, it } from "vitest";
import { makeRequests, rng } from "./fixtures";

const devicesOf = (body: string): Set<unknown> => new Set((JSON.parse(body) as { batch: Array<{ anonymousId: unknown }> }).batch.map((e) => e.anonymousId));

describe("makeRequests", () => {
  it("sends a fifth of the requests from servers, each event of another user, and the rest from one device each", () => {
    const bodies = makeRequests(rng(3), 20, 100, { runId: "r-@@", devices: 20_000 });
    expect(bodies).toHaveLength(20);
    const devices = bodies.map((b) => devicesOf(b).size);
    expect(devices.filter((n) => n === 1)).toHaveLength(16);
    expect(devices.filter((n) => n > 90)).toHaveLength(4);
    // Different devices from one request to the next.
    expect(new Set(bodies.slice(4).map((b) => [...devicesOf(b)][0])).size).toBe(16);
  });
});
