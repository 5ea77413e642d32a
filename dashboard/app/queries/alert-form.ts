// The alert rule form: its fields as the browser posts them, the rule they make, and the fields
// a stored rule fills in. Parsing only shapes the input: the rule schema and the store decide
// what is valid, so the form and the admin API refuse the same things with the same words.
import { ALERT_WINDOWS, type AlertMetric, type AlertMetricKind, type AlertRule } from "../../../schemas";

/** The metric kinds in the order the form offers them, with their labels. */
export const METRIC_KINDS: ReadonlyArray<{ kind: AlertMetricKind; label: string }> = [
  { kind: "events", label: "Count of events" },
  { kind: "users", label: "Unique users" },
  { kind: "crashes", label: "Crash count" },
  { kind: "new_issue", label: "New crash issues" },
  { kind: "regressed_issue", label: "Regressed crash issues" },
  { kind: "crash_free_users", label: "Crash-free users (%)" },
  { kind: "crash_free_sessions", label: "Crash-free sessions (%)" },
  { kind: "network_error_rate", label: "Network error rate (%)" },
  { kind: "network_latency", label: "Network latency percentile (ms)" },
  { kind: "perf", label: "Performance metric percentile" },
  { kind: "pipeline", label: "Pipeline counter" },
];

/** The conditions the form offers: a threshold, or a change in percent against a baseline. */
export const CONDITIONS = [
  { value: "above", label: "is above" },
  { value: "below", label: "is below" },
  { value: "up:previous", label: "rises by more than % on the previous window" },
  { value: "down:previous", label: "drops by more than % on the previous window" },
  { value: "up:week_before", label: "rises by more than % on the same window a week before" },
  { value: "down:week_before", label: "drops by more than % on the same window a week before" },
] as const;
export type ConditionChoice = (typeof CONDITIONS)[number]["value"];

/** The windows the form offers, e.g. `{value: "15m", label: "15 minutes"}`. */
export const WINDOW_CHOICES: ReadonlyArray<{ value: keyof typeof ALERT_WINDOWS; label: string }> = [
  { value: "1m", label: "1 minute" },
  { value: "5m", label: "5 minutes" },
  { value: "15m", label: "15 minutes" },
  { value: "1h", label: "1 hour" },
  { value: "6h", label: "6 hours" },
  { value: "1d", label: "1 day" },
];

/** Every field of the form as text, as posted or as a stored rule fills it in. */
export interface RuleFormValues {
  name: string;
  kind: string;
  eventType: string;
  eventName: string;
  percentile: string;
  perfName: string;
  method: string;
  host: string;
  template: string;
  counter: string;
  platform: string;
  release: string;
  country: string;
  event: string;
  propKey: string;
  propValue: string;
  window: string;
  condition: string;
  value: string;
  minEvents: string;
  cooldownMinutes: string;
  resolveAfter: string;
  enabled: boolean;
  endpointIds: string[];
}

/** A new rule's form: a count of events over a minute, enabled, every endpoint unticked. */
export const EMPTY_RULE_FORM: RuleFormValues = {
  name: "",
  kind: "events",
  eventType: "",
  eventName: "",
  percentile: "p95",
  perfName: "",
  method: "",
  host: "",
  template: "",
  counter: "rejected",
  platform: "",
  release: "",
  country: "",
  event: "",
  propKey: "",
  propValue: "",
  window: "1m",
  condition: "above",
  value: "",
  minEvents: "",
  cooldownMinutes: "30",
  resolveAfter: "1",
  enabled: true,
  endpointIds: [],
};

const TEXT_FIELDS = Object.keys(EMPTY_RULE_FORM).filter((k): k is Exclude<keyof RuleFormValues, "enabled" | "endpointIds"> => k !== "enabled" && k !== "endpointIds");

/** The form's fields as posted, trimmed; unticked checkboxes are absent from a post. */
export function readRuleForm(form: FormData): RuleFormValues {
  const text = (name: string): string => {
    const v = form.get(name);
    return typeof v === "string" ? v.trim().slice(0, 1000) : "";
  };
  const values: RuleFormValues = { ...EMPTY_RULE_FORM, enabled: form.get("enabled") !== null, endpointIds: form.getAll("endpointIds").filter((v): v is string => typeof v === "string" && v !== "") };
  for (const k of TEXT_FIELDS) values[k] = text(k);
  return values;
}

// An empty number field means the schema's default; anything else goes to the schema as a
// number (NaN included), so its message names the field.
const numberOr = (s: string): number | undefined => (s === "" ? undefined : Number(s));
const optional = (s: string): string | undefined => (s === "" ? undefined : s);

function metricOf(v: RuleFormValues): unknown {
  switch (v.kind) {
    case "events":
      return { kind: v.kind, type: optional(v.eventType), name: optional(v.eventName) };
    case "network_error_rate":
    case "network_latency": {
      const endpoint = v.method === "" && v.host === "" && v.template === "" ? undefined : { method: v.method, host: v.host, template: v.template };
      return v.kind === "network_latency" ? { kind: v.kind, percentile: v.percentile, endpoint } : { kind: v.kind, endpoint };
    }
    case "perf":
      return { kind: v.kind, name: v.perfName, percentile: v.percentile };
    case "pipeline":
      return { kind: v.kind, counter: v.counter };
    default:
      return { kind: v.kind };
  }
}

function conditionOf(v: RuleFormValues): unknown {
  const value = numberOr(v.value);
  if (v.condition === "above" || v.condition === "below") return { type: "threshold", direction: v.condition, value };
  const [change, against] = v.condition.split(":");
  return { type: "change_pct", direction: change === "up" ? "above" : change === "down" ? "below" : change, against, value };
}

/**
 * The rule the form describes, unchecked, for createRule and updateRule to check against the
 * rule schema: only the fields its metric kind takes, and every filter that was filled in (the
 * schema refuses those the kind cannot apply).
 */
export function ruleFromForm(v: RuleFormValues): Readonly<Record<string, unknown>> {
  const filter: Record<string, unknown> = {};
  if (v.platform !== "") filter.platform = v.platform;
  if (v.release !== "") filter.release = v.release;
  if (v.country !== "") filter.country = v.country.toUpperCase();
  if (v.event !== "") filter.event = v.event;
  if (v.propKey !== "" || v.propValue !== "") filter.property = { key: v.propKey, value: v.propValue };
  return {
    name: v.name,
    metric: metricOf(v),
    filter,
    // A window set through the admin API in plain minutes comes back as its number.
    window: /^\d+$/.test(v.window) ? Number(v.window) : v.window,
    condition: conditionOf(v),
    minEvents: numberOr(v.minEvents),
    cooldownMinutes: numberOr(v.cooldownMinutes),
    resolveAfter: numberOr(v.resolveAfter),
    enabled: v.enabled,
    endpointIds: v.endpointIds,
  };
}

const windowChoice = (minutes: number): string => Object.entries(ALERT_WINDOWS).find(([, m]) => m === minutes)?.[0] ?? String(minutes);

function metricValues(m: AlertMetric): Partial<RuleFormValues> {
  switch (m.kind) {
    case "events":
      return { eventType: m.type ?? "", eventName: m.name ?? "" };
    case "network_error_rate":
      return { method: m.endpoint?.method ?? "", host: m.endpoint?.host ?? "", template: m.endpoint?.template ?? "" };
    case "network_latency":
      return { percentile: m.percentile, method: m.endpoint?.method ?? "", host: m.endpoint?.host ?? "", template: m.endpoint?.template ?? "" };
    case "perf":
      return { perfName: m.name, percentile: m.percentile };
    case "pipeline":
      return { counter: m.counter };
    default:
      return {};
  }
}

/** The form filled in with a stored rule, to edit it. */
export function ruleFormValues(rule: AlertRule): RuleFormValues {
  const c = rule.condition;
  const condition = c.type === "threshold" ? c.direction : `${c.direction === "above" ? "up" : "down"}:${c.against}`;
  return {
    ...EMPTY_RULE_FORM,
    ...metricValues(rule.metric),
    name: rule.name,
    kind: rule.metric.kind,
    platform: rule.filter.platform ?? "",
    release: rule.filter.release ?? "",
    country: rule.filter.country ?? "",
    event: rule.filter.event ?? "",
    propKey: rule.filter.property?.key ?? "",
    propValue: rule.filter.property?.value ?? "",
    window: windowChoice(rule.window),
    condition,
    value: String(c.value),
    minEvents: rule.minEvents === 0 ? "" : String(rule.minEvents),
    cooldownMinutes: String(rule.cooldownMinutes),
    resolveAfter: String(rule.resolveAfter),
    enabled: rule.enabled,
    endpointIds: [...rule.endpointIds],
  };
}

/** How long a mute lasts, by the form's choice. */
export const MUTE_CHOICES = { "1h": { ms: 3_600_000, label: "1 hour" }, "24h": { ms: 86_400_000, label: "24 hours" }, "7d": { ms: 7 * 86_400_000, label: "7 days" } } as const;
export type MuteChoice = keyof typeof MUTE_CHOICES;
export const isMuteChoice = (s: string): s is MuteChoice => Object.hasOwn(MUTE_CHOICES, s);
