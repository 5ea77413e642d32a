import { Hono } from "hono";
import { z } from "zod";
import { AppId, CreateWebhookEndpoint, isDevelopment, UpdateWebhookEndpoint } from "../../schemas";
import type { SendResult } from "../alerts/api";
import { createRule, deleteRule, getRule, listRules, ruleHistory, updateRule, type RuleChange } from "../alerts/rules/store";
import { alertSends } from "../alerts/sends";
import { workerSendDeps } from "../alerts/service";
import * as webhooks from "../alerts/webhooks/store";
import { appOrgId, OPERATOR } from "../apps/store";
import { HttpError } from "../lib/errors";
import { jsonBody } from "../lib/validate";

// Alert rules and webhook endpoints for operators (`/admin/apps/:app/alerts`, `…/webhooks`).
// Endpoints belong to the app's organisation, so every app of it sees the same ones.

const noApp = (id: string) => new HttpError(404, "not_found", `no app ${id.slice(0, 64)}`);
const noRule = (id: string) => new HttpError(404, "not_found", `no alert rule ${id.slice(0, 64)}`);
const noEndpoint = (id: string) => new HttpError(404, "not_found", `no webhook endpoint ${id.slice(0, 64)}`);

function appIdParam(raw: string | undefined): string {
  const parsed = AppId.safeParse(raw);
  if (!parsed.success) throw noApp(raw ?? "");
  return parsed.data;
}

/** The organisation of the app in the path, which its endpoints belong to. */
async function orgOf(db: D1Database, appId: string): Promise<string> {
  const orgId = await appOrgId(db, OPERATOR, appId);
  if (orgId === undefined) throw noApp(appId);
  if (orgId === null) throw new HttpError(409, "conflict", "this app belongs to no organisation yet, and webhook endpoints belong to organisations: sign up in the dashboard, which adopts it, first");
  return orgId;
}

function changed(result: RuleChange | null, appId: string): RuleChange & { ok: true } {
  if (result === null) throw noApp(appId);
  if (!result.ok) throw new HttpError(400, "invalid_body", result.reason);
  return result;
}

function sent(result: SendResult): { deliveryIds: string[] } {
  if (!result.ok) throw new HttpError(409, "conflict", result.reason);
  return { deliveryIds: result.deliveryIds };
}

function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new HttpError(400, "invalid_body", `${name} must be a positive whole number`);
  return n;
}

const AnyObject = z.record(z.string(), z.unknown(), { error: "the body must be a JSON object" });
const Rotate = z.object({ overlapSeconds: z.number().int().min(0).max(7 * 86_400, "overlapSeconds is at most a week (604800)").optional() }).strict();

export const alertRoutes = new Hono<{ Bindings: Env }>()
  .get("/:app/alerts", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const rules = await listRules(c.env.DB, OPERATOR, appId);
    if (!rules) throw noApp(appId);
    return c.json({ rules });
  })
  .post("/:app/alerts", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const { rule } = changed(await createRule(c.env.DB, OPERATOR, appId, await jsonBody(c.req.raw, AnyObject), { createdBy: "admin" }), appId);
    return c.json({ rule }, 201);
  })
  .get("/:app/alerts/:rule", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const rule = await getRule(c.env.DB, OPERATOR, appId, c.req.param("rule"));
    if (!rule) throw noRule(c.req.param("rule"));
    return c.json({ rule });
  })
  // Changing what a rule measures or when it holds starts it over at ok (workers/alerts/rules/store.ts).
  .patch("/:app/alerts/:rule", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const result = await updateRule(c.env.DB, OPERATOR, appId, c.req.param("rule"), await jsonBody(c.req.raw, AnyObject));
    if (result === null) throw noRule(c.req.param("rule"));
    return c.json({ rule: changed(result, appId).rule });
  })
  .delete("/:app/alerts/:rule", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    if (!(await deleteRule(c.env.DB, OPERATOR, appId, c.req.param("rule")))) throw noRule(c.req.param("rule"));
    return c.json({ rule: { id: c.req.param("rule") } });
  })
  .get("/:app/alerts/:rule/history", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const page = { limit: positiveInt(c.req.query("limit"), "limit"), before: positiveInt(c.req.query("before"), "before") };
    const history = await ruleHistory(c.env.DB, OPERATOR, appId, c.req.param("rule"), page);
    if (!history) throw noRule(c.req.param("rule"));
    return c.json({ history });
  })
  .post("/:app/alerts/:rule/test", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const orgId = await orgOf(c.env.DB, appId);
    if (!(await getRule(c.env.DB, OPERATOR, appId, c.req.param("rule")))) throw noRule(c.req.param("rule"));
    return c.json(sent(await alertSends(workerSendDeps(c.env)).testRule(orgId, appId, c.req.param("rule"))), 202);
  })
  .get("/:app/webhooks", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    return c.json({ endpoints: await webhooks.listEndpoints(c.env.DB, orgId) });
  })
  // The secret is in this answer only: store it where the receiver can read it.
  .post("/:app/webhooks", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    const created = await webhooks.createEndpoint(c.env.DB, orgId, await jsonBody(c.req.raw, CreateWebhookEndpoint.strict()), { localMode: isDevelopment(c.env), createdBy: "admin" });
    if (!created.ok) throw new HttpError(400, "invalid_body", created.reason);
    return c.json({ endpoint: created.endpoint, secret: created.secret }, 201);
  })
  .get("/:app/webhooks/:endpoint", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    const endpoint = await webhooks.getEndpoint(c.env.DB, orgId, c.req.param("endpoint"));
    if (!endpoint) throw noEndpoint(c.req.param("endpoint"));
    return c.json({ endpoint });
  })
  .patch("/:app/webhooks/:endpoint", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    const change = await jsonBody(c.req.raw, UpdateWebhookEndpoint.strict());
    const result = await webhooks.updateEndpoint(c.env.DB, orgId, c.req.param("endpoint"), change, { localMode: isDevelopment(c.env) });
    if (!result) throw noEndpoint(c.req.param("endpoint"));
    if (!result.ok) throw new HttpError(400, "invalid_body", result.reason);
    return c.json({ endpoint: result.endpoint });
  })
  .delete("/:app/webhooks/:endpoint", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    if (!(await webhooks.deleteEndpoint(c.env.DB, orgId, c.req.param("endpoint")))) throw noEndpoint(c.req.param("endpoint"));
    return c.json({ endpoint: { id: c.req.param("endpoint") } });
  })
  // The previous secret keeps signing beside the new one for a day unless overlapSeconds says otherwise.
  .post("/:app/webhooks/:endpoint/rotate", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    // The body is optional: an empty one rotates with the default overlap.
    const body = c.req.header("content-length") === "0" || !c.req.raw.body ? {} : await jsonBody(c.req.raw, Rotate);
    const rotated = await webhooks.rotateSecret(c.env.DB, orgId, c.req.param("endpoint"), body.overlapSeconds === undefined ? {} : { overlapMs: body.overlapSeconds * 1000 });
    if (!rotated) throw noEndpoint(c.req.param("endpoint"));
    return c.json({ secret: rotated.secret, previousExpiresAt: new Date(rotated.previousExpireAt).toISOString() });
  })
  .post("/:app/webhooks/:endpoint/test", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    if (!(await webhooks.getEndpoint(c.env.DB, orgId, c.req.param("endpoint")))) throw noEndpoint(c.req.param("endpoint"));
    return c.json(sent(await alertSends(workerSendDeps(c.env)).testEndpoint(orgId, c.req.param("endpoint"))), 202);
  })
  // This app's deliveries to the endpoint, newest first; `before` is the last delivery id of the previous page.
  .get("/:app/webhooks/:endpoint/deliveries", async (c) => {
    const appId = appIdParam(c.req.param("app"));
    const orgId = await orgOf(c.env.DB, appId);
    if (!(await webhooks.getEndpoint(c.env.DB, orgId, c.req.param("endpoint")))) throw noEndpoint(c.req.param("endpoint"));
    const beforeId = c.req.query("before");
    const before = beforeId === undefined ? null : await webhooks.getDelivery(c.env.DB, orgId, beforeId);
    if (beforeId !== undefined && !before) throw new HttpError(400, "invalid_body", `before: no delivery ${beforeId.slice(0, 64)}`);
    const deliveries = await webhooks.listDeliveries(c.env.DB, orgId, c.req.param("endpoint"), {
      appId,
      limit: positiveInt(c.req.query("limit"), "limit"),
      before: before ? { createdAt: before.createdAt, id: before.id } : undefined,
    });
    return c.json({ deliveries });
  })
  .get("/:app/webhooks/:endpoint/deliveries/:delivery", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    const delivery = await webhooks.getDelivery(c.env.DB, orgId, c.req.param("delivery"));
    if (!delivery || delivery.endpointId !== c.req.param("endpoint")) throw new HttpError(404, "not_found", `no delivery ${c.req.param("delivery").slice(0, 64)}`);
    return c.json({ delivery, attempts: await webhooks.listAttempts(c.env.DB, orgId, delivery.id) });
  })
  .post("/:app/webhooks/:endpoint/deliveries/:delivery/resend", async (c) => {
    const orgId = await orgOf(c.env.DB, appIdParam(c.req.param("app")));
    const delivery = await webhooks.getDelivery(c.env.DB, orgId, c.req.param("delivery"));
    if (!delivery || delivery.endpointId !== c.req.param("endpoint")) throw new HttpError(404, "not_found", `no delivery ${c.req.param("delivery").slice(0, 64)}`);
    return c.json(sent(await alertSends(workerSendDeps(c.env)).resendDelivery(orgId, delivery.id)), 202);
  });
