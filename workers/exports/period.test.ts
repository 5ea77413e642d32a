import { describe, expect, it } from "vitest";
import { latestPeriod, MAX_ATTEMPTS, objectKey, periodAt, retryAt } from "./period";

const at = (iso: string): number => Date.parse(iso);

describe("export periods", () => {
  it("the cron at 10:41 exports the hour from 09:00, and just after midnight the whole day before", () => {
    expect(latestPeriod("hourly", at("2026-12-01T10:41:00Z"))).toEqual({ start: at("2026-12-01T09:00:00Z"), end: at("2026-12-01T10:00:00Z") });
    expect(latestPeriod("daily", at("2026-12-02T00:41:00Z"))).toEqual({ start: at("2026-12-01T00:00:00Z"), end: at("2026-12-02T00:00:00Z") });
    expect(periodAt("daily", at("2026-12-01T10:00:00Z"))).toBeNull();
  });

  it("names files by app, schedule and period", () => {
    expect(objectKey("", "app_shop", "exp_1", "hourly", at("2026-12-01T09:00:00Z"), "csv")).toBe("exports/app_shop/exp_1/2026-12-01T09.csv");
    expect(objectKey("lake/", "app_shop", "exp_1", "daily", at("2026-12-01T00:00:00Z"), "parquet")).toBe("lake/exports/app_shop/exp_1/2026-12-01.parquet");
  });

  it("retries a failed period at the next hourly runs 1, 2 and 4 hours on, then gives up", () => {
    const now = at("2026-12-01T10:41:00Z");
    const hour = 3_600_000;
    const waits = [1, 2, 3].map((n) => (retryAt(n, now) ?? 0) - now);
    expect(waits.map((w) => Math.ceil(w / hour))).toEqual([1, 2, 4]);
    expect(retryAt(MAX_ATTEMPTS, now)).toBeNull();
  });
});
