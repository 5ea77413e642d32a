import { describe, expect, it } from "vitest";
import { backoff, classify, parseRetryAfter } from "./retry";

describe("classify", () => {
  it("follows the wire contract", () => {
    expect(classify(200)).toEqual({ kind: "sent" });
    expect(classify(0)).toEqual({ kind: "retry", counts: false });
    expect(classify(408)).toEqual({ kind: "retry", counts: true });
    expect(classify(429, "7")).toEqual({ kind: "retry", afterMs: 7000, counts: true });
    expect(classify(503, "2")).toEqual({ kind: "retry", afterMs: 2000, counts: true });
    expect(classify(500)).toEqual({ kind: "retry", counts: true });
    expect(classify(413)).toEqual({ kind: "split" });
    for (const s of [400, 401, 403, 404, 415]) expect(classify(s)).toEqual({ kind: "drop" });
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-20T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("backoff", () => {
  it("doubles up to a cap, with jitter over the upper half", () => {
    expect(backoff(0, 1000, 60_000, () => 0)).toBe(500);
    expect(backoff(0, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoff(3, 1000, 60_000, () => 0)).toBe(4000);
    expect(backoff(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
