// The sends the dashboard asks the edge Worker for (a rule's test, an endpoint's test, a resend),
// through the ALERTS service binding: only the Worker holds the webhook queue.
import type { AlertsApi } from "../../../workers/alerts/api";
import type { RawEnv } from "../env.server";

function isAlertsApi(value: unknown): value is AlertsApi {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.testRule === "function" && typeof v.testEndpoint === "function" && typeof v.resendDelivery === "function";
}

/** The edge Worker's AlertsService (workers/alerts/service.ts). */
export function alertsApi(raw: RawEnv): AlertsApi {
  if (!isAlertsApi(raw.ALERTS)) throw new Error("dashboard configuration: ALERTS must be a service binding to the edge Worker's AlertsService entrypoint (dashboard/wrangler.toml)");
  return raw.ALERTS;
}
