// The Worker's side of alerts: the sends bound to this Worker's D1, webhook queue and ClickHouse,
// and AlertsService, the entrypoint the dashboard reaches through its ALERTS service binding
// (no route on the internet leads to it).
import { WorkerEntrypoint } from "cloudflare:workers";
import { config } from "../../schemas";
import { localD1Env } from "../../schemas/local-d1";
import { clickhouseClient } from "../lib/clickhouse";
import type { AlertsApi, SendResult } from "./api";
import { alertSends, type SendDeps } from "./sends";

/** The sends' dependencies as this Worker has them. */
export function workerSendDeps(env: Env): SendDeps {
  const cfg = config(env);
  return {
    db: env.DB,
    queue: env.WEBHOOKS,
    dashboardUrl: cfg.dashboardUrl,
    async withClickHouse(fn) {
      const client = clickhouseClient(cfg.clickhouse);
      try {
        return await fn(client);
      } finally {
        await client.close();
      }
    },
  };
}

/** What the dashboard calls on the edge Worker for alerts. */
export class AlertsService extends WorkerEntrypoint<Env> implements AlertsApi {
  testRule(orgId: string, appId: string, ruleId: string): Promise<SendResult> {
    return alertSends(workerSendDeps(localD1Env(this.env))).testRule(orgId, appId, ruleId);
  }

  testEndpoint(orgId: string, endpointId: string): Promise<SendResult> {
    return alertSends(workerSendDeps(localD1Env(this.env))).testEndpoint(orgId, endpointId);
  }

  resendDelivery(orgId: string, deliveryId: string): Promise<SendResult> {
    return alertSends(workerSendDeps(localD1Env(this.env))).resendDelivery(orgId, deliveryId);
  }
}
