// The sends people ask for by hand (a rule's test, an endpoint's test, a resend), for the admin
// API and, through AlertsService, the dashboard. Each records its deliveries and queues them like
// the cron's notifications, so they are attempted, retried and logged the same way.
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { WebhookBody } from "../../schemas";
import { appOrgId, inOrg } from "../apps/store";
import type { AlertsApi, SendResult } from "./api";
import { enqueue, notify, type NotifyDeps } from "./notify";
import { testAlert } from "./rules/run";
import { renderBody, standardBody } from "./webhooks/payload";
import { getEndpoint, newDeliveryId, recordDelivery, requeueDelivery } from "./webhooks/store";

export interface SendDeps extends NotifyDeps {
  /** A ClickHouse client for one call, closed after it: a rule's test measures its window now. */
  withClickHouse<T>(fn: (client: ClickHouseClient) => Promise<T>): Promise<T>;
  now?: () => number;
}

/** The sends, bound to their dependencies. */
export function alertSends(deps: SendDeps): AlertsApi {
  const clock = deps.now ?? Date.now;
  return {
    async testRule(orgId, appId, ruleId): Promise<SendResult> {
      if ((await appOrgId(deps.db, inOrg(orgId), appId)) === undefined) return { ok: false, reason: "no such app in this organisation" };
      const intent = await deps.withClickHouse((client) => testAlert({ db: deps.db, client }, appId, ruleId, clock()));
      if (intent === null) return { ok: false, reason: "no such rule" };
      if (typeof intent === "string") return { ok: false, reason: `the rule cannot be evaluated: ${intent}` };
      if (intent.rule.endpointIds.length === 0) return { ok: false, reason: "the rule sends to no webhook endpoint: add one first" };
      const sent = await notify(deps, [intent]);
      if (sent.deliveries.length === 0) return { ok: false, reason: sent.skipped[0]?.reason ?? "nothing was sent" };
      return { ok: true, deliveryIds: sent.deliveries.map((d) => d.deliveryId) };
    },

    async testEndpoint(orgId, endpointId): Promise<SendResult> {
      const endpoint = await getEndpoint(deps.db, orgId, endpointId);
      if (!endpoint) return { ok: false, reason: "no such endpoint" };
      // A delivery belongs to an app of the organisation: the sample names the first one.
      const app = await deps.db
        .prepare(`SELECT id, name FROM apps WHERE org_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`)
        .bind(orgId)
        .first<{ id: string; name: string }>();
      if (app === null) return { ok: false, reason: "the organisation has no app yet: a test names one of its apps" };
      const id = newDeliveryId();
      const now = clock();
      const body: WebhookBody = standardBody({
        type: "alert.test",
        id,
        occurredAt: now,
        app: { id: app.id, name: app.name },
        rule: { id: "rule_sample", name: "Sample rule", metric: "event_count", filter: { event: "Checkout Failed" }, window: 60, condition: "above 5" },
        value: 6,
        threshold: 5,
        state: "firing",
        links: { rule: `${deps.dashboardUrl}/apps/${encodeURIComponent(app.id)}/alerts`, view: `${deps.dashboardUrl}/apps/${encodeURIComponent(app.id)}/events` },
      });
      const recorded = await recordDelivery(deps.db, orgId, { id, endpointId, appId: app.id, ruleId: null, eventType: "alert.test", payload: renderBody(endpoint.format, body), now });
      if (!recorded) return { ok: false, reason: "the delivery could not be recorded" };
      await enqueue(deps, [{ orgId, deliveryId: id }]);
      return { ok: true, deliveryIds: [id] };
    },

    async resendDelivery(orgId, deliveryId): Promise<SendResult> {
      const delivery = await requeueDelivery(deps.db, orgId, deliveryId, clock());
      if (!delivery) return { ok: false, reason: "no such delivery" };
      await enqueue(deps, [{ orgId, deliveryId }]);
      return { ok: true, deliveryIds: [deliveryId] };
    },
  };
}
