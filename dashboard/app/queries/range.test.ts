import { describe, expect, it } from "vitest";
import { zoneDayStart } from "../insights/calendar";
import { customDays, parseRange, rangeName, rangeSearch, rangeText, writeRange } from "./range";

const NOW = Date.parse("2026-11-20T10:30:00Z");
const url = (q: string): URL => new URL(`http://x/?${q}`);
const sec = (iso: string): number => Date.parse(iso) / 1000;

describe("custom ranges", () => {
  it("covers the picked days whole, midnight to midnight UTC, both days included", () => {
    const r = parseRange(url("range=custom&from=2026-11-01&to=2026-11-15"), NOW);
    expect(r).toEqual({ key: "custom", from: sec("2026-11-01T00:00:00Z"), to: sec("2026-11-16T00:00:00Z"), step: 86_400, days: { from: "2026-11-01", to: "2026-11-15" } });
    expect(parseRange(url("range=custom&from=2026-11-03&to=2026-11-03"), NOW)).toMatchObject({ from: sec("2026-11-03T00:00:00Z"), to: sec("2026-11-04T00:00:00Z"), step: 3600 });
  });

  it("falls back to the default range, saying why, when the days cannot be used", () => {
    const problems = ["range=custom&from=2026-11-15&to=2026-11-01", "range=custom&from=2026-02-29&to=2026-03-01", "range=custom&from=2024-01-01&to=2026-11-01", "range=custom&from=2026-12-25&to=2026-12-26", "range=custom"].map((q) => {
      const days = customDays(url(q), NOW);
      expect(parseRange(url(q), NOW).key).toBe("7d");
      return days !== null && "problem" in days ? days.problem : "";
    });
    expect(problems).toEqual([
      "The last day (2026-11-01) is before the first (2026-11-15).",
      "A custom range needs a first and a last day, as 2026-11-01.",
      "A custom range is at most 366 days.",
      "The first day (2026-12-25) is in the future.",
      "A custom range needs a first and a last day, as 2026-11-01.",
    ]);
    expect(customDays(url("range=7d&from=2026-11-01&to=2026-11-15"), NOW)).toBeNull();
  });

  it("is carried by links and named in words and file names", () => {
    const custom = parseRange(url("range=custom&from=2026-11-01&to=2026-11-15"), NOW);
    expect(rangeSearch(custom)).toBe("range=custom&from=2026-11-01&to=2026-11-15");
    expect(rangeText(custom)).toBe("from 2026-11-01 to 2026-11-15");
    expect(rangeName(custom)).toBe("2026-11-01_2026-11-15");
    const preset = parseRange(url("range=30d&from=2026-11-01&to=2026-11-15"), NOW);
    expect(rangeSearch(preset)).toBe("range=30d");
    expect(rangeText(preset)).toBe("in the last 30d");
    // A preset written over a custom range drops its days.
    expect(writeRange(new URLSearchParams("range=custom&from=2026-11-01&to=2026-11-15&event0=x"), preset).toString()).toBe("range=30d&event0=x");
  });
});

describe("zoneDayStart", () => {
  it("finds where a day begins in zones from UTC-10 to UTC+14, on clock-change days too", () => {
    expect(zoneDayStart("2026-11-20", "UTC")).toBe(sec("2026-11-20T00:00:00Z"));
    expect(zoneDayStart("2026-11-20", "Asia/Tokyo")).toBe(sec("2026-11-19T15:00:00Z"));
    expect(zoneDayStart("2026-11-20", "Pacific/Honolulu")).toBe(sec("2026-11-20T10:00:00Z"));
    expect(zoneDayStart("2026-11-20", "Pacific/Kiritimati")).toBe(sec("2026-11-19T10:00:00Z"));
    expect(zoneDayStart("2026-11-20", "Asia/Kolkata")).toBe(sec("2026-11-19T18:30:00Z"));
    // Berlin moves to summer time on 2026-03-29 at 02:00: the day still begins at midnight (UTC+1).
    expect(zoneDayStart("2026-03-29", "Europe/Berlin")).toBe(sec("2026-03-28T23:00:00Z"));
    expect(zoneDayStart("2026-03-30", "Europe/Berlin")).toBe(sec("2026-03-29T22:00:00Z"));
    // Santiago skips from 23:59:59 to 01:00 on 2026-09-06: that day begins at 01:00 (UTC-3).
    expect(zoneDayStart("2026-09-06", "America/Santiago")).toBe(sec("2026-09-06T04:00:00Z"));
  });
});
