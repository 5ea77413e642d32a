// Trends and stickiness over hand-worked fixture events in the real local ClickHouse: counts,
// unique users (an anonymous visitor identified later is one person), sessions, sum, average and
// nearest-rank percentiles of a property, breakdowns into the top N and "other", filters, weeks,
// days and months in Tokyo where an event's UTC day is another, and the previous period.
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardEnv, type DashboardEnv } from "../app/env.server";
import { parseStickiness, runStickiness, toStickinessSearch } from "../app/insights/stickiness.server";
import { bucketStarts, parseTrends, runTrends, toTrendsSearch, type TrendLine, type TrendsResult } from "../app/insights/trends.server";
import * as trendsCsv from "../app/routes/apps.$app.insights.trends[.csv]";
import * as trendsPage from "../app/routes/apps.$app.insights.trends";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let cfg: DashboardEnv["clickhouse"];
let session = "";
const APP = "app_tr";
const DAY = 86_400_000;
const HOUR = 3_600_000;
// D0 is a Monday (UTC) 10 to 16 days ago; the 7d range ends at D7 12:00 and starts at D0 12:00,
// so its UTC days are D0 … D7 (eight buckets, the first and last half days).
const today = Math.floor(Date.now() / DAY) * DAY;
const D0 = today - 10 * DAY - ((new Date(today - 10 * DAY).getUTCDay() + 6) % 7) * DAY;
const NOW = D0 + 7 * DAY + 12 * HOUR;
const at = (day: number, hour: number, minute = 0): string => new Date(D0 + day * DAY + hour * HOUR + minute * 60_000).toISOString();
const sec = (ms: number): number => ms / 1000;
let seq = 0;

type Row = Record<string, string | number>;
function ev(user: string, anon: string, ts: string, fields: Row = {}): Row {
  return { app_id: APP, message_id: `t${++seq}`, user_id: user, anonymous_id: anon, timestamp: ts, received_at: ts, type: "track", ...fields };
}
const purchase = (amount: number, plan: string, country: string, platform: string, sessionId: string): Row => ({
  event: "Purchase",
  properties: JSON.stringify({ amount, plan }),
  country,
  platform,
  session_id: sessionId,
});

// The month that starts 2 to 33 days ago, for monthly buckets (its first day M, UTC).
const thisMonth = new Date(today);
const M = thisMonth.getUTCDate() >= 3 ? Date.UTC(thisMonth.getUTCFullYear(), thisMonth.getUTCMonth(), 1) : Date.UTC(thisMonth.getUTCFullYear(), thisMonth.getUTCMonth() - 1, 1);
const PREV_MONTH = new Date(M - DAY);
const M_PREV = Date.UTC(PREV_MONTH.getUTCFullYear(), PREV_MONTH.getUTCMonth(), 1);

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [{ id: APP, name: "Trends" }]);
  cfg = dashboardEnv(h.env).clickhouse;
  await h.insertEvents([
    // Purchases. u1 (DE, iOS, plan pro): D0 13:00 (10) and 14:00 (20) in s1, D2 15:00 (25) in s6;
    // an 11:00 purchase on D0 (1000) is before the range, in the previous period.
    ev("u1", "", at(0, 11), purchase(1000, "pro", "DE", "ios", "s0")),
    ev("u1", "", at(0, 13), purchase(10, "pro", "DE", "ios", "s1")),
    ev("u1", "", at(0, 14), purchase(20, "pro", "DE", "ios", "s1")),
    ev("u1", "", at(2, 15), purchase(25, "pro", "DE", "ios", "s6")),
    // a2 buys anonymously D1 09:00 (30), identifies as u2 at 09:05, buys again at 10:00 (40).
    ev("", "a2", at(1, 9), purchase(30, "free", "FR", "web", "s2")),
    ev("u2", "a2", at(1, 9, 5), { type: "identify", country: "FR", platform: "web", session_id: "s2" }),
    ev("u2", "", at(1, 10), purchase(40, "free", "FR", "web", "s2")),
    // u3 (US, Android, team) D2 10:00 (50); u4 (GB, web, basic) D3 10:00 (70).
    ev("u3", "", at(2, 10), purchase(50, "team", "US", "android", "s3")),
    ev("u4", "", at(3, 10), purchase(70, "basic", "GB", "web", "s5")),
    // Ten days before D0 … three: a purchase in the previous period (D-3).
    ev("u9", "", at(-3, 10), purchase(5, "pro", "DE", "ios", "s9")),
    // Pages: u1 D0 13:30; a2 (anonymous, later u2) D1 08:00 and u2 D1 10:30.
    ev("u1", "", at(0, 13, 30), { type: "page", path: "/", session_id: "s1" }),
    ev("", "a2", at(1, 8), { type: "page", path: "/pricing", session_id: "s2" }),
    ev("u2", "", at(1, 10, 30), { type: "page", path: "/checkout", session_id: "s2" }),
    // Load times 1 … 20 ms on D4, for percentiles.
    ...Array.from({ length: 20 }, (_, i) => ev("u6", "", at(4, 10, i), { event: "Load", properties: JSON.stringify({ ms: i + 1 }) })),
    // Pings around midnight in Tokyo (UTC+9): D0 14:00 UTC is D0 23:00 there, D0 16:00 is D1
    // 01:00; D6 14:00 is Sunday D6 23:00, D6 16:00 is Monday D7 01:00 (the next week).
    ev("u5", "", at(0, 14), { event: "Ping" }),
    ev("u5", "", at(0, 16), { event: "Ping" }),
    ev("u5", "", at(6, 14), { event: "Ping" }),
    ev("u5", "", at(6, 16), { event: "Ping" }),
    // Ticks on the last day of the month before M: 14:00 UTC is 23:00 that day in Tokyo, 16:00
    // UTC is already M 01:00 there.
    { ...ev("u5", "", new Date(M - DAY + 14 * HOUR).toISOString(), { event: "Tick" }) },
    { ...ev("u5", "", new Date(M - DAY + 16 * HOUR).toISOString(), { event: "Tick" }) },
    // Another app with the same people and events: never counted.
    { ...ev("u1", "", at(0, 13), purchase(10, "pro", "DE", "ios", "s1")), app_id: "app_noise" },
    { ...ev("u7", "", at(1, 13), purchase(10, "pro", "DE", "ios", "sx")), app_id: "app_noise" },
  ]);
}, 180_000);

afterAll(async () => h?.close());

const trend = async (query: string, now = NOW): Promise<TrendsResult> => {
  const def = parseTrends(new URL(`http://x/?${query}`), now);
  expect(def.problems).toEqual([]);
  return runTrends(cfg, APP, def);
};
const days = Array.from({ length: 8 }, (_, i) => sec(D0 + i * DAY));
const only = (r: TrendsResult): TrendLine => {
  expect(r.lines).toHaveLength(1);
  const line = r.lines[0];
  if (!line) throw new Error("no line");
  return line;
};
const byLabel = (r: TrendsResult, label: string): TrendLine | undefined => r.lines.find((l) => l.label === label);

describe("trends", () => {
  it("counts an event per UTC day over the range, with every day of it and the range's total", async () => {
    const r = await trend("range=7d&event0=Purchase&measure0=total&interval=day");
    expect(r.buckets).toEqual(days);
    // D0 13:00 and 14:00 (11:00 is before the range); D1 09:00, 10:00; D2 10:00, 15:00; D3.
    expect(only(r)).toMatchObject({ values: [2, 2, 2, 1, 0, 0, 0, 0], total: 7, previous: null });
  });

  it("counts a person once when they were anonymous before they identified", async () => {
    const r = await trend("range=7d&event0=Purchase&measure0=users&interval=day");
    // D1: a2's purchase and u2's are one person; D2: u3 and u1. Over the range u1 u2 u3 u4, not 5.
    expect(only(r)).toMatchObject({ values: [1, 1, 2, 1, 0, 0, 0, 0], total: 4 });
    const pages = await trend("range=7d&type0=page&measure0=users&interval=day");
    // a2's /pricing at 08:00 (before identifying) and u2's /checkout: one person on D1.
    expect(only(pages)).toMatchObject({ values: [1, 1, 0, 0, 0, 0, 0, 0], total: 2 });
  });

  it("counts unique sessions", async () => {
    const r = await trend("range=7d&event0=Purchase&measure0=sessions&interval=day");
    // D2: s3 and s6; over the range s1 s2 s3 s5 s6.
    expect(only(r)).toMatchObject({ values: [1, 1, 2, 1, 0, 0, 0, 0], total: 5 });
  });

  it("sums and averages a numeric property; days without a value have no average", async () => {
    const sum = await trend("range=7d&event0=Purchase&measure0=sum&prop0=amount&interval=day");
    // 10+20, 30+40, 50+25, 70; 245 in all.
    expect(only(sum)).toMatchObject({ values: [30, 70, 75, 70, 0, 0, 0, 0], total: 245 });
    const avg = await trend("range=7d&event0=Purchase&measure0=avg&prop0=amount&interval=day");
    // 15, 35, 37.5, 70; 245 / 7 = 35.
    expect(only(avg)).toMatchObject({ values: [15, 35, 37.5, 70, null, null, null, null], total: 35 });
  });

  it("gives nearest-rank percentiles: the value at rank ceil(p·n)", async () => {
    // 20 values 1 … 20 ms: ranks 10, 18, 19 and 20.
    const want = { p50: 10, p90: 18, p95: 19, p99: 20 } as const;
    for (const [p, v] of Object.entries(want)) {
      const r = await trend(`range=7d&event0=Load&measure0=${p}&prop0=ms&interval=day`);
      expect({ p, total: only(r).total, d4: only(r).values[4] }).toEqual({ p, total: v, d4: v });
    }
  });

  it("gives a shared device's anonymous events to its first user, the ids tied in separate inserts", async () => {
    // a8 opens the app anonymously, signs in as u8, later as u9; each insert leaves its own row
    // of the identity map until parts merge. a8's anonymous open is u8's, so two people opened it.
    const shared = "app_tr_shared";
    const rows = [ev("", "a8", at(1, 9), { event: "Open" }), ev("u8", "a8", at(1, 10), { type: "identify" }), ev("u9", "a8", at(2, 10), { type: "identify" }), ev("u9", "", at(2, 11), { event: "Open" })];
    for (const row of rows) await h.insertEvents([{ ...row, app_id: shared }]);
    const def = parseTrends(new URL("http://x/?range=7d&event0=Open&measure0=users&interval=day"), NOW);
    const r = await runTrends(cfg, shared, def);
    expect([only(r).total, only(r).values.slice(0, 4)]).toEqual([2, [0, 1, 1, 0]]);
  });

  it("breaks down by a dimension into the top N and other, other counting its people once", async () => {
    const r = await trend("range=7d&event0=Purchase&measure0=total&interval=day&breakdown=country&top=2");
    // DE 3 (D0 2, D2 1), FR 2 (D1), then US 1 (D2) and GB 1 (D3) together as other.
    expect(r.lines.map((l) => [l.label, l.values.slice(0, 4), l.total])).toEqual([
      ["DE", [2, 0, 1, 0], 3],
      ["FR", [0, 2, 0, 0], 2],
      ["Other", [0, 0, 1, 1], 2],
    ]);
    const users = await trend("range=7d&event0=Purchase&measure0=users&interval=day&breakdown=country&top=2");
    // Every country has one person (FR's a2 and u2 are one): ties rank by name, DE and FR; other is u3 and u4.
    expect(users.lines.map((l) => [l.label, l.total])).toEqual([
      ["DE", 1],
      ["FR", 1],
      ["Other", 2],
    ]);
  });

  it("breaks down by a property, ranking by the measure", async () => {
    const r = await trend("range=7d&event0=Purchase&measure0=sum&prop0=amount&interval=day&breakdown=prop&breakdown_prop=plan&top=2");
    // basic 70 and free 30+40 = 70 tie (by name), pro 10+20+25 and team 50 are other: 105.
    expect(r.lines.map((l) => [l.label, l.total])).toEqual([
      ["basic", 70],
      ["free", 70],
      ["Other", 105],
    ]);
  });

  it("applies filters, and several series side by side", async () => {
    const ios = await trend("range=7d&event0=Purchase&measure0=total&interval=day&platform=ios");
    expect(only(ios).total).toBe(3);
    const pro = await trend("range=7d&event0=Purchase&measure0=total&interval=day&prop=plan:pro");
    expect(only(pro).total).toBe(3);
    const two = await trend("range=7d&event0=Purchase&measure0=total&type1=page&measure1=total&interval=day");
    expect(two.lines.map((l) => [l.label, l.total])).toEqual([
      ["Purchase · total count", 7],
      ["page events · total count", 3],
    ]);
  });

  it("puts days and weeks where Tokyo's calendar has them, not UTC's", async () => {
    const utcDays = await trend("range=7d&event0=Ping&measure0=total&interval=day");
    // UTC: two pings on D0, two on D6.
    expect(only(utcDays).values).toEqual([2, 0, 0, 0, 0, 0, 2, 0]);
    const tokyoDays = await trend("range=7d&event0=Ping&measure0=total&interval=day&tz=Asia/Tokyo");
    // Tokyo days start at 15:00 UTC the day before; the range (D0 21:00 to D7 21:00 there) spans D0 … D7.
    expect(tokyoDays.buckets).toEqual(days.map((d) => d - 9 * 3600));
    expect(only(tokyoDays).values).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
    const utcWeeks = await trend("range=7d&event0=Ping&measure0=total&interval=week");
    expect(utcWeeks.buckets).toEqual([sec(D0), sec(D0 + 7 * DAY)]);
    expect(only(utcWeeks).values).toEqual([4, 0]);
    const tokyoWeeks = await trend("range=7d&event0=Ping&measure0=total&interval=week&tz=Asia/Tokyo");
    // Monday D7 01:00 in Tokyo opens the next week there.
    expect(tokyoWeeks.buckets).toEqual([sec(D0) - 9 * 3600, sec(D0 + 7 * DAY) - 9 * 3600]);
    expect(only(tokyoWeeks).values).toEqual([3, 1]);
  });

  it("puts months where Tokyo's calendar has them", async () => {
    const utc = await trend("range=90d&event0=Tick&measure0=total&interval=month", Date.now());
    const valueAt = (r: TrendsResult, t: number): number | null | undefined => only(r).values[r.buckets.indexOf(t)];
    expect(valueAt(utc, sec(M_PREV))).toBe(2);
    expect(valueAt(utc, sec(M))).toBe(0);
    const tokyo = await trend("range=90d&event0=Tick&measure0=total&interval=month&tz=Asia/Tokyo", Date.now());
    expect(valueAt(tokyo, sec(M_PREV) - 9 * 3600)).toBe(1);
    expect(valueAt(tokyo, sec(M) - 9 * 3600)).toBe(1);
  });

  it("compares with the previous period bucket by bucket", async () => {
    const r = await trend("range=7d&event0=Purchase&measure0=total&interval=day&compare=1");
    // The previous 7 days are D-7 12:00 … D0 12:00: D-3 10:00 is its fifth day, D0 11:00 its eighth.
    expect(r.previousBuckets).toEqual(days.map((d) => d - 7 * 86_400));
    expect(only(r)).toMatchObject({ values: [2, 2, 2, 1, 0, 0, 0, 0], previous: [0, 0, 0, 0, 1, 0, 0, 1], previousTotal: 2 });
  });

  it("counts custom days, whole days of the time zone with both ends included, and the days before them", async () => {
    const day = (d: number): string => new Date(D0 + d * DAY).toISOString().slice(0, 10);
    const custom = `range=custom&from=${day(1)}&to=${day(2)}&event0=Purchase&measure0=total&interval=day`;
    const utc = await trend(`${custom}&compare=1`);
    expect(utc.buckets).toEqual([sec(D0 + DAY), sec(D0 + 2 * DAY)]);
    // D1 09:00 and 10:00; D2 10:00 and 15:00. Before them, D-1 and D0: D0 11:00, 13:00, 14:00.
    expect(only(utc)).toMatchObject({ values: [2, 2], total: 4, previous: [0, 3], previousTotal: 3 });
    // Tokyo's D1 and D2 run from D0 15:00 to D2 15:00 UTC: D2 15:00 is D3 00:00 there.
    const tokyo = await trend(`${custom}&tz=Asia/Tokyo`);
    expect(tokyo.buckets).toEqual([sec(D0 + DAY) - 9 * 3600, sec(D0 + 2 * DAY) - 9 * 3600]);
    expect(only(tokyo)).toMatchObject({ values: [2, 1], total: 3 });
    const def = parseTrends(new URL(`http://x/?${custom}&tz=Asia/Tokyo`), NOW);
    expect(toTrendsSearch(def)).toContain(`range=custom&from=${day(1)}&to=${day(2)}`);
    expect(parseTrends(new URL(`http://x/?${toTrendsSearch(def)}`), NOW)).toEqual(def);
    // Days the wrong way round, or not days at all: the default range, and why.
    for (const bad of [`range=custom&from=${day(2)}&to=${day(1)}`, "range=custom&from=2026-02-30&to=2026-03-01", "range=custom&from=yesterday"]) {
      const d = parseTrends(new URL(`http://x/?${bad}`), NOW);
      expect(d.range.key).toBe("7d");
      expect(d.problems).toHaveLength(1);
    }
  });

  it("reads a shared link back to the same definition, and says what it ignored", () => {
    const q = "range=30d&type0=track&event0=Purchase&measure0=p95&prop0=amount&event1=Load&measure1=users&interval=week&breakdown=prop&breakdown_prop=plan&top=3&compare=1&display=bar&tz=Asia%2FTokyo&platform=ios&prop=plan%3Apro";
    const def = parseTrends(new URL(`http://x/?${q}`), NOW);
    expect(def.problems).toEqual([]);
    expect(parseTrends(new URL(`http://x/?${toTrendsSearch(def)}`), NOW)).toEqual(def);
    const bad = parseTrends(new URL("http://x/?range=7d&measure0=median&type1=click&measure2=sum&interval=hour&range=7d&breakdown=shoe&tz=Mars/Base"), NOW);
    expect(bad.series).toEqual([
      { type: "", event: "", measure: "total", prop: "" },
      { type: "", event: "", measure: "total", prop: "" },
      { type: "", event: "", measure: "total", prop: "" },
    ]);
    expect(bad.breakdown).toEqual({ kind: "none" });
    expect(bad.tz).toBe("UTC");
    expect(bad.problems).toHaveLength(5);
    // 90 days of hours are 2,160 buckets: days instead.
    const coarse = parseTrends(new URL("http://x/?range=90d&interval=hour"), NOW);
    expect(coarse.interval).toBe("day");
    expect(coarse.problems).toHaveLength(1);
  });
});

describe("stickiness", () => {
  const sticky = async (query: string) => {
    const def = parseStickiness(new URL(`http://x/?${query}`), NOW);
    expect(def.problems).toEqual([]);
    expect(parseStickiness(new URL(`http://x/?${toStickinessSearch(def)}`), NOW)).toEqual(def);
    return runStickiness(cfg, APP, def);
  };

  it("counts on how many days of each week people did the event, a person identified midweek once", async () => {
    const r = await sticky("range=7d&event=Purchase&period=week");
    // The week of D0 (read from its Monday): u1 on D0 and D2; u2 on D1 (a2's purchase is theirs);
    // u3 on D2; u4 on D3. The week of D7 has none yet.
    expect(r.people).toEqual([3, 1, 0, 0, 0, 0, 0]);
    expect(r).toMatchObject({ total: 4, persons: 4, periods: [sec(D0), sec(D0 + 7 * DAY)] });
  });

  it("counts days and weeks in the time zone", async () => {
    const utc = await sticky("range=7d&event=Ping&period=week");
    // UTC: D0 (twice) and D6 (twice) in the week of D0: two days.
    expect(utc.people).toEqual([0, 1, 0, 0, 0, 0, 0]);
    const tokyo = await sticky("range=7d&event=Ping&period=week&tz=Asia%2FTokyo");
    // Tokyo: D0, D1 and D6 in the week of D0; Monday D7 in the next week.
    expect(tokyo.people).toEqual([1, 0, 1, 0, 0, 0, 0]);
    expect(tokyo).toMatchObject({ total: 2, persons: 1 });
  });

  it("counts days of the month, up to 31", async () => {
    const r = await sticky("range=30d&type=page&period=month");
    expect(r.people).toHaveLength(31);
    // u1 on D0, u2 (a2 included) on D1: one day each, whatever month D0 and D1 fall in.
    expect(r.people[0]).toBe(2);
    expect(r.total).toBe(2);
  });
});

describe("the trends page and its CSV", () => {
  // The page reads the range up to now: the fixtures' D0 … D3 are 7 to 16 days ago, inside 30d.
  const q = "range=30d&event0=Purchase&measure0=users&interval=week&breakdown=country&top=2";

  it("shows the trend the link defines, and says what it ignored", async () => {
    const res = await run(() => trendsPage.loader({ request: browserRequest(`/apps/${APP}/insights/trends?${q}&tz=Nowhere`, { session }), params: { app: APP }, context: h.context }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: TrendsResult | null; error: string | null; def: { problems: string[] } };
    expect(body.error).toBeNull();
    expect(body.def.problems).toEqual(['"Nowhere" is not a time zone; UTC was used.']);
    // People per country over the 30 days: DE u1 and u9 (D-3), FR u2 (a2 included); US and GB
    // (one each) rank after FR by name: other u3 and u4.
    expect(body.result?.lines.map((l) => [l.label, l.total])).toEqual([
      ["DE", 2],
      ["FR", 1],
      ["Other", 2],
    ]);
  });

  it("exports one line per line of the chart and bucket", async () => {
    const res = await run(() => trendsCsv.loader({ request: browserRequest(`/apps/${APP}/insights/trends.csv?${q}`, { session }), params: { app: APP }, context: h.context }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("line,series,breakdown,bucket,value,previous_bucket,previous_value");
    // The week of D0 (a Monday): DE 1, FR 1, other 2 (u3 on D2, u4 on D3).
    const week = new Date(D0).toISOString();
    expect(lines.filter((l) => l.includes(`,${week},`))).toEqual([`DE,1,DE,${week},1,,`, `FR,1,FR,${week},1,,`, `Other,1,(other),${week},2,,`]);
  });
});

describe("buckets", () => {
  const SQL = {
    hour: "toStartOfHour(t, {tz:String})",
    day: "toStartOfDay(t, {tz:String})",
    week: "toDateTime(toMonday(t, {tz:String}), {tz:String})",
    month: "toDateTime(toStartOfMonth(t, {tz:String}), {tz:String})",
  } as const;

  it("lists the same buckets as ClickHouse's calendar, across daylight saving changes and half-hour zones", async () => {
    const ch = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter });
    // Spring and autumn changes in Europe and America, and India's half hour.
    const spans = [
      { from: Date.UTC(2026, 2, 1) / 1000, to: Date.UTC(2026, 3, 20) / 1000 },
      { from: Date.UTC(2026, 9, 20, 7, 30) / 1000, to: Date.UTC(2026, 10, 12, 5) / 1000 },
    ];
    try {
      for (const tz of ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]) {
        for (const interval of ["hour", "day", "week", "month"] as const) {
          for (const span of spans) {
            // Every minute of the span, bucketed by ClickHouse.
            const rs = await ch.query({
              query: `SELECT DISTINCT toUnixTimestamp(${SQL[interval]}) AS b FROM (SELECT toDateTime({from:UInt32} + number * 60, 'UTC') AS t FROM numbers(intDiv({to:UInt32} - {from:UInt32}, 60))) ORDER BY b`,
              query_params: { ...span, tz },
              format: "JSONEachRow",
            });
            const want = (await rs.json<{ b: number | string }>()).map((r) => Number(r.b));
            expect({ tz, interval, span, buckets: bucketStarts(span, interval, tz) }).toEqual({ tz, interval, span, buckets: want });
          }
        }
      }
    } finally {
      await ch.close();
    }
  });
});
