import { describe, expect, it } from "vitest";
import { rng } from "../../bench/fixtures";
import { correctTime, parseTime, toClickHouseTime } from "./skew";

const received = Date.parse("2026-11-22T12:00:00.000Z");
const min = 60_000;

describe("clock skew", () => {
  it("leaves events alone when the device clock is within the 150 s deadband", () => {
    const ts = received - 10 * min;
    expect(correctTime(ts, received - 100_000, received).timestamp).toBe(ts);
  });

  it("shifts events by the device's offset when it is beyond the deadband", () => {
    // The device clock runs one hour fast: it sent at 13:00 what happened at 12:55 device time.
    const sentAt = received + 60 * min;
    const ts = sentAt - 5 * min;
    const t = correctTime(ts, sentAt, received);
    expect(t.timestamp).toBe(received - 5 * min);
    expect(t.original).toBe(ts);
  });

  it("clamps a time more than 23 h in the future to the receive time", () => {
    expect(correctTime(received + 30 * 60 * min, null, received).timestamp).toBe(received);
    expect(correctTime(received + 60 * min, null, received).timestamp).toBe(received + 60 * min);
  });

  it("uses the receive time when the event has none", () => {
    expect(correctTime(null, received - 5 * min, received)).toEqual({ timestamp: received, original: received });
  });

  it("parses ISO text and epoch milliseconds, and refuses nonsense", () => {
    expect(parseTime("2026-11-22T12:00:00Z")).toBe(received);
    expect(parseTime(received)).toBe(received);
    expect(parseTime("yesterday")).toBeNull();
    expect(parseTime("1970-01-01T00:00:00Z")).toBeNull();
    expect(parseTime(Number.NaN)).toBeNull();
    expect(parseTime(undefined)).toBeNull();
  });

  it("formats ClickHouse DateTime64 text in UTC", () => {
    expect(toClickHouseTime(received + 123)).toBe("2026-11-22 12:00:00.123");
  });

  it("writes every time as its UTC ISO text does, across days, leap days and fractions of a millisecond", () => {
    const times = [Date.UTC(2000, 0, 1), Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1), received + 0.7, Date.UTC(2299, 11, 31, 23, 59, 59, 999)];
    for (let t = received - 3 * 86_400_000; t < received + 86_400_000; t += 7_777_777) times.push(t, t + 1, t + 999);
    for (const t of times) expect(toClickHouseTime(t)).toBe(new Date(t).toISOString().replace("T", " ").slice(0, 23));
    expect(toClickHouseTime(Date.UTC(12000, 0, 1))).toBe("2299-12-31 23:59:59.999");
  });
});

describe("parseTime", () => {
  it("reads ISO-8601 text exactly as Date.parse does, whatever its digits", () => {
    const r = rng(3);
    const pick = (n: number) => String(Math.floor(r() * n)).padStart(2, "0");
    const times = ["2026-11-22T10:00:00.123Z", "2024-02-29T23:59:59.999Z", "2026-02-30T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-11-22T24:00:00.000Z", "0099-01-01T00:00:00.000Z", "2026-11-22T10:00:00.123+02:00", "2026-11-22 10:00:00.123Z", "2026-11-22T10:00:60.000Z"];
    for (let i = 0; i < 5000; i++) {
      times.push(`${1990 + Math.floor(r() * 60)}-${pick(14)}-${pick(33)}T${pick(26)}:${pick(61)}:${pick(61)}.${String(Math.floor(r() * 1000)).padStart(3, "0")}Z`);
    }
    for (const t of times) {
      const ms = Date.parse(t);
      expect(parseTime(t), t).toBe(Number.isFinite(ms) && ms >= Date.UTC(2000, 0, 1) ? ms : null);
    }
  });
});
