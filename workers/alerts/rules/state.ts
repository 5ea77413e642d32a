import type { AlertCondition, AlertRule, AlertState } from "../../../schemas";

/** Where a rule stands before an evaluation; a rule never evaluated is `initialState()`. */
export interface RuleState {
  state: AlertState;
  since: number;
  lastValue: number | null;
  lastEvaluatedAt: number | null;
  clearCount: number;
  lastFiredAt: number | null;
}

/** What the metric read for one evaluation: the window's value, its sample count, and the comparison window's value for change rules. */
export interface Measurement {
  value: number | null;
  samples: number;
  baseline?: number | null;
}

/** The rule fields the state machine needs, with its id and app. */
export interface RuleRef {
  id: string;
  appId: string;
  name: string;
  rule: Pick<AlertRule, "metric" | "filter" | "window" | "condition" | "minEvents" | "cooldownMinutes" | "resolveAfter" | "mutedUntil" | "endpointIds">;
}

export type IntentType = "firing" | "resolved" | "alert.test";

/** A notification to send: the rule, what happened, the value against the threshold. */
export interface NotificationIntent {
  rule: { id: string; appId: string; name: string; metric: AlertRule["metric"]; filter: AlertRule["filter"]; window: number; condition: AlertCondition; endpointIds: string[] };
  type: IntentType;
  value: number | null;
  threshold: number;
  at: number;
}

export interface HistoryRow {
  ruleId: string;
  appId: string;
  at: number;
  from: AlertState;
  to: AlertState;
  value: number | null;
  threshold: number;
  detail: string;
}

export interface Step {
  next: RuleState;
  intent: NotificationIntent | null;
  history: HistoryRow | null;
  /** The value compared with the threshold: the metric, or its change in percent. */
  observed: number | null;
  holds: boolean;
}

export function initialState(): RuleState {
  return { state: "ok", since: 0, lastValue: null, lastEvaluatedAt: null, clearCount: 0, lastFiredAt: null };
}

/** The value a condition compares: the measurement, or its change in percent against the baseline (none when the baseline is 0 or missing). */
export function observedValue(condition: AlertCondition, m: Measurement): number | null {
  if (condition.type === "threshold") return m.value;
  const base = m.baseline ?? null;
  if (m.value === null || base === null || base === 0) return null;
  return ((m.value - base) / Math.abs(base)) * 100;
}

/** Whether the condition holds; too few samples for a rate or percentile count as clear. */
export function conditionHolds(ref: RuleRef, m: Measurement): { holds: boolean; observed: number | null } {
  const observed = observedValue(ref.rule.condition, m);
  if (observed === null) return { holds: false, observed };
  if (m.samples < ref.rule.minEvents) return { holds: false, observed };
  const c = ref.rule.condition;
  // A change "below 30" is a drop of more than 30 %: its percentage is a size, the direction its sign.
  const limit = c.type === "change_pct" && c.direction === "below" ? -c.value : c.value;
  return { holds: c.direction === "above" ? observed > limit : observed < limit, observed };
}

function intentOf(ref: RuleRef, type: IntentType, value: number | null, at: number): NotificationIntent {
  const { metric, filter, window, condition, endpointIds } = ref.rule;
  return { rule: { id: ref.id, appId: ref.appId, name: ref.name, metric, filter, window, condition, endpointIds }, type, value, threshold: condition.value, at };
}

/**
 * One evaluation at minute `now`: ok or resolved → firing when the condition holds (a resolved
 * rule only once its cooldown since the last firing has passed), firing → resolved after
 * `resolveAfter` consecutive clear evaluations. A muted rule moves but notifies nobody.
 * An evaluation of a minute already evaluated changes nothing.
 */
export function step(ref: RuleRef, prev: RuleState, m: Measurement, now: number): Step {
  const { holds, observed } = conditionHolds(ref, m);
  if (prev.lastEvaluatedAt !== null && prev.lastEvaluatedAt >= now) return { next: prev, intent: null, history: null, observed, holds };
  const base: RuleState = { ...prev, lastValue: observed, lastEvaluatedAt: now };
  const muted = ref.rule.mutedUntil !== null && ref.rule.mutedUntil > now;
  const threshold = ref.rule.condition.value;
  const move = (to: AlertState, next: RuleState, detail: string): Step => ({
    next,
    intent: muted ? null : intentOf(ref, to === "firing" ? "firing" : "resolved", observed, now),
    history: { ruleId: ref.id, appId: ref.appId, at: now, from: prev.state, to, value: observed, threshold, detail: muted ? [detail, "muted: nobody notified"].filter(Boolean).join("; ") : detail },
    observed,
    holds,
  });
  const stay = (next: RuleState): Step => ({ next, intent: null, history: null, observed, holds });

  if (prev.state === "firing") {
    if (holds) return stay({ ...base, clearCount: 0 });
    const clear = prev.clearCount + 1;
    if (clear < ref.rule.resolveAfter) return stay({ ...base, clearCount: clear });
    return move("resolved", { ...base, state: "resolved", since: now, clearCount: 0 }, clear > 1 ? `clear for ${clear} evaluations` : "");
  }
  if (!holds) return stay({ ...base, clearCount: 0 });
  const cooledAt = prev.lastFiredAt === null ? null : prev.lastFiredAt + ref.rule.cooldownMinutes * 60_000;
  if (prev.state === "resolved" && cooledAt !== null && now < cooledAt) return stay({ ...base, clearCount: 0 });
  return move("firing", { ...base, state: "firing", since: now, clearCount: 0, lastFiredAt: now }, "");
}

/** A sample notification for a rule's "test": what its firing would send, with no state changed. */
export function testIntent(ref: RuleRef, now: number, value: number | null = null): NotificationIntent {
  return intentOf(ref, "alert.test", value, now);
}
