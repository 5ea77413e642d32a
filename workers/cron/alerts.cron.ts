// The minute's alerting: every enabled rule evaluated against the rollups, each transition sent
// to its rule's endpoints, and deliveries whose queue message was lost queued again.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { enqueue, notify, type NotifyDeps } from "../alerts/notify";
import { evaluateAlerts } from "../alerts/rules/run";
import { overdueDeliveries, postponeDelivery } from "../alerts/webhooks/store";

// A delivery's message arrives within seconds of its due time; one this late was lost.
const LOST_AFTER_MS = 15 * 60_000;

export interface AlertCronResult {
  evaluated: number;
  queued: number;
  requeued: number;
  failed: Array<{ appId: string; ruleId?: string; error: string }>;
  skipped: Array<{ ruleId: string; endpointId: string | null; reason: string }>;
}

export async function runAlerts(deps: NotifyDeps & { client: ClickHouseClient }, now: number): Promise<AlertCronResult> {
  const run = await evaluateAlerts({ db: deps.db, client: deps.client }, now);
  const sent = await notify(deps, run.intents);
  const lost = await overdueDeliveries(deps.db, now, LOST_AFTER_MS);
  for (const d of lost) await postponeDelivery(deps.db, d.orgId, d.deliveryId, now);
  await enqueue(deps, lost);
  return { evaluated: run.evaluated, queued: sent.deliveries.length, requeued: lost.length, failed: run.failed, skipped: sent.skipped };
}
