import { describe, expect, it } from "vitest";
import { AlertRuleSchema, type AlertRuleInput } from "../../../schemas";
import { initialState, step, testIntent, type Measurement, type NotificationIntent, type RuleRef, type RuleState } from "./state";

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 10, 0);

function ruleOf(over: Partial<AlertRuleInput> = {}): RuleRef {
  const rule = AlertRuleSchema.parse({
    name: "Checkout failures",
    metric: { kind: "events", name: "Checkout Failed" },
    window: "1m",
    condition: { type: "threshold", direction: "above", value: 5 },
    endpointIds: ["wh_1"],
    cooldownMinutes: 0,
    ...over,
  });
  return { id: "rule_1", appId: "app_1", name: rule.name, rule };
}

/** Runs one evaluation per minute over the values and collects what was notified. */
function run(ref: RuleRef, values: Array<Measurement | number>, start: RuleState = initialState()): { sent: Array<{ minute: number; n: NotificationIntent }>; state: RuleState; states: string[] } {
  let state = start;
  const sent: Array<{ minute: number; n: NotificationIntent }> = [];
  const states: string[] = [];
  values.forEach((v, minute) => {
    const m = typeof v === "number" ? { value: v, samples: v } : v;
    const s = step(ref, state, m, T0 + minute * MIN);
    if (s.intent !== null) sent.push({ minute, n: s.intent });
    state = s.next;
    states.push(state.state);
  });
  return { sent, state, states };
}

const types = (r: { sent: Array<{ minute: number; n: NotificationIntent }> }): string[] => r.sent.map((s) => `${s.minute}:${s.n.type}`);

describe("alert state machine", () => {
  it("fires when a count goes above its threshold and resolves when the window is clear", () => {
    const r = run(ruleOf(), [5, 6, 6, 0]);
    expect(types(r)).toEqual(["1:firing", "3:resolved"]);
    expect(r.sent[0]?.n).toMatchObject({ type: "firing", value: 6, threshold: 5, rule: { id: "rule_1", appId: "app_1", endpointIds: ["wh_1"], window: 1 } });
    expect(r.states).toEqual(["ok", "firing", "firing", "resolved"]);
  });

  it("resolves only after resolveAfter consecutive clear evaluations; a bad minute in between starts the count again", () => {
    const r = run(ruleOf({ resolveAfter: 3 }), [9, 0, 0, 9, 0, 0, 0]);
    expect(types(r)).toEqual(["0:firing", "6:resolved"]);
  });

  it("a flapping metric does not notify twice within the cooldown, and fires again once it has passed", () => {
    const flapping = [9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 9, 9];
    const r = run(ruleOf({ cooldownMinutes: 10 }), flapping);
    expect(types(r)).toEqual(["0:firing", "1:resolved", "10:firing"]);
  });

  it("a muted rule still changes state and keeps its history, but notifies nobody until the mute ends", () => {
    const ref = ruleOf({ mutedUntil: T0 + 2 * MIN });
    const first = step(ref, initialState(), { value: 9, samples: 9 }, T0);
    expect(first.intent).toBeNull();
    expect(first.next.state).toBe("firing");
    expect(first.history).toMatchObject({ from: "ok", to: "firing", value: 9, threshold: 5 });
    expect(first.history?.detail).toContain("muted");
    const r = run(ref, [9, 0, 0, 9]);
    // The resolve at minute 1 is muted; the firing at minute 3 comes after the mute.
    expect(types(r)).toEqual(["3:firing"]);
  });

  it("an evaluation of a minute already evaluated changes nothing and notifies nothing", () => {
    const ref = ruleOf();
    const a = step(ref, initialState(), { value: 9, samples: 9 }, T0);
    expect(a.intent?.type).toBe("firing");
    const again = step(ref, a.next, { value: 9, samples: 9 }, T0);
    expect(again.intent).toBeNull();
    expect(again.history).toBeNull();
    expect(again.next).toEqual(a.next);
  });

  it("a change in percent against the previous window or the week before fires above or below its percentage", () => {
    const up = ruleOf({ condition: { type: "change_pct", direction: "above", value: 50, against: "previous" } });
    expect(types(run(up, [{ value: 140, samples: 140, baseline: 100 }, { value: 151, samples: 151, baseline: 100 }]))).toEqual(["1:firing"]);
    const fired = step(up, initialState(), { value: 300, samples: 300, baseline: 100 }, T0);
    expect(fired.intent).toMatchObject({ value: 200, threshold: 50 });
  });

  it("a change below 40 % against the week before fires on a drop of more than 40 %", () => {
    const ref = ruleOf({ metric: { kind: "events" }, window: "1h", condition: { type: "change_pct", direction: "below", value: 40, against: "week_before" } });
    expect(step(ref, initialState(), { value: 130, samples: 130, baseline: 100 }, T0).intent).toBeNull();
    expect(step(ref, initialState(), { value: 70, samples: 70, baseline: 100 }, T0).intent).toBeNull();
    expect(step(ref, initialState(), { value: 50, samples: 50, baseline: 100 }, T0).intent).toMatchObject({ type: "firing", value: -50 });
    // No baseline to compare with: no change can be measured, so nothing fires.
    expect(step(ref, initialState(), { value: 0, samples: 0, baseline: 0 }, T0).intent).toBeNull();
  });

  it("a rate counts only once the window has minEvents samples", () => {
    const ref = ruleOf({ metric: { kind: "network_error_rate" }, condition: { type: "threshold", direction: "above", value: 10 }, minEvents: 20 });
    const r = run(ref, [
      { value: 50, samples: 4 },
      { value: 50, samples: 19 },
      { value: 15, samples: 20 },
    ]);
    expect(types(r)).toEqual(["2:firing"]);
  });

  it("a rule's test is a sample notification that changes no state", () => {
    const ref = ruleOf();
    const t = testIntent(ref, T0);
    expect(t).toMatchObject({ type: "alert.test", threshold: 5, rule: { id: "rule_1", name: "Checkout failures" } });
  });
});

describe("alert rule schema", () => {
  const base = { name: "r", window: "5m", condition: { type: "threshold", direction: "above", value: 1 }, endpointIds: ["wh_1"] };
  const errors = (input: unknown): string[] => {
    const r = AlertRuleSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.message);
  };

  it("accepts named windows and minutes, and refuses windows outside 1 minute to 1 day", () => {
    expect(AlertRuleSchema.parse({ ...base, metric: { kind: "crashes" } }).window).toBe(5);
    expect(AlertRuleSchema.parse({ ...base, metric: { kind: "crashes" }, window: 90 }).window).toBe(90);
    expect(errors({ ...base, metric: { kind: "crashes" }, window: 1441 }).join()).toMatch(/window/);
    expect(errors({ ...base, metric: { kind: "crashes" }, window: "2d" }).join()).toMatch(/window must be one of 1m, 5m, 15m, 1h, 6h, 1d/);
    expect(errors({ ...base, metric: { kind: "crash_free_sessions" }, window: 90 })).toEqual([
      "crash_free_sessions is read from the hourly release-health rollup: its window must be whole hours (1h, 6h, 1d, or a multiple of 60 minutes)",
    ]);
    expect(errors({ ...base, metric: { kind: "crash_free_sessions" }, window: "6h" })).toEqual([]);
  });

  it("refuses filters a metric cannot be read with, saying which it accepts", () => {
    expect(errors({ ...base, metric: { kind: "pipeline", counter: "rejected" }, filter: { platform: "ios" } })).toEqual(["metric pipeline cannot be filtered by platform: it accepts no filter"]);
    expect(errors({ ...base, metric: { kind: "perf", name: "LCP", percentile: "p95" }, filter: { property: { key: "plan", value: "pro" } } })).toEqual([
      "metric perf cannot be filtered by property: it accepts platform, release, country",
    ]);
    expect(errors({ ...base, metric: { kind: "events" }, filter: { event: "x" } }).join()).toMatch(/set metric.name instead/);
    expect(errors({ ...base, window: "1h", metric: { kind: "crash_free_users" }, filter: { platform: "ios" } })).toEqual(["metric crash_free_users cannot be filtered by platform: it accepts release"]);
    expect(errors({ ...base, metric: { kind: "users" }, filter: { event: "Checkout Failed", property: { key: "plan", value: "pro" } } })).toEqual([]);
  });

  it("needs an endpoint when enabled, and minEvents only for rates and percentiles", () => {
    expect(errors({ ...base, metric: { kind: "crashes" }, endpointIds: [] })).toEqual(["an enabled rule needs at least one webhook endpoint"]);
    expect(errors({ ...base, metric: { kind: "crashes" }, endpointIds: [], enabled: false })).toEqual([]);
    expect(errors({ ...base, metric: { kind: "crashes" }, minEvents: 10 }).join()).toMatch(/minEvents applies to rates and percentiles/);
    expect(errors({ ...base, metric: { kind: "nope" } }).join()).toMatch(/metric.kind must be one of/);
  });
});
