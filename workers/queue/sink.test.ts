import { describe, expect, it } from "vitest";
import { insertRetryDelayMs, retryDelaySeconds } from "./sink";

describe("sink retry delays", () => {
  it("spread insert retries within a delivery: 200-400 ms, then 400-800 ms", () => {
    expect([insertRetryDelayMs(1, () => 0), insertRetryDelayMs(1, () => 1)]).toEqual([200, 400]);
    expect([insertRetryDelayMs(2, () => 0), insertRetryDelayMs(2, () => 1)]).toEqual([400, 800]);
  });

  it("double queue redeliveries up to 5-10 minutes, half of each delay random", () => {
    expect([retryDelaySeconds(1, () => 0), retryDelaySeconds(1, () => 1)]).toEqual([1, 2]);
    expect([retryDelaySeconds(4, () => 0), retryDelaySeconds(4, () => 1)]).toEqual([8, 16]);
    expect([retryDelaySeconds(99, () => 0), retryDelaySeconds(99, () => 1)]).toEqual([300, 600]);
    // Within Cloudflare's limit for delaySeconds (12 hours), and never zero.
    expect(retryDelaySeconds(0, () => 0)).toBe(1);
  });
});
