import { describe, expect, it } from "vitest";
import { AlertRuleSchema } from "../../../schemas";
import { EMPTY_RULE_FORM, readRuleForm, ruleFormValues, ruleFromForm, type RuleFormValues } from "./alert-form";

const post = (fields: Record<string, string | string[]>): FormData => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
  return form;
};

const parsed = (v: Partial<RuleFormValues>) => AlertRuleSchema.safeParse(ruleFromForm({ ...EMPTY_RULE_FORM, name: "r", value: "1", endpointIds: ["whe_1"], ...v }));

describe("the alert rule form", () => {
  it("reads the checkout rule as posted: trimmed fields, ticked endpoints, enabled only when ticked", () => {
    const values = readRuleForm(
      post({ name: " Checkout failures ", kind: "events", eventName: "Checkout Failed", window: "1m", condition: "above", value: "5", enabled: "on", endpointIds: ["whe_a", "whe_b"] }),
    );
    expect(values).toMatchObject({ name: "Checkout failures", eventName: "Checkout Failed", enabled: true, endpointIds: ["whe_a", "whe_b"] });
    expect(AlertRuleSchema.parse(ruleFromForm(values))).toMatchObject({
      name: "Checkout failures",
      metric: { kind: "events", name: "Checkout Failed" },
      filter: {},
      window: 1,
      condition: { type: "threshold", direction: "above", value: 5 },
      minEvents: 0,
      cooldownMinutes: 30,
      resolveAfter: 1,
      enabled: true,
      endpointIds: ["whe_a", "whe_b"],
    });
    expect(readRuleForm(post({ name: "x" })).enabled).toBe(false);
  });

  it("makes every metric kind from the fields that kind needs, ignoring the others' fields", () => {
    const others = { eventName: "Stale", perfName: "Stale", method: "GET", host: "stale.test", template: "/stale" };
    const cases: Array<[Partial<RuleFormValues>, unknown]> = [
      [{ kind: "users" }, { kind: "users" }],
      [{ kind: "crashes" }, { kind: "crashes" }],
      [{ kind: "new_issue" }, { kind: "new_issue" }],
      [{ kind: "regressed_issue" }, { kind: "regressed_issue" }],
      [{ kind: "crash_free_users", window: "1h" }, { kind: "crash_free_users" }],
      [{ kind: "crash_free_sessions", window: "1d" }, { kind: "crash_free_sessions" }],
      [{ kind: "network_error_rate", method: "", host: "", template: "" }, { kind: "network_error_rate" }],
      [{ kind: "network_latency", percentile: "p99", method: "post", host: "api.test", template: "/pay" }, { kind: "network_latency", percentile: "p99", endpoint: { method: "POST", host: "api.test", template: "/pay" } }],
      [{ kind: "perf", perfName: "LCP", percentile: "p50" }, { kind: "perf", name: "LCP", percentile: "p50" }],
      [{ kind: "pipeline", counter: "dead_lettered" }, { kind: "pipeline", counter: "dead_lettered" }],
      [{ kind: "events", eventType: "track", eventName: "" }, { kind: "events", type: "track" }],
    ];
    for (const [fields, metric] of cases) {
      const base = fields.kind === "perf" || fields.kind === "network_latency" || fields.kind === "network_error_rate" ? { eventName: "Stale" } : others;
      const r = parsed({ ...base, ...fields });
      expect(r.success, JSON.stringify(fields)).toBe(true);
      expect(r.data?.metric).toEqual(metric);
    }
  });

  it("makes each condition: thresholds, and changes against the previous window or a week before", () => {
    expect(parsed({ condition: "below", value: "99.5" }).data?.condition).toEqual({ type: "threshold", direction: "below", value: 99.5 });
    expect(parsed({ condition: "up:previous", value: "50" }).data?.condition).toEqual({ type: "change_pct", direction: "above", value: 50, against: "previous" });
    expect(parsed({ condition: "down:week_before", value: "30" }).data?.condition).toEqual({ type: "change_pct", direction: "below", value: 30, against: "week_before" });
  });

  it("passes filters on, so a filter the metric cannot apply is refused by name", () => {
    const ok = parsed({ kind: "users", platform: "ios", country: "de", event: "Signed Up", propKey: "plan", propValue: "pro" });
    expect(ok.data?.filter).toEqual({ platform: "ios", country: "DE", event: "Signed Up", property: { key: "plan", value: "pro" } });
    const refused = parsed({ kind: "crash_free_users", window: "1h", platform: "ios" });
    expect(refused.error?.issues[0]?.message).toBe("metric crash_free_users cannot be filtered by platform: it accepts release");
  });

  it("leaves empty numbers to the schema's defaults and sends bad ones on to be refused", () => {
    expect(parsed({ minEvents: "", cooldownMinutes: "", resolveAfter: "" }).data).toMatchObject({ minEvents: 0, cooldownMinutes: 30, resolveAfter: 1 });
    expect(parsed({ value: "" }).error?.issues[0]?.message).toBe("condition.value must be a number");
    expect(parsed({ value: "lots" }).success).toBe(false);
  });

  it("fills the form with a stored rule so saving it unchanged gives the same rule", () => {
    const rules = [
      { name: "Checkout failures", metric: { kind: "events", name: "Checkout Failed" }, window: "1m", condition: { type: "threshold", direction: "above", value: 5 }, endpointIds: ["whe_1"] },
      {
        name: "Slow pay",
        metric: { kind: "network_latency", percentile: "p95", endpoint: { method: "POST", host: "api.test", template: "/pay" } },
        filter: { platform: "web", release: "1.2" },
        window: 90,
        condition: { type: "change_pct", direction: "above", value: 50, against: "week_before" },
        minEvents: 20,
        cooldownMinutes: 5,
        resolveAfter: 3,
        enabled: false,
      },
    ];
    for (const input of rules) {
      const rule = AlertRuleSchema.parse(input);
      expect(AlertRuleSchema.parse(ruleFromForm(ruleFormValues(rule)))).toEqual(rule);
    }
  });
});
