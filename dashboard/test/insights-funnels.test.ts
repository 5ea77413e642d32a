// Funnels over hand-worked fixture events in the real local ClickHouse: loose and strict order,
// steps out of order, conversions just inside and just outside the window, a person who starts
// anonymously and converts after identifying, breakdowns with "other", median times, the
// people who dropped at a step in the users view, the page, its CSV, and no other app's data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardEnv } from "../app/env.server";
import { droppedPeopleLink } from "../app/insights/funnels";
import { parseFunnels, runFunnels, toFunnelsSearch, type FunnelsResult, type FunnelSeries } from "../app/insights/funnels.server";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
/** 10:00 UTC two days ago: every fixture event falls in the last 7 days. */
const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000 + 10 * 3600_000;
const at = (ms: number): string => new Date(base + ms).toISOString();
const S = 1000;
const HOUR = 3600 * S;
let seq = 0;

type Row = Record<string, string | number>;
function ev(who: { user?: string; anon?: string }, event: string, ms: number, extra: Row = {}): Row {
  return {
    app_id: "app_fn",
    message_id: `f${String(++seq).padStart(4, "0")}`,
    type: "track",
    event,
    user_id: who.user ?? "",
    anonymous_id: who.anon ?? "",
    timestamp: at(ms),
    received_at: at(ms),
    platform: "web",
    ...extra,
  };
}
const A = "Product Viewed";
const B = "Added to Cart";
const C = "Checkout Started";
const D = "Order Completed";

// Steps A → B → C, window 1 hour. Each person starts at their own hour so nobody's events
// overlap another's; `t0` is that hour's start.
//   p1 user-1   web      A 0, B +60 s, C +180 s                        loose 3, strict 3
//   p2 anon-2   ios      A 0, B +600 s                                  loose 2, strict 2
//   p3 anon-3   web      A 0                                            loose 1, strict 1
//   p4 anon-4   android  B 0, A +100 s, C +200 s (B before A)          loose 1, strict 1
//   p5 anon-5   web      A 0, C +30 s, B +60 s, C +90 s                loose 3 (A, B, C at 90), strict 1 (C before B)
//   p6 anon-6   ios      A 0, B +1 h exactly, C +1 h + 1 ms            loose 2, strict 2 (B just inside, C just outside)
//   p7 anon-7 → user-7  web  A 0 anonymous, identify +100 s, B +200 s, C +300 s as user-7   loose 3, strict 3
//   p8 anon-8   android  A 0, B +1 h + 1 ms                            loose 1, strict 1 (B just outside)
const t0 = (p: number): number => p * 2 * HOUR;
const FIXTURES: Row[] = [
  ev({ user: "user-1", anon: "anon-1" }, A, t0(1)),
  ev({ user: "user-1", anon: "anon-1" }, B, t0(1) + 60 * S),
  ev({ user: "user-1", anon: "anon-1" }, C, t0(1) + 180 * S),
  ev({ anon: "anon-2" }, A, t0(2), { platform: "ios" }),
  ev({ anon: "anon-2" }, B, t0(2) + 600 * S, { platform: "ios" }),
  ev({ anon: "anon-3" }, A, t0(3)),
  ev({ anon: "anon-4" }, B, t0(4), { platform: "android" }),
  ev({ anon: "anon-4" }, A, t0(4) + 100 * S, { platform: "android" }),
  ev({ anon: "anon-4" }, C, t0(4) + 200 * S, { platform: "android" }),
  ev({ anon: "anon-5" }, A, t0(5)),
  ev({ anon: "anon-5" }, C, t0(5) + 30 * S),
  ev({ anon: "anon-5" }, B, t0(5) + 60 * S),
  ev({ anon: "anon-5" }, C, t0(5) + 90 * S),
  ev({ anon: "anon-6" }, A, t0(6), { platform: "ios" }),
  ev({ anon: "anon-6" }, B, t0(6) + HOUR, { platform: "ios" }),
  ev({ anon: "anon-6" }, C, t0(6) + HOUR + 1, { platform: "ios" }),
  ev({ anon: "anon-7" }, A, t0(7)),
  ev({ user: "user-7", anon: "anon-7" }, "", t0(7) + 100 * S, { type: "identify", traits: '{"name":"Grace"}' }),
  ev({ user: "user-7", anon: "anon-7" }, B, t0(7) + 200 * S),
  ev({ user: "user-7", anon: "anon-7" }, C, t0(7) + 300 * S),
  ev({ anon: "anon-8" }, A, t0(8), { platform: "android" }),
  ev({ anon: "anon-8" }, B, t0(8) + HOUR + 1, { platform: "android" }),
];
// Another app with the same ids and a full conversion must never show up.
const NOISE: Row[] = [A, B, C].map((e, i) => ({ ...ev({ anon: "anon-3" }, e, t0(3) + (i + 1) * S), app_id: "app_noise" }));

const PLAN: Row[] = [
  ev({ anon: "q1" }, A, 0, { app_id: "app_plan", properties: '{"plan":"pro"}' }),
  ev({ anon: "q1" }, B, 5 * S, { app_id: "app_plan", properties: '{"plan":"free"}' }),
  ev({ anon: "q2" }, A, 0, { app_id: "app_plan", properties: '{"plan":2}' }),
  ev({ anon: "q2" }, B, 5 * S, { app_id: "app_plan" }),
  ev({ anon: "q3" }, A, 0, { app_id: "app_plan" }),
];

const FUNNEL = `range=7d&step=${encodeURIComponent(A)}&step=${encodeURIComponent(B)}&step=${encodeURIComponent(C)}&window=1h`;

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [
    { id: "app_fn", name: "Shop" },
    { id: "app_noise", name: "Noise" },
    { id: "app_plan", name: "Plans" },
    { id: "app_rand", name: "Random" },
    { id: "app_noise_free", name: "Quiet" },
    { id: "app_edge", name: "Edge" },
  ]);
  // Out of order and in several inserts, as separate batches arrive: the funnel sorts by time.
  const shuffled = [...FIXTURES].reverse();
  await h.insertEvents(shuffled.slice(0, 8));
  await h.insertEvents(shuffled.slice(8));
  await h.insertEvents([...NOISE, ...PLAN]);
}, 120_000);

afterAll(async () => h?.close());

/** One clock for the whole file, so a range's bounds cannot move between inserting and reading. */
const NOW = Date.now();
const funnel = async (search: string, app = "app_fn"): Promise<FunnelsResult> =>
  runFunnels(dashboardEnv(h.env).clickhouse, app, parseFunnels(new URL(`http://x/?${search}`), NOW));
const people = (s: FunnelSeries | undefined): number[] => s?.steps.map((x) => x.people) ?? [];
const medians = (s: FunnelSeries | undefined): Array<number | null> => s?.steps.map((x) => x.medianMs) ?? [];

describe("funnel figures", () => {
  it("counts people through the steps in loose order, with conversion and drop-off", async () => {
    const r = await funnel(FUNNEL);
    // Step 1: all eight. Step 2: p1, p2, p5, p6, p7 (p4's B came before its A; p8's B 1 ms late).
    // Step 3: p1, p5, p7 (p6's C is 1 ms past A + 1 h; p2 never checked out).
    expect(people(r.total)).toEqual([8, 5, 3]);
    expect(r.total.steps.map((s) => s.dropped)).toEqual([0, 3, 2]);
    expect(r.total.steps.map((s) => s.fromFirst)).toEqual([1, 5 / 8, 3 / 8]);
    expect(r.total.steps.map((s) => s.fromPrevious)).toEqual([1, 5 / 8, 3 / 5]);
    expect(r.breakdown).toEqual([]);
    // A funnel has no calendar buckets: the time zone a dashboard passes on changes nothing.
    expect(people((await funnel(`${FUNNEL}&tz=Asia/Tokyo`)).total)).toEqual([8, 5, 3]);
  });

  it("computes the median time between steps and overall", async () => {
    const r = await funnel(FUNNEL);
    // A → B: p1 60, p5 60, p7 200, p2 600, p6 3600 s: median 200 s.
    // B → C: p5 30, p7 100, p1 120 s: median 100 s. A → C: p5 90, p1 180, p7 300 s: median 180 s.
    expect(medians(r.total)).toEqual([null, 200_000, 100_000]);
    expect(r.total.medianTotalMs).toBe(180_000);
  });

  it("in strict order, a later step's event before its turn ends the attempt", async () => {
    const r = await funnel(`${FUNNEL}&order=strict`);
    // p5 did C before B: level 1. Step 2: p1, p2, p6, p7. Step 3: p1, p7.
    expect(people(r.total)).toEqual([8, 4, 2]);
    // A → B: 60, 200, 600, 3600 s: median between 200 and 600 = 400 s. B → C: 100, 120: 110 s. A → C: 180, 300: 240 s.
    expect(medians(r.total)).toEqual([null, 400_000, 110_000]);
    expect(r.total.medianTotalMs).toBe(240_000);
  });

  it("counts a conversion at exactly the window's end and not 1 ms later", async () => {
    // Window 1 h: p6's B at exactly A + 1 h counts, p8's B at A + 1 h + 1 ms does not. A longer
    // window takes both, and p6's C.
    const hour = await funnel(`range=7d&step=${encodeURIComponent(A)}&step=${encodeURIComponent(B)}&window=1h`);
    expect(people(hour.total)).toEqual([8, 5]);
    const twoHours = await funnel(`range=7d&step=${encodeURIComponent(A)}&step=${encodeURIComponent(B)}&window=2h`);
    expect(people(twoHours.total)).toEqual([8, 6]);
    const longer = await funnel(FUNNEL.replace("window=1h", "window=2h"));
    expect(people(longer.total)).toEqual([8, 6, 4]);
  });


  it("counts only steps inside the range: a first step just before it does not start the funnel", async () => {
    // The 24 h range starts at `from`. e1: A 1 s before it, B and C inside: never entered. e2: A
    // exactly at the start (inclusive), B 10 s later: two steps.
    const from = parseFunnels(new URL("http://x/?range=24h"), NOW).range.from * 1000;
    const edge = (who: string, event: string, ms: number): Row => ({ ...ev({ anon: who }, event, 0), app_id: "app_edge", timestamp: new Date(ms).toISOString() });
    await h.insertEvents([edge("e1", A, from - S), edge("e1", B, from + S), edge("e1", C, from + 2 * S), edge("e2", A, from), edge("e2", B, from + 10 * S)]);
    const day = await funnel(FUNNEL.replace("range=7d", "range=24h"), "app_edge");
    expect(people(day.total)).toEqual([1, 1, 0]);
    const week = await funnel(FUNNEL, "app_edge");
    expect(people(week.total)).toEqual([2, 2, 1]);
  });

  it("breaks down by a dimension, busiest first, the rest summed as other", async () => {
    const r = await funnel(`${FUNNEL}&breakdown=platform`);
    // web: p1 3, p3 1, p5 3, p7 3 → 4, 3, 3. android: p4 1, p8 1 → 2, 0, 0. ios: p2 2, p6 2 → 2, 2, 0.
    expect(r.breakdown.map((s) => [s.label, s.other, people(s)])).toEqual([
      ["web", false, [4, 3, 3]],
      ["android", false, [2, 0, 0]],
      ["ios", false, [2, 2, 0]],
    ]);
    expect(people(r.total)).toEqual([8, 5, 3]);
    const top1 = await funnel(`${FUNNEL}&breakdown=platform&top=1`);
    const other = top1.breakdown.find((s) => s.other);
    expect(top1.breakdown.map((s) => [s.label, s.other, people(s)])).toEqual([
      ["web", false, [4, 3, 3]],
      ["", true, [4, 2, 0]],
    ]);
    // Other's A → B: p2 600 s and p6 3600 s: median 2100 s.
    expect(medians(other)).toEqual([null, 2_100_000, null]);
  });

  it("breaks down by a property of the first step's event", async () => {
    // app_plan: q1 A (plan pro), B (plan free); q2 A (plan 2, a number), B; q3 A (no plan).
    const r = await funnel(`${FUNNEL}&breakdown=prop&breakdown_prop=plan`, "app_plan");
    // A person keeps the value of their first step's event: q1 is "pro" though its B says "free".
    expect(r.breakdown.map((s) => [s.label, people(s)])).toEqual([
      ["", [1, 0, 0]],
      ["2", [1, 1, 0]],
      ["pro", [1, 1, 0]],
    ]);
  });
});

describe("against ClickHouse's windowFunnel", () => {
  it("reaches the same step per person as windowFunnel, loose and strict, on random sequences", async () => {
    // 400 people, 8 events each among A, B, C, D and "Other" (not a step), at random seconds within 2
    // hours, through four steps: strict order can then end an attempt past its second step.
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const rows: Row[] = [];
    for (let p = 0; p < 400; p++) {
      for (let i = 0; i < 8; i++) {
        rows.push({ ...ev({ anon: `r${p}` }, [A, B, C, D, "Other"][Math.floor(rand() * 5)] ?? "", Math.floor(rand() * 7200) * S), app_id: "app_rand" });
      }
    }
    await h.insertEvents(rows);
    const direct = async (mode: string): Promise<number[]> => {
      const { createClient } = await import("@clickhouse/client-web");
      const client = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter });
      const rs = await client.query({
        query: `SELECT level, count() AS n FROM (
                  SELECT anonymous_id, windowFunnel(1800000${mode})(toUInt64(toUnixTimestamp64Milli(timestamp)), event = 'Product Viewed', event = 'Added to Cart', event = 'Checkout Started', event = 'Order Completed') AS level
                  FROM events WHERE app_id = 'app_rand' AND event IN ('Product Viewed', 'Added to Cart', 'Checkout Started', 'Order Completed') GROUP BY anonymous_id)
                GROUP BY level ORDER BY level`,
        format: "JSONEachRow",
      });
      const byLevel = new Map((await rs.json<{ level: number; n: string }>()).map((r) => [Number(r.level), Number(r.n)]));
      await client.close();
      return [1, 2, 3, 4].map((k) => [...byLevel].filter(([level]) => level >= k).reduce((sum, [, n]) => sum + n, 0));
    };
    const four = `${FUNNEL.replace("window=1h", "window=30m")}&step=${encodeURIComponent(D)}`;
    const loose = await funnel(four, "app_rand");
    expect(people(loose.total)).toEqual(await direct(""));
    const strict = await funnel(`${four}&order=strict`, "app_rand");
    expect(people(strict.total)).toEqual(await direct(", 'strict_order'"));
    // Not a vacuous comparison: some convert, some do not, and strict order loses some.
    expect(people(loose.total)[3]).toBeGreaterThan(0);
    expect(people(strict.total)[2]).toBeLessThan(people(loose.total)[2] ?? 0);
  });
});

describe("definition in the URL", () => {
  it("reads back what it writes, and names what it ignored", () => {
    const url = new URL(
      `http://x/?range=30d&step=${encodeURIComponent(A)}&step=&step=type:page&step3_prop=path:/checkout&step3_prop=plan:pro&window=2h&order=strict&platform=ios&prop=plan:pro&breakdown=country&top=3`,
    );
    const def = parseFunnels(url);
    expect(def.problems).toEqual([]);
    // The blank second row is dropped; its position still pairs the third row with step3_prop.
    expect(def.steps).toEqual([
      { match: "event", name: A, props: [] },
      { match: "type", name: "page", props: [{ key: "path", value: "/checkout" }, { key: "plan", value: "pro" }] },
    ]);
    const again = parseFunnels(new URL(`http://x/?${toFunnelsSearch(def)}`));
    expect({ ...again, range: again.range.key }).toEqual({ ...def, range: def.range.key });
    expect(toFunnelsSearch(again)).toBe(toFunnelsSearch(def));

    const bad = parseFunnels(new URL(`http://x/?step=A&step=type:nonsense&window=2w&order=sideways&range=1y`));
    expect(bad.window).toEqual({ n: 1, unit: "d" });
    expect(bad.order).toBe("loose");
    expect(bad.steps.map((s) => s.name)).toEqual(["A"]);
    expect(bad.problems).toHaveLength(5);
  });
});

interface PageData {
  def: { steps: unknown[]; problems: string[] };
  result: FunnelsResult | null;
  error: string | null;
}

async function load<T>(mod: { loader: (args: never) => Promise<unknown> }, path: string, app = "app_fn"): Promise<{ status: number; body: T | null; text: string }> {
  const loader = mod.loader as (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;
  const res = await run(() => loader({ request: browserRequest(path, { session }), params: { app }, context: h.context }));
  const text = await res.text();
  return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as T) : null, text };
}

describe("pages", () => {
  it("shows the funnel from its URL, and an empty state without steps", async () => {
    const page = await import("../app/routes/apps.$app.insights.funnels");
    const shown = await load<PageData>(page, `/apps/app_fn/insights/funnels?${FUNNEL}`);
    expect(shown.status).toBe(200);
    expect(shown.body?.error).toBeNull();
    expect(people(shown.body?.result?.total)).toEqual([8, 5, 3]);
    const blank = await load<PageData>(page, "/apps/app_fn/insights/funnels");
    expect(blank.body).toMatchObject({ result: null, error: null, def: { steps: [], problems: [] } });
  });

  it("shows zeros for an app without those events", async () => {
    const r = await funnel(FUNNEL, "app_noise_free");
    expect(people(r.total)).toEqual([0, 0, 0]);
    expect(r.total.medianTotalMs).toBeNull();
  });

  it("exports every step, and every breakdown value's steps, as CSV", async () => {
    const csv = await import("../app/routes/apps.$app.insights.funnels[.csv]");
    const plain = await load(csv, `/apps/app_fn/insights/funnels.csv?${FUNNEL}`);
    expect(plain.status).toBe(200);
    expect(plain.text.trim().split("\r\n")).toEqual([
      "breakdown,step,event,people,of_first_step,of_previous_step,dropped,median_seconds_from_previous",
      ",1,Product Viewed,8,1.0000,1.0000,0,",
      ",2,Added to Cart,5,0.6250,0.6250,3,200.000",
      ",3,Checkout Started,3,0.3750,0.6000,2,100.000",
    ]);
    const split = await load(csv, `/apps/app_fn/insights/funnels.csv?${FUNNEL}&breakdown=platform&top=1`);
    expect(split.text.trim().split("\r\n").map((l) => l.split(",").slice(0, 4).join(","))).toEqual([
      "breakdown,step,event,people",
      "(total),1,Product Viewed,8",
      "(total),2,Added to Cart,5",
      "(total),3,Checkout Started,3",
      "web,1,Product Viewed,4",
      "web,2,Added to Cart,3",
      "web,3,Checkout Started,3",
      "(other),1,Product Viewed,4",
      "(other),2,Added to Cart,2",
      "(other),3,Checkout Started,0",
    ]);
    expect((await load(csv, "/apps/app_fn/insights/funnels.csv?step=A")).status).toBe(400);
  });
});

describe("the people who dropped", () => {
  interface UsersData {
    page: { rows: Array<{ key: string }> } | null;
    dropped: { step: number; reached: string; missed: string; breakdown: { label: string; value: string } | null } | null;
    daily: Array<{ t: number; n: number }>;
  }
  const link = (step: number, extra = "", value?: string): string => {
    const def = parseFunnels(new URL(`http://x/?${FUNNEL}${extra}`));
    return droppedPeopleLink("app_fn", def, step, value);
  };

  it("lists who reached the step before and not this one in the users view", async () => {
    const users = await import("../app/routes/apps.$app.users._index");
    // Step 2: p3 (no B), p4 (B before A), p8 (B 1 ms late). p7 converted after identifying:
    // neither anon-7 nor user-7 is among them.
    const two = await load<UsersData>(users, link(2));
    expect(two.body?.page?.rows.map((r) => r.key).sort()).toEqual(["anon-3", "anon-4", "anon-8"]);
    expect(two.body?.dropped).toEqual({ step: 2, reached: A, missed: B, insight: expect.any(String) as string, breakdown: null });
    // The chart of active users counts only them: p3 and p4 on the first day, p8 after midnight
    // (the whole app had six people that day and two the next).
    expect(two.body?.daily.map((d) => d.n)).toEqual([2, 1]);
    // Step 3: p2 (never checked out) and p6 (1 ms late); strict order adds p5, whose C came first.
    expect((await load<UsersData>(users, link(3))).body?.page?.rows.map((r) => r.key).sort()).toEqual(["anon-2", "anon-6"]);
    expect((await load<UsersData>(users, link(2, "&order=strict"))).body?.page?.rows.map((r) => r.key).sort()).toEqual(["anon-3", "anon-4", "anon-5", "anon-8"]);
  });

  it("narrows to one breakdown value's drop-off from the breakdown table", async () => {
    const users = await import("../app/routes/apps.$app.users._index");
    // Step 2 by platform: android p4 (B before A) and p8 (B late); web p3. iOS lost nobody there.
    const android = await load<UsersData>(users, link(2, "&breakdown=platform", "android"));
    expect(android.body?.page?.rows.map((r) => r.key).sort()).toEqual(["anon-4", "anon-8"]);
    expect(android.body?.dropped?.breakdown).toEqual({ label: expect.any(String) as string, value: "android" });
    const web = await load<UsersData>(users, link(2, "&breakdown=platform", "web"));
    expect(web.body?.page?.rows.map((r) => r.key)).toEqual(["anon-3"]);
    expect((await load<UsersData>(users, link(2, "&breakdown=platform", "ios"))).body?.page?.rows).toEqual([]);
  });

  it("exports the same people as CSV, and ignores a step that does not exist", async () => {
    const usersCsv = await import("../app/routes/apps.$app.users[.csv]");
    const csv = await load(usersCsv, link(3).replace("/users?", "/users.csv?"));
    expect(csv.text.trim().split("\r\n").slice(1).map((l) => l.split(",")[0]).sort()).toEqual(["anon-2", "anon-6"]);
    const users = await import("../app/routes/apps.$app.users._index");
    const none = await load<UsersData>(users, link(2).replace("dropped=2", "dropped=9"));
    expect(none.body?.dropped).toBeNull();
  });
});
