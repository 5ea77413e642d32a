// The organisation's webhook endpoints and their delivery log for the dashboard: the shared store
// (workers/alerts/webhooks/store.ts), always scoped to the viewer's organisation, plus the forms'
// parsing and what a page of the log shows beside each delivery (its app, its rule, its attempts).
import { z } from "zod";
import { CreateWebhookEndpoint, WebhookFormat, type UpdateWebhookEndpoint, type WebhookAttemptInfo, type WebhookDeliveryInfo, type WebhookEndpointInfo } from "../../../schemas";
import { listRules } from "../../../workers/alerts/rules/store";
import * as store from "../../../workers/alerts/webhooks/store";
import { inOrg } from "../../../workers/apps/store";
import type { DashboardEnv } from "../env.server";
import { parseCursor } from "../queries/cursor";
import { listApps } from "./apps.server";

export type { WebhookEndpointInfo };

/** Deliveries a page of an endpoint's log shows. */
export const DELIVERIES_PER_PAGE = 20;

// Endpoints may point at this machine only under `npm start` and in tests.
const options = (env: DashboardEnv): store.EndpointOptions => ({ localMode: env.development });

export const listEndpoints = (env: DashboardEnv, orgId: string): Promise<WebhookEndpointInfo[]> => store.listEndpoints(env.db, orgId);

export const getEndpoint = (env: DashboardEnv, orgId: string, id: string): Promise<WebhookEndpointInfo | null> => store.getEndpoint(env.db, orgId, id);

export const deleteEndpoint = (env: DashboardEnv, orgId: string, id: string): Promise<boolean> => store.deleteEndpoint(env.db, orgId, id);

export const getDelivery = (env: DashboardEnv, orgId: string, id: string): Promise<WebhookDeliveryInfo | null> => store.getDelivery(env.db, orgId, id);

const EndpointForm = CreateWebhookEndpoint.extend({
  url: z.string().min(1, "Enter the URL to send to.").max(2048, "A URL is at most 2,048 characters."),
  description: z.string().max(500, "A description is at most 500 characters."),
  format: z.enum(WebhookFormat.options, { error: "Choose the standard or the Slack format." }),
});

/** The endpoint the create or edit form typed, or what is wrong with it in words. */
export function parseEndpointFields(fields: { url: string; description: string; format: string }): { ok: true; value: CreateWebhookEndpoint } | { ok: false; reason: string } {
  const parsed = EndpointForm.safeParse(fields);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => i.message).join(" ") };
  return { ok: true, value: parsed.data };
}

/** Creates an endpoint; its secret is in the answer and nowhere else, ever. */
export function createEndpoint(env: DashboardEnv, orgId: string, input: CreateWebhookEndpoint, createdBy: string): ReturnType<typeof store.createEndpoint> {
  return store.createEndpoint(env.db, orgId, input, { ...options(env), createdBy });
}

/** Changes an endpoint's URL, description, format or enabled flag; null when the organisation has no such endpoint. */
export function updateEndpoint(env: DashboardEnv, orgId: string, id: string, change: UpdateWebhookEndpoint): Promise<store.EndpointChange | null> {
  return store.updateEndpoint(env.db, orgId, id, change, options(env));
}

/** A new secret, returned once, and until when the previous one keeps signing (now when `overlap` is false). */
export function rotateSecret(env: DashboardEnv, orgId: string, id: string, overlap: boolean): Promise<{ secret: string; previousExpireAt: number } | null> {
  return store.rotateSecret(env.db, orgId, id, overlap ? {} : { overlapMs: 0 });
}

/** A delivery as the log shows it: with its app's and rule's names and every attempt, newest first. */
export interface LoggedDelivery extends WebhookDeliveryInfo {
  appName: string;
  /** The rule's name; null for a test without a rule, or a rule deleted since. */
  ruleName: string | null;
  attemptLog: WebhookAttemptInfo[];
}

/** Which page of the log: `before` is the `<created ms>_<id>` of the last delivery of the previous page. */
export interface LogQuery {
  appId: string | null;
  before: string | null;
}

/** The position after `d` in the newest-first log. */
export const positionAfter = (d: { createdAt: number; id: string }): string => `${d.createdAt}_${d.id}`;

/**
 * A page of an endpoint's deliveries, newest first, optionally of one app, with `next` the
 * position of the page after it (null on the last). The organisation's apps come along for the
 * app filter.
 */
export async function deliveryLog(
  env: DashboardEnv,
  orgId: string,
  endpointId: string,
  query: LogQuery,
): Promise<{ deliveries: LoggedDelivery[]; next: string | null; apps: Array<{ id: string; name: string }> }> {
  const cursor = parseCursor(query.before);
  const [apps, rows] = await Promise.all([
    listApps(env.db, orgId),
    store.listDeliveries(env.db, orgId, endpointId, {
      limit: DELIVERIES_PER_PAGE + 1,
      ...(query.appId ? { appId: query.appId } : {}),
      ...(cursor ? { before: { createdAt: cursor.ts, id: cursor.id } } : {}),
    }),
  ]);
  const page = rows.slice(0, DELIVERIES_PER_PAGE);
  const appNames = new Map(apps.map((a) => [a.id, a.name]));
  const appIds = [...new Set(page.filter((d) => d.ruleId !== null).map((d) => d.appId))];
  const [ruleLists, attempts] = await Promise.all([
    Promise.all(appIds.map((appId) => listRules(env.db, inOrg(orgId), appId))),
    Promise.all(page.map((d) => store.listAttempts(env.db, orgId, d.id))),
  ]);
  const ruleNames = new Map(ruleLists.flatMap((rules) => (rules ?? []).map((r) => [r.id, r.name] as const)));
  const last = page[page.length - 1];
  return {
    deliveries: page.map((d, i) => ({
      ...d,
      appName: appNames.get(d.appId) ?? d.appId,
      ruleName: d.ruleId === null ? null : (ruleNames.get(d.ruleId) ?? null),
      attemptLog: attempts[i] ?? [],
    })),
    next: rows.length > DELIVERIES_PER_PAGE && last ? positionAfter(last) : null,
    apps: apps.map((a) => ({ id: a.id, name: a.name })),
  };
}
