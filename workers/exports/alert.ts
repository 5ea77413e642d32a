// A period that failed for good is told to the app's organisation the way alerts are: one signed
// delivery per enabled webhook endpoint, recorded in the endpoint's log and queued on WEBHOOKS,
// so it is attempted, retried and shown like any alert's (workers/alerts/webhooks).
import { ExportFailedBody, type ExportRun, type ExportSchedule } from "../../schemas";
import { enqueue, type NotifyDeps } from "../alerts/notify";
import { escapeMrkdwn } from "../alerts/webhooks/payload";
import { listEndpoints, newDeliveryId, recordDelivery } from "../alerts/webhooks/store";

/** The Slack message of a failed export: what failed, for which period, and why. */
function slackText(body: ExportFailedBody): string {
  return JSON.stringify({
    text: escapeMrkdwn(`Export failed: ${body.export.name} on ${body.app.name}`),
    blocks: [
      {
        type: "section",
        text: { type: "mrkdwn", text: `:warning: *${escapeMrkdwn(`Export failed: ${body.export.name} on ${body.app.name}`)}*\n${escapeMrkdwn(`${body.run.periodStart} to ${body.run.periodEnd}, ${body.run.attempts} attempts: ${body.run.error}`)}` },
      },
      { type: "context", elements: [{ type: "mrkdwn", text: `<${body.links.export}|Exports and their runs>` }] },
    ],
  });
}

/** Queues an `export.failed` delivery to each enabled endpoint of the app's organisation; the delivery ids. */
export async function alertExportFailed(deps: NotifyDeps, schedule: ExportSchedule, run: ExportRun, now: number): Promise<string[]> {
  const app = await deps.db.prepare("SELECT name, org_id FROM apps WHERE id = ?1 AND deleted_at IS NULL").bind(schedule.appId).first<{ name: string; org_id: string | null }>();
  if (!app || app.org_id === null) return [];
  const orgId = app.org_id;
  const endpoints = (await listEndpoints(deps.db, orgId)).filter((e) => e.enabled);
  const deliveries: Array<{ orgId: string; deliveryId: string }> = [];
  for (const endpoint of endpoints) {
    const id = newDeliveryId();
    const body = ExportFailedBody.parse({
      type: "export.failed",
      version: 1,
      id,
      occurredAt: new Date(now).toISOString(),
      app: { id: schedule.appId, name: app.name },
      export: { id: schedule.id, name: schedule.name, format: schedule.format, frequency: schedule.frequency },
      run: { id: run.id, periodStart: new Date(run.periodStart).toISOString(), periodEnd: new Date(run.periodEnd).toISOString(), attempts: run.attempts, error: run.error ?? "unknown error" },
      links: { export: `${deps.dashboardUrl}/apps/${encodeURIComponent(schedule.appId)}/exports` },
    });
    const payload = endpoint.format === "slack" ? slackText(body) : JSON.stringify(body);
    if (await recordDelivery(deps.db, orgId, { id, endpointId: endpoint.id, appId: schedule.appId, ruleId: null, eventType: "export.failed", payload, now })) deliveries.push({ orgId, deliveryId: id });
  }
  await enqueue(deps, deliveries);
  return deliveries.map((d) => d.deliveryId);
}
