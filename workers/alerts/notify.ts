// From a rule's transition to queued deliveries: the notice in the webhook contract's words (the
// metric, its filters, the window in seconds, the condition as people read it, links back to the
// dashboard), one delivery per endpoint of the rule, and one queue message per delivery.
// A delivery is recorded before its message is sent, so a message lost between the two is found
// by the minute's sweep (`requeueOverdue`) rather than never attempted.
import type { AlertCondition, AlertFilter, AlertMetric } from "../../schemas";
import type { NotificationIntent } from "./rules/state";
import type { AlertNotice } from "./webhooks/payload";
import { recordNotice } from "./webhooks/process";

/**
 * A message on the webhook queue: make the next attempt of one delivery. Versioned, since
 * messages outlive a deploy: `{v: 1, orgId: "org_…", deliveryId: "msg_…"}`.
 */
export interface WebhookMessage {
  v: 1;
  orgId: string;
  deliveryId: string;
}

export function isWebhookMessage(body: unknown): body is WebhookMessage {
  if (typeof body !== "object" || body === null) return false;
  const m = body as Record<string, unknown>;
  return m.v === 1 && typeof m.orgId === "string" && typeof m.deliveryId === "string";
}

/** Where notices go: D1, the webhook queue, and the dashboard's address for links. */
export interface NotifyDeps {
  db: D1Database;
  queue: { sendBatch(messages: Iterable<MessageSendRequest<WebhookMessage>>): Promise<unknown> };
  dashboardUrl: string;
}

const METRIC_NAMES: Record<AlertMetric["kind"], string> = {
  events: "event_count",
  users: "unique_users",
  crashes: "crash_count",
  new_issue: "new_crash_issues",
  regressed_issue: "regressed_crash_issues",
  crash_free_users: "crash_free_users",
  crash_free_sessions: "crash_free_sessions",
  network_error_rate: "network_error_rate",
  network_latency: "network_latency",
  perf: "perf",
  pipeline: "pipeline",
};

/** The contract's metric name and every filter, the metric's own ones included: `{metric: "event_count", filter: {event: "Checkout Failed"}}`. */
export function describeMetric(metric: AlertMetric, filter: AlertFilter): { metric: string; filter: Record<string, string> } {
  const out: Record<string, string> = {};
  let name = METRIC_NAMES[metric.kind];
  switch (metric.kind) {
    case "events":
      if (metric.type !== undefined) out.type = metric.type;
      if (metric.name !== undefined) out.event = metric.name;
      break;
    case "network_error_rate":
    case "network_latency":
      if (metric.endpoint !== undefined) out.endpoint = `${metric.endpoint.method} ${metric.endpoint.host}${metric.endpoint.template}`;
      if (metric.kind === "network_latency") name = `network_latency_${metric.percentile}`;
      break;
    case "perf":
      out.metric = metric.name;
      name = `perf_${metric.percentile}`;
      break;
    case "pipeline":
      name = `pipeline_${metric.counter}`;
      break;
    default:
      break;
  }
  for (const key of ["platform", "release", "country", "event"] as const) {
    const v = filter[key];
    if (v !== undefined) out[key] = v;
  }
  if (filter.property !== undefined) out[`property.${filter.property.key}`] = filter.property.value;
  return { metric: name, filter: out };
}

/** The condition as people read it: `above 5`, `up more than 20 % on the previous window`. */
export function describeCondition(c: AlertCondition): string {
  if (c.type === "threshold") return `${c.direction} ${c.value}`;
  const against = c.against === "previous" ? "the previous window" : "the same window a week before";
  return `${c.direction === "above" ? "up" : "down"} more than ${c.value} % on ${against}`;
}

/** The dashboard page that shows what a rule watches. */
export function viewPath(appId: string, metric: AlertMetric): string {
  const app = `/apps/${encodeURIComponent(appId)}`;
  switch (metric.kind) {
    case "events":
      return metric.name !== undefined ? `${app}/events?event=${encodeURIComponent(metric.name)}` : `${app}/events`;
    case "users":
      return `${app}/users`;
    case "crashes":
    case "new_issue":
    case "regressed_issue":
      return `${app}/crashes`;
    case "crash_free_users":
    case "crash_free_sessions":
      return `${app}/releases`;
    case "network_error_rate":
    case "network_latency":
      return `${app}/network`;
    case "perf":
      return `${app}/performance/${encodeURIComponent(metric.name)}`;
    case "pipeline":
      return `${app}/pipeline`;
  }
}

/** The notice of an intent, for an app of that name. */
export function noticeOf(intent: NotificationIntent, appName: string, dashboardUrl: string): Omit<AlertNotice, "id"> {
  const { rule } = intent;
  const { metric, filter } = describeMetric(rule.metric, rule.filter);
  return {
    type: intent.type === "alert.test" ? "alert.test" : intent.type === "firing" ? "alert.firing" : "alert.resolved",
    occurredAt: intent.at,
    app: { id: rule.appId, name: appName },
    rule: { id: rule.id, name: rule.name, metric, filter, window: rule.window * 60, condition: describeCondition(rule.condition) },
    value: intent.value,
    threshold: intent.threshold,
    state: intent.type === "resolved" ? "resolved" : "firing",
    links: {
      rule: `${dashboardUrl}/apps/${encodeURIComponent(rule.appId)}/alerts/${encodeURIComponent(rule.id)}`,
      view: `${dashboardUrl}${viewPath(rule.appId, rule.metric)}`,
    },
  };
}

/** What notifying did: the deliveries queued, and the endpoints nothing was recorded for, with why. */
export interface NotifyResult {
  deliveries: Array<{ orgId: string; deliveryId: string; ruleId: string; endpointId: string }>;
  skipped: Array<{ ruleId: string; endpointId: string | null; reason: string }>;
}

/** Records a delivery per endpoint of each intent and queues them all. */
export async function notify(deps: NotifyDeps, intents: readonly NotificationIntent[]): Promise<NotifyResult> {
  const result: NotifyResult = { deliveries: [], skipped: [] };
  const apps = new Map<string, { name: string; orgId: string | null } | null>();
  for (const intent of intents) {
    const appId = intent.rule.appId;
    if (!apps.has(appId)) {
      const row = await deps.db.prepare(`SELECT name, org_id FROM apps WHERE id = ?1 AND deleted_at IS NULL`).bind(appId).first<{ name: string; org_id: string | null }>();
      apps.set(appId, row === null ? null : { name: row.name, orgId: row.org_id });
    }
    const app = apps.get(appId);
    if (!app || app.orgId === null) {
      result.skipped.push({ ruleId: intent.rule.id, endpointId: null, reason: app ? "the app belongs to no organisation" : "the app is deleted" });
      continue;
    }
    const notice = noticeOf(intent, app.name, deps.dashboardUrl);
    for (const endpointId of intent.rule.endpointIds) {
      const deliveryId = await recordNotice(deps.db, app.orgId, endpointId, notice);
      if (deliveryId === null) result.skipped.push({ ruleId: intent.rule.id, endpointId, reason: "no such endpoint in the app's organisation" });
      else result.deliveries.push({ orgId: app.orgId, deliveryId, ruleId: intent.rule.id, endpointId });
    }
  }
  await enqueue(deps, result.deliveries);
  return result;
}

/** Queues one attempt per delivery, in batches of the most one send may carry. */
export async function enqueue(deps: Pick<NotifyDeps, "queue">, deliveries: ReadonlyArray<{ orgId: string; deliveryId: string }>): Promise<void> {
  for (let i = 0; i < deliveries.length; i += 100) {
    await deps.queue.sendBatch(deliveries.slice(i, i + 100).map((d) => ({ body: { v: 1, orgId: d.orgId, deliveryId: d.deliveryId } })));
  }
}
