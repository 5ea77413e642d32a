// The two steps between a rule changing state and a receiver's log line: recording a delivery
// per endpoint in the endpoint's format, and making its next attempt when it is due: the whole
// of a queue consumer's work per message. They hold no state of their own.
import { attemptDelivery, nextAttemptAt, type AttemptResult } from "./deliver";
import { renderBody, standardBody, type AlertNotice } from "./payload";
import { getDelivery, getEndpoint, liveSecrets, newDeliveryId, recordAttempt, recordDelivery } from "./store";

/**
 * Records a pending delivery of `notice` to one of the organisation's endpoints, its body
 * rendered in the endpoint's format and its id the body's and the `webhook-id`. The delivery id,
 * or null when the organisation has no such endpoint or the app is not the organisation's.
 */
export async function recordNotice(db: D1Database, orgId: string, endpointId: string, notice: Omit<AlertNotice, "id">, now = Date.now()): Promise<string | null> {
  const endpoint = await getEndpoint(db, orgId, endpointId);
  if (!endpoint) return null;
  const id = newDeliveryId();
  const payload = renderBody(endpoint.format, standardBody({ ...notice, id }));
  const recorded = await recordDelivery(db, orgId, { id, endpointId, appId: notice.app.id, ruleId: notice.rule.id, eventType: notice.type, payload, now });
  return recorded ? id : null;
}

/** What one run did: the attempt's result and, while retrying, when the next attempt is due. */
export type AttemptRun =
  | { outcome: "delivered" | "failed"; attempt: AttemptResult; endpointDisabled: boolean }
  | { outcome: "retry"; attempt: AttemptResult; retryAt: number }
  | { outcome: "skipped"; reason: "no delivery" | "not pending" };

/**
 * Makes a pending delivery's next attempt and logs it. Retries run until 24 h after the delivery
 * was recorded (a resend by hand therefore gets one attempt once that day has passed). A delivery
 * to an endpoint that is turned off, or whose URL the guard now refuses, fails at once with the
 * reason logged: no retry would change it. A delivery already delivered (the queue may hand a
 * message over twice) is skipped.
 */
export async function runAttempt(
  db: D1Database,
  orgId: string,
  deliveryId: string,
  opts: { localMode?: boolean; now?: () => number; fetchFn?: typeof fetch } = {},
): Promise<AttemptRun> {
  const clock = opts.now ?? Date.now;
  const delivery = await getDelivery(db, orgId, deliveryId);
  if (!delivery) return { outcome: "skipped", reason: "no delivery" };
  if (delivery.status !== "pending") return { outcome: "skipped", reason: "not pending" };
  const endpoint = await getEndpoint(db, orgId, delivery.endpointId);
  let attempt: AttemptResult;
  if (!endpoint?.enabled) {
    attempt = { ok: false, status: null, error: "endpoint disabled", latencyMs: 0, excerpt: "" };
  } else {
    const secrets = await liveSecrets(db, orgId, endpoint.id, clock());
    attempt = await attemptDelivery({ url: endpoint.url, id: delivery.id, body: delivery.payload, secrets, localMode: opts.localMode }, opts.fetchFn);
  }
  const now = clock();
  const retryAt = attempt.ok || attempt.refused || !endpoint?.enabled ? null : nextAttemptAt(delivery.attempts + 1, delivery.createdAt, now);
  const logged = await recordAttempt(db, orgId, delivery.id, attempt, retryAt, now);
  if (!logged) return { outcome: "skipped", reason: "no delivery" };
  if (logged.status === "pending" && retryAt !== null) return { outcome: "retry", attempt, retryAt };
  return { outcome: logged.status === "delivered" ? "delivered" : "failed", attempt, endpointDisabled: logged.endpointDisabled };
}
