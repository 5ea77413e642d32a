import { describe, expect, it } from "vitest";
import { AlertRuleSchema, type AlertRuleInput } from "../../../schemas";
import { limitInWords, observedInWords, ruleInWords } from "./describe";

const rule = (input: Omit<AlertRuleInput, "name" | "endpointIds">) => AlertRuleSchema.parse({ name: "r", endpointIds: ["whe_1"], ...input });

describe("a rule in words", () => {
  it("says what is counted, over which window, and the condition with the metric's unit", () => {
    expect(ruleInWords(rule({ metric: { kind: "events", name: "Checkout Failed" }, window: "1m", condition: { type: "threshold", direction: "above", value: 5 } }))).toBe(
      "events Checkout Failed, count over 1 min above 5",
    );
    expect(ruleInWords(rule({ metric: { kind: "perf", name: "LCP", percentile: "p95" }, window: "15m", condition: { type: "threshold", direction: "above", value: 2500 } }))).toBe(
      "LCP p95 over 15 min above 2,500 ms",
    );
    expect(ruleInWords(rule({ metric: { kind: "crash_free_users" }, window: "1d", condition: { type: "threshold", direction: "below", value: 99.5 } }))).toBe(
      "crash-free users over 1 day below 99.5 %",
    );
    expect(ruleInWords(rule({ metric: { kind: "pipeline", counter: "lag_p95" }, window: "5m", condition: { type: "threshold", direction: "above", value: 30000 } }))).toBe(
      "pipeline lag p95 over 5 min above 30,000 ms",
    );
  });

  it("names the endpoint, the change and its baseline, and the filters", () => {
    expect(
      ruleInWords(
        rule({
          metric: { kind: "network_error_rate", endpoint: { method: "get", host: "api.shop.test", template: "/cart/:id" } },
          filter: { platform: "ios", release: "2.1.0" },
          window: "1h",
          condition: { type: "change_pct", direction: "above", value: 50, against: "week_before" },
        }),
      ),
    ).toBe("network error rate of GET api.shop.test/cart/:id over 1 h up more than 50 % on the same window a week before where platform ios, release 2.1.0");
    expect(
      ruleInWords(
        rule({
          metric: { kind: "events", type: "track" },
          filter: { property: { key: "plan", value: "pro" } },
          window: "6h",
          condition: { type: "change_pct", direction: "below", value: 30, against: "previous" },
        }),
      ),
    ).toBe("track events, count over 6 h down more than 30 % on the previous window where plan = pro");
  });

  it("shows a value against its limit: the metric's own for thresholds, signed percentages for changes", () => {
    const lcp = rule({ metric: { kind: "perf", name: "LCP", percentile: "p95" }, window: "15m", condition: { type: "threshold", direction: "above", value: 2500 } });
    expect([observedInWords(lcp, 2612.5), limitInWords(lcp, 2500), observedInWords(lcp, null)]).toEqual(["2,612.5 ms", "2,500 ms", "no data"]);
    const drop = rule({ metric: { kind: "users" }, window: "1h", condition: { type: "change_pct", direction: "below", value: 30, against: "previous" } });
    expect([observedInWords(drop, -42.5), limitInWords(drop, 30)]).toEqual(["−42.5 %", "−30 %"]);
  });
});
