import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket";

describe("TokenBucket", () => {
  it("allows a burst up to capacity, then refills at its rate", () => {
    const b = new TokenBucket(100, 200);
    expect(b.take(200, 1000)).toBe(0);
    const wait = b.take(50, 1000);
    expect(wait).toBe(500);
    expect(b.take(50, 1500)).toBe(0);
  });
});
