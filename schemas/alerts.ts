import { z } from "zod";

// Alert rules: a metric of one app, an optional filter, a window ending at the evaluated minute,
// a condition, and the webhook endpoints a transition is sent to. Which filters a metric accepts
// follows from where it is read (docs/decisions/0013-alert-evaluation.md).

/** Percentiles a latency or perf rule can watch, e.g. `"p95"`. */
export const ALERT_PERCENTILES = ["p50", "p95", "p99"] as const;
export type AlertPercentile = (typeof ALERT_PERCENTILES)[number];

/** Pipeline counters a rule can watch, e.g. `"dead_lettered"`; `lag_p95` is milliseconds from the edge to storage. */
export const ALERT_PIPELINE_COUNTERS = ["rejected", "dead_lettered", "capped", "lag_p95"] as const;

/** Named windows, e.g. `"15m"`; any whole number of minutes from 1 to 1440 is accepted too. */
export const ALERT_WINDOWS = { "1m": 1, "5m": 5, "15m": 15, "1h": 60, "6h": 360, "1d": 1440 } as const;

const percentile = z.enum(ALERT_PERCENTILES, { error: "percentile must be p50, p95 or p99" });
const text = (what: string, max = 200) => z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`).max(max, `${what} is longer than ${max} characters`);

const endpoint = z.object(
  {
    method: text("endpoint.method", 16).transform((m) => m.toUpperCase()),
    host: text("endpoint.host", 255),
    template: text("endpoint.template", 1000),
  },
  { error: "endpoint must be {method, host, template}" },
);

/** What a rule measures, e.g. `{kind: "events", name: "Checkout Failed"}` or `{kind: "network_latency", percentile: "p95"}`. */
export const AlertMetricSchema = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("events"), type: text("metric.type", 32).optional(), name: text("metric.name").optional() }),
    z.object({ kind: z.literal("users") }),
    z.object({ kind: z.literal("crashes") }),
    z.object({ kind: z.literal("new_issue") }),
    z.object({ kind: z.literal("regressed_issue") }),
    z.object({ kind: z.literal("crash_free_users") }),
    z.object({ kind: z.literal("crash_free_sessions") }),
    z.object({ kind: z.literal("network_error_rate"), endpoint: endpoint.optional() }),
    z.object({ kind: z.literal("network_latency"), percentile, endpoint: endpoint.optional() }),
    z.object({ kind: z.literal("perf"), name: text("metric.name", 200), percentile }),
    z.object({ kind: z.literal("pipeline"), counter: z.enum(ALERT_PIPELINE_COUNTERS, { error: "counter must be rejected, dead_lettered, capped or lag_p95" }) }),
  ],
  {
    error:
      "metric.kind must be one of events, users, crashes, new_issue, regressed_issue, crash_free_users, crash_free_sessions, network_error_rate, network_latency, perf, pipeline",
  },
);
export type AlertMetric = z.infer<typeof AlertMetricSchema>;
export type AlertMetricKind = AlertMetric["kind"];

/** Narrows what a metric counts, e.g. `{platform: "ios", property: {key: "plan", value: "pro"}}`. */
export const AlertFilterSchema = z
  .object({
    platform: text("filter.platform", 64).optional(),
    release: text("filter.release", 200).optional(),
    country: z.string().regex(/^[A-Z]{2}$/, "filter.country must be a two-letter country code like DE").optional(),
    event: text("filter.event").optional(),
    property: z.object({ key: text("filter.property.key", 200), value: z.string({ error: "filter.property.value must be a string" }).max(1000) }).optional(),
  })
  .strict();
export type AlertFilter = z.infer<typeof AlertFilterSchema>;
export type AlertFilterName = keyof AlertFilter;

/** The filters each metric accepts; the others are refused when a rule is saved. */
export const ALERT_FILTERS_BY_METRIC: Record<AlertMetricKind, readonly AlertFilterName[]> = {
  events: ["platform", "release", "country", "property"],
  users: ["platform", "release", "country", "event", "property"],
  crashes: ["platform", "release", "country", "property"],
  new_issue: ["platform", "release"],
  regressed_issue: [],
  crash_free_users: ["release"],
  crash_free_sessions: ["release"],
  network_error_rate: ["platform", "release", "country"],
  network_latency: ["platform", "release", "country"],
  perf: ["platform", "release", "country"],
  pipeline: [],
};

/** Metrics read from hourly rollups: their windows are whole hours, the last ones complete. */
export const ALERT_HOURLY_METRICS: readonly AlertMetricKind[] = ["crash_free_users", "crash_free_sessions"];

/** Metrics whose value is a rate or a percentile of samples: `minEvents` applies to them. */
export const ALERT_SAMPLED_METRICS: readonly AlertMetricKind[] = ["crash_free_users", "crash_free_sessions", "network_error_rate", "network_latency", "perf"];

const windowNames = Object.keys(ALERT_WINDOWS) as Array<keyof typeof ALERT_WINDOWS>;
/** A window in minutes, given as `"1m"`…`"1d"` or as minutes 1..1440, e.g. `"5m"` → 5. */
export const AlertWindowSchema = z.union(
  [
    z.enum(windowNames).transform((w) => ALERT_WINDOWS[w]),
    z.number().int("window must be whole minutes").min(1, "window must be at least 1 minute").max(1440, "window must be at most 1440 minutes (1 day)"),
  ],
  { error: "window must be one of 1m, 5m, 15m, 1h, 6h, 1d or minutes from 1 to 1440" },
);

const direction = z.enum(["above", "below"], { error: "condition.direction must be above or below" });
const finite = (what: string) => z.number({ error: `${what} must be a number` }).finite(`${what} must be finite`);

/** When a rule fires, e.g. `{type: "threshold", direction: "above", value: 5}` or `{type: "change_pct", direction: "above", value: 50, against: "week_before"}`. */
export const AlertConditionSchema = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("threshold"), direction, value: finite("condition.value") }),
    z.object({
      type: z.literal("change_pct"),
      direction,
      value: finite("condition.value").min(0, "condition.value of a change is a percentage of at least 0 (below 30 means a drop of more than 30 %)"),
      against: z.enum(["previous", "week_before"], { error: "condition.against must be previous or week_before" }),
    }),
  ],
  { error: "condition.type must be threshold or change_pct" },
);
export type AlertCondition = z.infer<typeof AlertConditionSchema>;

/** A rule as the admin API and dashboard take it, e.g. `{name: "Checkout failures", metric: {kind: "events", name: "Checkout Failed"}, window: "1m", condition: {type: "threshold", direction: "above", value: 5}, endpointIds: ["wh_1"]}`. */
export const AlertRuleSchema = z
  .object({
    name: text("name", 200),
    metric: AlertMetricSchema,
    filter: AlertFilterSchema.default({}),
    window: AlertWindowSchema,
    condition: AlertConditionSchema,
    minEvents: z.number().int("minEvents must be a whole number").min(0, "minEvents must be at least 0").max(1_000_000_000).default(0),
    cooldownMinutes: z.number().int("cooldownMinutes must be whole minutes").min(0, "cooldownMinutes must be at least 0").max(10_080, "cooldownMinutes must be at most a week (10080)").default(30),
    resolveAfter: z.number().int("resolveAfter must be a whole number").min(1, "resolveAfter must be at least 1").max(1440, "resolveAfter must be at most 1440").default(1),
    mutedUntil: z.number().int("mutedUntil must be epoch milliseconds").min(0).nullable().default(null),
    enabled: z.boolean({ error: "enabled must be true or false" }).default(true),
    endpointIds: z.array(text("endpointIds[]", 64), { error: "endpointIds must be a list of webhook endpoint ids" }).max(20, "a rule sends to at most 20 endpoints").default([]),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const allowed = ALERT_FILTERS_BY_METRIC[rule.metric.kind];
    for (const [key, value] of Object.entries(rule.filter)) {
      if (value === undefined || allowed.includes(key as AlertFilterName)) continue;
      const accepts = allowed.length > 0 ? `it accepts ${allowed.join(", ")}` : "it accepts no filter";
      const hint = key === "event" && rule.metric.kind === "events" ? " (set metric.name instead)" : "";
      ctx.addIssue({ code: "custom", path: ["filter", key], message: `metric ${rule.metric.kind} cannot be filtered by ${key}: ${accepts}${hint}` });
    }
    if (rule.enabled && rule.endpointIds.length === 0) {
      ctx.addIssue({ code: "custom", path: ["endpointIds"], message: "an enabled rule needs at least one webhook endpoint" });
    }
    if (ALERT_HOURLY_METRICS.includes(rule.metric.kind) && rule.window % 60 !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["window"],
        message: `${rule.metric.kind} is read from the hourly release-health rollup: its window must be whole hours (1h, 6h, 1d, or a multiple of 60 minutes)`,
      });
    }
    if (rule.minEvents > 0 && !ALERT_SAMPLED_METRICS.includes(rule.metric.kind)) {
      ctx.addIssue({ code: "custom", path: ["minEvents"], message: `minEvents applies to rates and percentiles (${ALERT_SAMPLED_METRICS.join(", ")}), not to ${rule.metric.kind}` });
    }
  });
export type AlertRuleInput = z.input<typeof AlertRuleSchema>;
export type AlertRule = z.output<typeof AlertRuleSchema>;

/** States of a rule: `ok` never fired, `firing`, `resolved` after firing. */
export const ALERT_STATES = ["ok", "firing", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];
