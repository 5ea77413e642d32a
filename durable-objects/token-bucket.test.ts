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

  it("lets a request larger than its capacity through when full, and then waits for the overdraft to refill", () => {
    const b = new TokenBucket(10, 40);
    expect(b.take(60, 1000)).toBe(0);
    // 20 tokens owed, then a full bucket of 40 for the next large request: 6 s.
    expect(b.take(60, 1000)).toBe(6000);
    expect(b.take(60, 4000)).toBe(3000);
    expect(b.take(60, 7000)).toBe(0);
  });
});
