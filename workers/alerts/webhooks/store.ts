// Webhook endpoints, their secrets, deliveries and attempts in D1: the one place that reads and
// writes them. Endpoints belong to an organisation and every call names it, so no query can
// reach another organisation's endpoint or its log. A secret leaves this module only once to
// whoever created or rotated it, and to the signer.
import type { CreateWebhookEndpoint, UpdateWebhookEndpoint, WebhookAttemptInfo, WebhookDeliveryInfo, WebhookEndpointInfo, WebhookEventType, WebhookFormat } from "../../../schemas";
import { randomHex } from "../../apps/keys";
import type { AttemptResult } from "./deliver";
import { newWebhookSecret } from "./sign";
import { checkWebhookUrl } from "./url-guard";

/** How long the previous secret keeps signing beside a rotated one, unless the rotation says otherwise. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60_000;
/** An endpoint whose every attempt has failed for this long is turned off. */
export const DISABLE_AFTER_MS = 24 * 60 * 60_000;
/** Why an endpoint turned off by the platform is off. */
export const FAILING_REASON = "every delivery failed for 24 hours";

/** A new delivery id, also its `webhook-id` header: `msg_` and 32 hex digits. */
export const newDeliveryId = (): string => `msg_${randomHex(16)}`;

interface EndpointRow {
  id: string;
  org_id: string;
  url: string;
  description: string;
  format: WebhookFormat;
  enabled: number;
  disabled_reason: string | null;
  failing_since: number | null;
  created_at: number;
  created_by: string | null;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  app_id: string;
  rule_id: string | null;
  event_type: WebhookEventType;
  payload: string;
  status: WebhookDeliveryInfo["status"];
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
}

interface AttemptRow {
  delivery_id: string;
  at: number;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_excerpt: string;
}

const ENDPOINT_COLUMNS = "id, org_id, url, description, format, enabled, disabled_reason, failing_since, created_at, created_by";
const DELIVERY_COLUMNS = "d.id, d.endpoint_id, d.app_id, d.rule_id, d.event_type, d.payload, d.status, d.attempts, d.next_attempt_at, d.created_at";

const toEndpoint = (r: EndpointRow): WebhookEndpointInfo => ({
  id: r.id,
  orgId: r.org_id,
  url: r.url,
  description: r.description,
  format: r.format,
  enabled: r.enabled === 1,
  disabledReason: r.disabled_reason,
  failingSince: r.failing_since,
  createdAt: r.created_at,
  createdBy: r.created_by,
});
const toDelivery = (r: DeliveryRow): WebhookDeliveryInfo => ({
  id: r.id,
  endpointId: r.endpoint_id,
  appId: r.app_id,
  ruleId: r.rule_id,
  eventType: r.event_type,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
});
const toAttempt = (r: AttemptRow): WebhookAttemptInfo => ({
  deliveryId: r.delivery_id,
  at: r.at,
  statusCode: r.status_code,
  error: r.error,
  latencyMs: r.latency_ms,
  responseExcerpt: r.response_excerpt,
});

/** A change that either happened or was refused, with the reason people read. */
export type EndpointChange = { ok: true; endpoint: WebhookEndpointInfo } | { ok: false; reason: string };

/** Whether `localMode` lets endpoints point at this machine (development and tests only). */
export interface EndpointOptions {
  localMode?: boolean;
  now?: number;
}

/** Creates an endpoint with a fresh secret, returned here and never again; refused when the URL is. */
export async function createEndpoint(
  db: D1Database,
  orgId: string,
  input: CreateWebhookEndpoint,
  opts: EndpointOptions & { createdBy?: string | null } = {},
): Promise<{ ok: true; endpoint: WebhookEndpointInfo; secret: string } | { ok: false; reason: string }> {
  const checked = checkWebhookUrl(input.url, opts);
  if (!checked.ok) return checked;
  const id = `whe_${randomHex(12)}`;
  const secret = newWebhookSecret();
  const now = opts.now ?? Date.now();
  await db.batch([
    db
      .prepare(`INSERT INTO webhook_endpoints (id, org_id, url, description, format, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`)
      .bind(id, orgId, checked.url.toString(), input.description, input.format, now, opts.createdBy ?? null),
    db.prepare(`INSERT INTO webhook_secrets (endpoint_id, secret, created_at) VALUES (?1, ?2, ?3)`).bind(id, secret, now),
  ]);
  const endpoint = await getEndpoint(db, orgId, id);
  if (!endpoint) throw new Error(`webhook endpoint ${id} was not stored`);
  return { ok: true, endpoint, secret };
}

/** The organisation's endpoints, oldest first, without secrets. */
export async function listEndpoints(db: D1Database, orgId: string): Promise<WebhookEndpointInfo[]> {
  const rs = await db.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ?1 ORDER BY created_at, id`).bind(orgId).all<EndpointRow>();
  return rs.results.map(toEndpoint);
}

/** One of the organisation's endpoints, or null. */
export async function getEndpoint(db: D1Database, orgId: string, id: string): Promise<WebhookEndpointInfo | null> {
  const row = await db.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ?1 AND id = ?2`).bind(orgId, id).first<EndpointRow>();
  return row ? toEndpoint(row) : null;
}

/**
 * Changes an endpoint; null when the organisation has none with that id. A new URL is checked
 * like a new endpoint's. Enabling forgets the failures that turned it off; disabling by hand
 * leaves no platform reason.
 */
export async function updateEndpoint(db: D1Database, orgId: string, id: string, change: UpdateWebhookEndpoint, opts: EndpointOptions = {}): Promise<EndpointChange | null> {
  const current = await getEndpoint(db, orgId, id);
  if (!current) return null;
  let url = current.url;
  if (change.url !== undefined) {
    const checked = checkWebhookUrl(change.url, opts);
    if (!checked.ok) return checked;
    url = checked.url.toString();
  }
  const enabled = change.enabled ?? current.enabled;
  const turnedOn = enabled && !current.enabled;
  const turnedOff = !enabled && current.enabled;
  await db
    .prepare(
      `UPDATE webhook_endpoints SET url = ?3, description = ?4, format = ?5, enabled = ?6,
         disabled_reason = CASE WHEN ?7 OR ?8 THEN NULL ELSE disabled_reason END,
         failing_since = CASE WHEN ?7 THEN NULL ELSE failing_since END
       WHERE org_id = ?1 AND id = ?2`,
    )
    .bind(orgId, id, url, change.description ?? current.description, change.format ?? current.format, enabled ? 1 : 0, turnedOn ? 1 : 0, turnedOff ? 1 : 0)
    .run();
  const endpoint = await getEndpoint(db, orgId, id);
  return endpoint ? { ok: true, endpoint } : null;
}

/** Deletes an endpoint with its secrets and its delivery log; false when the organisation has none with that id. */
export async function deleteEndpoint(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const r = await db.prepare(`DELETE FROM webhook_endpoints WHERE org_id = ?1 AND id = ?2`).bind(orgId, id).run();
  return r.meta.changes > 0;
}

/**
 * A new secret for an endpoint, returned once. The secrets it replaces keep signing beside it
 * until `previousExpireAt` (24 h unless `overlapMs` says otherwise, 0 for at once), so a
 * receiver can switch without a failed delivery. null when the organisation has no such endpoint.
 */
export async function rotateSecret(db: D1Database, orgId: string, id: string, opts: { overlapMs?: number; now?: number } = {}): Promise<{ secret: string; previousExpireAt: number } | null> {
  if (!(await getEndpoint(db, orgId, id))) return null;
  const now = opts.now ?? Date.now();
  const previousExpireAt = now + (opts.overlapMs ?? SECRET_OVERLAP_MS);
  const secret = newWebhookSecret();
  await db.batch([
    db.prepare(`DELETE FROM webhook_secrets WHERE endpoint_id = ?1 AND expires_at <= ?2`).bind(id, now),
    db.prepare(`UPDATE webhook_secrets SET expires_at = min(coalesce(expires_at, ?2), ?2) WHERE endpoint_id = ?1`).bind(id, previousExpireAt),
    db.prepare(`INSERT INTO webhook_secrets (endpoint_id, secret, created_at) VALUES (?1, ?2, ?3)`).bind(id, secret, now),
  ]);
  return { secret, previousExpireAt };
}

/** The secrets an attempt at `now` is signed with, newest first; empty when the organisation has no such endpoint. */
export async function liveSecrets(db: D1Database, orgId: string, endpointId: string, now = Date.now()): Promise<string[]> {
  const rs = await db
    .prepare(
      `SELECT s.secret FROM webhook_secrets s JOIN webhook_endpoints e ON e.id = s.endpoint_id
       WHERE e.org_id = ?1 AND s.endpoint_id = ?2 AND (s.expires_at IS NULL OR s.expires_at > ?3)
       ORDER BY s.created_at DESC, s.rowid DESC`,
    )
    .bind(orgId, endpointId, now)
    .all<{ secret: string }>();
  return rs.results.map((r) => r.secret);
}

/** A delivery to record: `payload` is the exact body sent, signed on every attempt under the same id. */
export interface NewDelivery {
  id: string;
  endpointId: string;
  appId: string;
  ruleId: string | null;
  eventType: WebhookEventType;
  payload: string;
  now?: number;
}

/**
 * Records a pending delivery, due at once. False when it was recorded before (the queue may hand
 * a message over twice) or when the endpoint or the app is not the organisation's.
 */
export async function recordDelivery(db: D1Database, orgId: string, d: NewDelivery): Promise<boolean> {
  const now = d.now ?? Date.now();
  const r = await db
    .prepare(
      `INSERT INTO webhook_deliveries (id, endpoint_id, app_id, rule_id, event_type, payload, next_attempt_at, created_at)
       SELECT ?2, e.id, a.id, ?5, ?6, ?7, ?8, ?8 FROM webhook_endpoints e JOIN apps a ON a.id = ?4 AND a.org_id = e.org_id
       WHERE e.org_id = ?1 AND e.id = ?3
       ON CONFLICT(id) DO NOTHING`,
    )
    .bind(orgId, d.id, d.endpointId, d.appId, d.ruleId, d.eventType, d.payload, now)
    .run();
  return r.meta.changes > 0;
}

/** One of the organisation's deliveries, or null. */
export async function getDelivery(db: D1Database, orgId: string, id: string): Promise<WebhookDeliveryInfo | null> {
  const row = await db
    .prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.org_id = ?1 AND d.id = ?2`)
    .bind(orgId, id)
    .first<DeliveryRow>();
  return row ? toDelivery(row) : null;
}

/** What logging an attempt changed: the delivery's new status, and whether the endpoint was just turned off. */
export interface AttemptOutcome {
  status: WebhookDeliveryInfo["status"];
  endpointDisabled: boolean;
}

/**
 * Logs an attempt and moves its delivery on: delivered on a 2xx, else pending until `retryAt`
 * or failed when there is none. A success clears the endpoint's failure record; the first failure
 * after one starts it, and once every attempt has failed for 24 h the endpoint is turned off.
 * null when the organisation has no such delivery.
 */
export async function recordAttempt(db: D1Database, orgId: string, deliveryId: string, result: AttemptResult, retryAt: number | null, now = Date.now()): Promise<AttemptOutcome | null> {
  const delivery = await getDelivery(db, orgId, deliveryId);
  if (!delivery) return null;
  const status: AttemptOutcome["status"] = result.ok ? "delivered" : retryAt === null ? "failed" : "pending";
  const results = await db.batch([
    db
      .prepare(`INSERT INTO webhook_attempts (delivery_id, at, status_code, error, latency_ms, response_excerpt) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`)
      .bind(deliveryId, now, result.status, result.error, Math.max(0, Math.round(result.latencyMs)), result.excerpt),
    db
      .prepare(`UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?2, next_attempt_at = ?3 WHERE id = ?1`)
      .bind(deliveryId, status, status === "pending" ? retryAt : null),
    result.ok
      ? db.prepare(`UPDATE webhook_endpoints SET failing_since = NULL WHERE org_id = ?1 AND id = ?2`).bind(orgId, delivery.endpointId)
      : db.prepare(`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?3) WHERE org_id = ?1 AND id = ?2`).bind(orgId, delivery.endpointId, now),
    db
      .prepare(`UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?4 WHERE org_id = ?1 AND id = ?2 AND enabled = 1 AND failing_since <= ?3`)
      .bind(orgId, delivery.endpointId, now - DISABLE_AFTER_MS, FAILING_REASON),
  ]);
  return { status, endpointDisabled: (results[3]?.meta.changes ?? 0) > 0 };
}

/** Puts a delivery back in line, due at once, for a resend by hand; null when the organisation has no such delivery. */
export async function requeueDelivery(db: D1Database, orgId: string, id: string, now = Date.now()): Promise<WebhookDeliveryInfo | null> {
  const r = await db
    .prepare(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?3
       WHERE id = ?2 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE org_id = ?1)`,
    )
    .bind(orgId, id, now)
    .run();
  return r.meta.changes > 0 ? getDelivery(db, orgId, id) : null;
}

/** Which page of an endpoint's log: up to `limit`, older than the `before` delivery, of one app only. */
export interface DeliveryPage {
  limit?: number;
  appId?: string;
  before?: { createdAt: number; id: string };
}

/** An endpoint's deliveries, newest first. */
export async function listDeliveries(db: D1Database, orgId: string, endpointId: string, page: DeliveryPage = {}): Promise<WebhookDeliveryInfo[]> {
  const rs = await db
    .prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE e.org_id = ?1 AND d.endpoint_id = ?2 AND (?3 IS NULL OR d.app_id = ?3)
         AND (?4 IS NULL OR d.created_at < ?4 OR (d.created_at = ?4 AND d.id < ?5))
       ORDER BY d.created_at DESC, d.id DESC LIMIT ?6`,
    )
    .bind(orgId, endpointId, page.appId ?? null, page.before?.createdAt ?? null, page.before?.id ?? null, Math.min(Math.max(page.limit ?? 50, 1), 500))
    .all<DeliveryRow>();
  return rs.results.map(toDelivery);
}

/** A delivery's attempts, newest first; empty when the organisation has no such delivery. */
export async function listAttempts(db: D1Database, orgId: string, deliveryId: string): Promise<WebhookAttemptInfo[]> {
  const rs = await db
    .prepare(
      `SELECT t.delivery_id, t.at, t.status_code, t.error, t.latency_ms, t.response_excerpt
       FROM webhook_attempts t JOIN webhook_deliveries d ON d.id = t.delivery_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE e.org_id = ?1 AND t.delivery_id = ?2 ORDER BY t.at DESC, t.rowid DESC`,
    )
    .bind(orgId, deliveryId)
    .all<AttemptRow>();
  return rs.results.map(toAttempt);
}

/**
 * Pending deliveries whose attempt is overdue by more than `graceMs` at `now`, across every
 * organisation, oldest first: their queue message was lost (a send that failed after the
 * delivery was recorded), and the minute's sweep queues them again.
 */
export async function overdueDeliveries(db: D1Database, now: number, graceMs: number, limit = 100): Promise<Array<{ orgId: string; deliveryId: string }>> {
  const rs = await db
    .prepare(
      `SELECT e.org_id, d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.next_attempt_at < ?1 ORDER BY d.next_attempt_at LIMIT ?2`,
    )
    .bind(now - graceMs, limit)
    .all<{ org_id: string; id: string }>();
  return rs.results.map((r) => ({ orgId: r.org_id, deliveryId: r.id }));
}

/** Pushes a pending delivery's due time to `at`, so the sweep does not queue it again meanwhile. */
export async function postponeDelivery(db: D1Database, orgId: string, id: string, at: number): Promise<void> {
  await db
    .prepare(`UPDATE webhook_deliveries SET next_attempt_at = ?3 WHERE id = ?2 AND status = 'pending' AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE org_id = ?1)`)
    .bind(orgId, id, at)
    .run();
}
