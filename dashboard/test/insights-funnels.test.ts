// Funnels over hand-worked fixture events in the real local ClickHouse: loose and strict order,
// steps out of order, conversions just inside and just outside the window, a person who starts
// anonymously and converts after identifying, breakdowns with "other", median times, the
// people who dropped at a step in the users view, the page, its CSV, and no other app's data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardEnv } from "../app/env.server";
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
  ]);
  // Out of order and in several inserts, as separate batches arrive: the funnel sorts by time.
  const shuffled = [...FIXTURES].reverse();
  await h.insertEvents(shuffled.slice(0, 8));
  await h.insertEvents(shuffled.slice(8));
  await h.insertEvents([...NOISE, ...PLAN]);
}, 120_000);

afterAll(async () => h?.close());

const funnel = async (search: string, app = "app_fn"): Promise<FunnelsResult> =>
  runFunnels(dashboardEnv(h.env).clickhouse, app, parseFunnels(new URL(`http://x/?${search}`)));
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
