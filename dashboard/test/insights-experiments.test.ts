// A flag's exposures, as the SDK and posthog-js record them (`$feature_flag_called` with the
// flag's key and the variant served), read with the insights in the real local ClickHouse: how
// many people each variant reached, and how many of each went on to convert, so a rollout can be
// judged as an experiment.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardEnv } from "../app/env.server";
import { parseFunnels, runFunnels } from "../app/insights/funnels.server";
import { parseTrends, runTrends } from "../app/insights/trends.server";
import { ownerWithApps, startHarness, type Harness } from "./harness";

let h: Harness;
const APP = "app_exp";
const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000 + 9 * 3600_000;
let seq = 0;

function ev(user: string, event: string, ms: number, properties: Record<string, unknown> = {}): Record<string, string | number> {
  const at = new Date(base + ms).toISOString();
  return { app_id: APP, message_id: `x${String(++seq).padStart(4, "0")}`, type: "track", event, user_id: user, anonymous_id: `a-${user}`, timestamp: at, received_at: at, platform: "web", properties: JSON.stringify(properties) };
}
const exposed = (user: string, flag: string, variant: string, ms: number) => ev(user, "$feature_flag_called", ms, { $feature_flag: flag, $feature_flag_response: variant, $feature_flag_value: variant === "on" });

// new-checkout: u1–u3 on, u4–u6 off. u1 and u2 (on) and u4 (off) buy afterwards; u3 bought only
// before being exposed, so it does not count. u7 saw another flag only. u1's second exposure is
// the same person.
const FIXTURES = [
  exposed("u1", "new-checkout", "on", 0),
  exposed("u1", "new-checkout", "on", 60_000),
  ev("u1", "Order Completed", 120_000),
  exposed("u2", "new-checkout", "on", 0),
  ev("u2", "Order Completed", 600_000),
  ev("u3", "Order Completed", 0),
  exposed("u3", "new-checkout", "on", 60_000),
  exposed("u4", "new-checkout", "off", 0),
  ev("u4", "Order Completed", 30_000),
  exposed("u5", "new-checkout", "off", 0),
  exposed("u6", "new-checkout", "off", 0),
  exposed("u7", "dark-mode", "on", 0),
  ev("u7", "Order Completed", 60_000),
];

beforeAll(async () => {
  h = await startHarness();
  await ownerWithApps(h, [{ id: APP, name: "Experiments" }]);
  await h.insertEvents(FIXTURES);
}, 120_000);

afterAll(async () => h?.close());

const NOW = Date.now();

describe("a flag's exposures in the insights", () => {
  it("a funnel from exposure to purchase, broken down by variant, compares the variants' conversion", async () => {
    const q = `range=7d&step=${encodeURIComponent("$feature_flag_called")}&step1_prop=${encodeURIComponent("$feature_flag:new-checkout")}&step=${encodeURIComponent("Order Completed")}&window=1d&breakdown=prop&breakdown_prop=${encodeURIComponent("$feature_flag_response")}`;
    const def = parseFunnels(new URL(`http://x/?${q}`), NOW);
    expect(def.problems).toEqual([]);
    const r = await runFunnels(dashboardEnv(h.env).clickhouse, APP, def);
    const byVariant = Object.fromEntries(r.breakdown.map((s) => [s.label, s.steps.map((x) => x.people)]));
    expect(byVariant).toEqual({ on: [3, 2], off: [3, 1] });
    expect(r.total.steps.map((x) => x.people)).toEqual([6, 3]);
  });

  it("a trend of unique people exposed, by variant", async () => {
    const q = `range=7d&event0=${encodeURIComponent("$feature_flag_called")}&measure0=users&interval=day&prop=${encodeURIComponent("$feature_flag:new-checkout")}&breakdown=prop&breakdown_prop=${encodeURIComponent("$feature_flag_response")}`;
    const def = parseTrends(new URL(`http://x/?${q}`), NOW);
    expect(def.problems).toEqual([]);
    const r = await runTrends(dashboardEnv(h.env).clickhouse, APP, def);
    expect(Object.fromEntries(r.lines.map((l) => [l.label, l.total]))).toEqual({ on: 3, off: 3 });
  });
});
