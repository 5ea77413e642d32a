// A rule as people read it on the dashboard's rule pages: the webhook notice's wording
// (workers/alerts/notify.ts), with each value in its metric's unit.
import { VITALS, isVital, type AlertCondition, type AlertFilter, type AlertMetric, type AlertRule } from "../../../schemas";
import { describeCondition } from "../notify";
import { formatValue, formatWindow } from "../webhooks/payload";

const PIPELINE_WORDS: Record<Extract<AlertMetric, { kind: "pipeline" }>["counter"], string> = {
  rejected: "pipeline rejected events",
  dead_lettered: "pipeline dead-lettered events",
  capped: "pipeline events over the rate limit",
  lag_p95: "pipeline lag p95",
};

const endpointWords = (e: { method: string; host: string; template: string } | undefined): string => (e ? ` of ${e.method} ${e.host}${e.template}` : "");

/** What a metric measures: `events Checkout Failed, count`, `LCP p95`, `network error rate of GET api.shop.test/cart/:id`. */
export function metricInWords(m: AlertMetric): string {
  switch (m.kind) {
    case "events": {
      const what = [m.type ? `${m.type} events` : "events", m.name ?? (m.type ? "" : "of any name")].filter((s) => s !== "").join(" ");
      return `${what}, count`;
    }
    case "users":
      return "unique users";
    case "crashes":
      return "crashes, count";
    case "new_issue":
      return "new crash issues";
    case "regressed_issue":
      return "regressed crash issues";
    case "crash_free_users":
      return "crash-free users";
    case "crash_free_sessions":
      return "crash-free sessions";
    case "network_error_rate":
      return `network error rate${endpointWords(m.endpoint)}`;
    case "network_latency":
      return `network latency ${m.percentile}${endpointWords(m.endpoint)}`;
    case "perf":
      return `${m.name} ${m.percentile}`;
    case "pipeline":
      return PIPELINE_WORDS[m.counter];
  }
}

/** The unit a metric's value is in, as written after a number: `ms`, `%` or `` for counts and unitless values. */
export function metricUnit(m: AlertMetric): string {
  switch (m.kind) {
    case "crash_free_users":
    case "crash_free_sessions":
    case "network_error_rate":
      return "%";
    case "network_latency":
      return "ms";
    case "perf":
      return isVital(m.name) && VITALS[m.name].unit === "ms" ? "ms" : "";
    case "pipeline":
      return m.counter === "lag_p95" ? "ms" : "";
    default:
      return "";
  }
}

/** A value with its metric's unit: `2,500 ms`, `97.5 %`, `6`; `no data` for null. */
export function valueInWords(m: AlertMetric, v: number | null): string {
  const unit = metricUnit(m);
  return v === null || unit === "" ? formatValue(v) : `${formatValue(v)} ${unit}`;
}

/** The value a rule compares with its condition's: the metric with its unit, or its change: `6`, `+62.5 %`; `no data` for null. */
export function observedInWords(rule: Pick<AlertRule, "metric" | "condition">, v: number | null): string {
  if (rule.condition.type === "threshold" || v === null) return valueInWords(rule.metric, v);
  return `${v >= 0 ? "+" : "−"}${formatValue(Math.abs(v))} %`;
}

/** The condition's limit as the history shows it beside the value: `5`, `2,500 ms`, `50 %`. */
export function limitInWords(rule: Pick<AlertRule, "metric" | "condition">, threshold: number): string {
  return rule.condition.type === "threshold" ? valueInWords(rule.metric, threshold) : `${rule.condition.direction === "above" ? "+" : "−"}${formatValue(threshold)} %`;
}

/** When a rule holds: `above 5`, `below 99.5 %`, `up more than 50 % on the previous window`. */
export function conditionInWords(m: AlertMetric, c: AlertCondition): string {
  return c.type === "threshold" ? `${c.direction} ${valueInWords(m, c.value)}` : describeCondition(c);
}

/** A rule's filters: `platform ios, release 2.1.0, plan = pro`; empty when it has none. */
export function filterInWords(f: AlertFilter): string {
  const parts: string[] = [];
  if (f.platform !== undefined) parts.push(`platform ${f.platform}`);
  if (f.release !== undefined) parts.push(`release ${f.release}`);
  if (f.country !== undefined) parts.push(`country ${f.country}`);
  if (f.event !== undefined) parts.push(`event ${f.event}`);
  if (f.property !== undefined) parts.push(`${f.property.key} = ${f.property.value}`);
  return parts.join(", ");
}

/** A window in minutes as words: `1 min`, `15 min`, `6 h`, `1 day`. */
export const windowInWords = (minutes: number): string => formatWindow(minutes * 60);

/** The whole rule in one line: `events Checkout Failed, count over 1 min above 5`, filters after `where`. */
export function ruleInWords(rule: Pick<AlertRule, "metric" | "filter" | "window" | "condition">): string {
  const filters = filterInWords(rule.filter);
  return `${metricInWords(rule.metric)} over ${windowInWords(rule.window)} ${conditionInWords(rule.metric, rule.condition)}${filters ? ` where ${filters}` : ""}`;
}
