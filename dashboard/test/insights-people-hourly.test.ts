// The hours people were active (people_hourly, 0017_people_hourly.sql) answer unique people and
// stickiness exactly as raw events do: random traffic in the real local ClickHouse against a model
// of the same events here, in zones whose hours are UTC's (read from the rollup) and one half an
// hour off (read from events); and the rollup is what those definitions read, and only those.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../schemas/events";
import { dashboardEnv, type DashboardEnv } from "../app/env.server";
import { zonedDay } from "../app/insights/calendar";
import { parseStickiness, runStickiness } from "../app/insights/stickiness.server";
import { parseTrends, runTrends, type TrendsResult } from "../app/insights/trends.server";
import { startHarness, type Harness } from "./harness";

let h: Harness;
let cfg: DashboardEnv["clickhouse"];
const APP = "app_ph";
const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.now();

// A seeded generator, so a failure can be replayed.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Ev {
  user: string;
  anon: string;
  ms: number;
  type: string;
  country: string;
}

// Forty people over the last 95 days. Each starts anonymous on a device of their own; most
// identify at some point (the device's first user keeps it; a few devices pass to a second
// user), after which their events carry the user id, with or without the device's. Some hours
// are hit on their first and last millisecond, where a zone's day or the rollup's hour turns.
function traffic(): Ev[] {
  const rnd = random(17);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const start = NOW - 95 * DAY;
  const out: Ev[] = [];
  for (let k = 0; k < 40; k++) {
    const identifiedAt = k % 5 === 4 ? Infinity : start + Math.floor(rnd() * 95 * DAY);
    if (identifiedAt !== Infinity) out.push({ user: `u${k}`, anon: `a${k}`, ms: identifiedAt, type: "identify", country: "DE" });
    if (k % 10 === 1) out.push({ user: `u${k}-second`, anon: `a${k}`, ms: Math.min(identifiedAt + DAY, NOW - HOUR), type: "identify", country: "DE" });
    for (let i = 0; i < 40; i++) {
      let ms = start + Math.floor(rnd() * 95 * DAY);
      const edge = rnd();
      if (edge < 0.15) ms = Math.floor(ms / HOUR) * HOUR;
      else if (edge < 0.3) ms = Math.floor(ms / HOUR) * HOUR + HOUR - 1;
      const after = ms > identifiedAt;
      out.push({
        user: after ? `u${k}` : "",
        anon: after && rnd() < 0.5 ? "" : `a${k}`,
        ms,
        type: pick(["track", "track", "page", "screen", "crash"]),
        country: pick(["DE", "FR", "US", ""]),
      });
    }
  }
  return out;
}
const EVENTS = traffic();

// The person of an event as person.ts says: its user id, else the first user its anonymous id
// was seen with, else the anonymous id.
const became = new Map<string, { user: string; ms: number }>();
for (const e of EVENTS) {
  if (!e.user || !e.anon) continue;
  const seen = became.get(e.anon);
  if (!seen || e.ms < seen.ms) became.set(e.anon, { user: e.user, ms: e.ms });
}
const personOf = (e: Ev): string => e.user || became.get(e.anon)?.user || e.anon;

const monday = (day: string): string => {
  const d = new Date(`${day}T00:00:00Z`);
  return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
};
type Interval = "day" | "week" | "month";
const bucketOf = (day: string, interval: Interval): string => (interval === "day" ? day : interval === "week" ? monday(day) : `${day.slice(0, 7)}-01`);

/** The model's distinct people per bucket (keyed by its first day in `tz`) and over [from, to). */
function people(from: number, to: number, tz: string, interval: Interval, keep: (e: Ev) => boolean): { buckets: Map<string, Set<string>>; all: Set<string> } {
  const buckets = new Map<string, Set<string>>();
  const all = new Set<string>();
  for (const e of EVENTS) {
    if (e.ms < from * 1000 || e.ms >= to * 1000 || !keep(e)) continue;
    const key = bucketOf(zonedDay(e.ms / 1000, tz), interval);
    const set = buckets.get(key) ?? new Set<string>();
    set.add(personOf(e));
    buckets.set(key, set);
    all.add(personOf(e));
  }
  return { buckets, all };
}

/** What the line should hold: each bucket's people and the total, in the result's bucket order. */
const expected = (buckets: readonly number[], tz: string, interval: Interval, m: ReturnType<typeof people>) => ({
  values: buckets.map((b) => m.buckets.get(bucketOf(zonedDay(b, tz), interval))?.size ?? 0),
  total: m.all.size,
});

const trend = async (query: string, app = APP, now = NOW): Promise<TrendsResult> => {
  const def = parseTrends(new URL(`http://x/?${query}`), now);
  expect(def.problems).toEqual([]);
  return runTrends(cfg, app, def);
};

beforeAll(async () => {
  h = await startHarness();
  cfg = dashboardEnv(h.env).clickhouse;
  const iso = (ms: number): string => new Date(ms).toISOString();
  await h.insertEvents(
    EVENTS.map((e, i) => ({ app_id: APP, message_id: `ph${i}`, user_id: e.user, anonymous_id: e.anon, timestamp: iso(e.ms), received_at: iso(e.ms), type: e.type, event: e.type === "track" ? "Tapped" : "", country: e.country })),
  );
}, 180_000);

afterAll(async () => h?.close());

// Tokyo and New York (with its clock changes) keep UTC's hours; Adelaide is half an hour off, with clock changes.
const ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Australia/Adelaide"];

describe("unique people and stickiness from the hours people were active", () => {
  it.each(ZONES)("counts unique people per day, week and month as the events say, in %s", async (tz) => {
    const zone = `&tz=${encodeURIComponent(tz)}`;
    const daily = await trend(`range=30d&measure0=users&interval=day${zone}`);
    const def = parseTrends(new URL(`http://x/?range=30d${zone}`), NOW);
    const [line] = daily.lines;
    expect(line).toMatchObject(expected(daily.buckets, tz, "day", people(def.range.from, def.range.to, tz, "day", () => true)));

    const weekly = await trend(`range=30d&type0=page&measure0=users&interval=week${zone}`);
    expect(weekly.lines[0]).toMatchObject(expected(weekly.buckets, tz, "week", people(def.range.from, def.range.to, tz, "week", (e) => e.type === "page")));

    const quarter = parseTrends(new URL(`http://x/?range=90d${zone}`), NOW).range;
    const monthly = await trend(`range=90d&type0=crash&measure0=users&interval=month${zone}`);
    expect(monthly.lines[0]).toMatchObject(expected(monthly.buckets, tz, "month", people(quarter.from, quarter.to, tz, "month", (e) => e.type === "crash")));
  });

  it.each(ZONES)("breaks unique people down by country, filters by it and compares periods as the events say, in %s", async (tz) => {
    const zone = `&tz=${encodeURIComponent(tz)}`;
    const { range } = parseTrends(new URL(`http://x/?range=30d${zone}`), NOW);
    const r = await trend(`range=30d&type0=track&measure0=users&interval=day&breakdown=country&top=25${zone}`);
    const countries = ["DE", "FR", "US", ""];
    const lines = countries.map((c) => ({ label: c || "(no country)", ...expected(r.buckets, tz, "day", people(range.from, range.to, tz, "day", (e) => e.type === "track" && e.country === c)) }));
    expect(r.lines.map((l) => ({ label: l.label, values: l.values, total: l.total })).sort((a, b) => a.label.localeCompare(b.label))).toEqual(lines.sort((a, b) => a.label.localeCompare(b.label)));

    const fr = await trend(`range=30d&measure0=users&interval=day&country=FR&compare=1${zone}`);
    const span = range.to - range.from;
    const before = people(range.from - span, range.from, tz, "day", (e) => e.country === "FR");
    expect(fr.lines[0]).toMatchObject({
      ...expected(fr.buckets, tz, "day", people(range.from, range.to, tz, "day", (e) => e.country === "FR")),
      previous: expected(fr.previousBuckets ?? [], tz, "day", before).values,
      previousTotal: before.all.size,
    });
  });

  it.each(ZONES)("counts each person's active days per week as the events say, in %s", async (tz) => {
    for (const type of ["", "page"]) {
      const def = parseStickiness(new URL(`http://x/?range=30d&period=week&tz=${encodeURIComponent(tz)}${type ? `&type=${type}` : ""}`), NOW);
      const r = await runStickiness(cfg, APP, def);
      // The model: from the first week's Monday in the zone, each person's days in each week.
      const weeks = new Map<string, Set<string>>();
      for (const e of EVENTS) {
        if (e.ms < (r.periods[0] ?? 0) * 1000 || e.ms >= def.range.to * 1000 || (type && e.type !== type)) continue;
        const day = zonedDay(e.ms / 1000, tz);
        const key = `${personOf(e)} ${monday(day)}`;
        weeks.set(key, (weeks.get(key) ?? new Set<string>()).add(day));
      }
      const histogram = Array.from({ length: 7 }, () => 0);
      for (const days of weeks.values()) histogram[days.size - 1] = (histogram[days.size - 1] ?? 0) + 1;
      expect(r).toMatchObject({ people: histogram, total: weeks.size, persons: new Set([...weeks.keys()].map((k) => k.split(" ")[0])).size });
    }
  });

  it("is what whole hours of a zone on the hour read, with no filter but country; anything else reads the events", async () => {
    // An app whose rollup holds a person the events do not: the definitions it answers count them.
    const client = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter });
    // A track event two days ago; "now" is half past an hour of that day, so the last hour's
    // range is of minutes (from half past to half past).
    const hour = Math.floor(NOW / HOUR) * HOUR - 2 * DAY;
    await client.insert({ table: "people_hourly", values: [{ app_id: "app_ph_only", hour: hour / 1000, country: "DE", anonymous_id: "a", user_id: "", types: 2 }], format: "JSONEachRow" });
    await client.close();
    const total = async (q: string, now = NOW): Promise<number | null> => (await trend(q, "app_ph_only", now)).lines[0]?.total ?? null;
    const sticky = async (q: string): Promise<number> => (await runStickiness(cfg, "app_ph_only", parseStickiness(new URL(`http://x/?${q}`), NOW))).total;
    expect(await total("range=30d&measure0=users&interval=day")).toBe(1);
    expect(await total("range=30d&type0=track&measure0=users&interval=week&country=DE&tz=Asia%2FTokyo")).toBe(1);
    expect(await total("range=30d&type0=page&measure0=users&interval=day")).toBe(0);
    expect(await sticky("range=30d&type=track")).toBe(1);
    // The events answer: another measure, an event name, another filter or breakdown, a zone off the hour, a range of minutes.
    expect(await total("range=30d&measure0=total&interval=day")).toBe(0);
    expect(await total("range=30d&event0=Tapped&measure0=users&interval=day")).toBe(0);
    expect(await total("range=30d&measure0=users&interval=day&platform=ios")).toBe(0);
    expect((await trend("range=30d&measure0=users&interval=day&breakdown=platform", "app_ph_only")).lines).toEqual([]);
    expect(await total("range=30d&measure0=users&interval=day&tz=Australia%2FAdelaide")).toBe(0);
    expect(await total("range=24h&measure0=users&interval=hour", hour + HOUR)).toBe(1);
    expect(await total("range=1h&measure0=users&interval=hour", hour + HOUR / 2)).toBe(0);
    expect(await sticky("range=30d&event=Tapped")).toBe(0);
    expect(await sticky("range=30d&tz=Australia%2FAdelaide")).toBe(0);
  });

  it("sets one bit per event type, in the order of the types the schemas know", () => {
    const sql = readFileSync(resolve(import.meta.dirname, "../../schemas/sql/clickhouse/0017_people_hourly.sql"), "utf8");
    const lists = [...sql.matchAll(/indexOf\(\[([^\]]*)\]/g)].map((m) => (m[1] ?? "").split(",").map((s) => s.trim().replace(/^'|'$/g, "")));
    expect(lists).toHaveLength(2);
    for (const list of lists) expect(list).toEqual([...EVENT_TYPES]);
  });
});
