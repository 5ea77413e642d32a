// The webhook queue's consumer: each message is one attempt of one delivery. A failed attempt
// comes back as the same message after the delay the backoff gives, until a 2xx or 24 hours;
// an attempt that could not even be logged (D1 unavailable) is retried shortly. What reaches
// the dead-letter queue (Queues' own retries ran out) is marked failed in the delivery log, so
// no delivery ever stays "pending" with nothing left to attempt it.
import { isDevelopment } from "../../../schemas";
import { isWebhookMessage } from "../notify";
import { runAttempt } from "./process";
import { getDelivery, recordAttempt } from "./store";
import { errorText, log } from "../../lib/log";

/** Queue names as in wrangler.toml. */
export const WEBHOOK_QUEUE = "telemetry-webhooks";
export const WEBHOOK_DEAD_LETTER_QUEUE = "telemetry-webhooks-dlq";

// Queues delay a message by at most 12 hours; the backoff never asks for more than one.
const MAX_DELAY_SECONDS = 12 * 3600;
const STORE_RETRY_SECONDS = 30;

export interface WebhookConsumerDeps {
  db: D1Database;
  /** `http://127.0.0.1` endpoints are attempted (development and tests only). */
  localMode: boolean;
  now?: () => number;
  fetchFn?: typeof fetch;
}

export const webhookConsumerDeps = (env: Env): WebhookConsumerDeps => ({ db: env.DB, localMode: isDevelopment(env) });

/** Makes one attempt per message; acknowledges, or retries at the delivery's next attempt. */
export async function handleWebhookBatch(batch: MessageBatch<unknown>, deps: WebhookConsumerDeps): Promise<void> {
  const clock = deps.now ?? Date.now;
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isWebhookMessage(message.body)) {
        log.error("webhooks.not_a_delivery", { body: JSON.stringify(message.body)?.slice(0, 200) });
        message.ack();
        return;
      }
      const { orgId, deliveryId } = message.body;
      try {
        const run = await runAttempt(deps.db, orgId, deliveryId, { localMode: deps.localMode, now: clock, fetchFn: deps.fetchFn });
        if (run.outcome === "retry") {
          const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((run.retryAt - clock()) / 1000)));
          log.info("webhooks.attempt_failed", { org: orgId, delivery: deliveryId, status: run.attempt.status, error: run.attempt.error, retry_s: delaySeconds });
          message.retry({ delaySeconds });
          return;
        }
        if (run.outcome === "failed") log.warn("webhooks.failed", { org: orgId, delivery: deliveryId, status: run.attempt.status, error: run.attempt.error, endpoint_disabled: run.endpointDisabled });
        message.ack();
      } catch (err) {
        log.error("webhooks.attempt_not_made", { org: orgId, delivery: deliveryId, error: errorText(err) });
        message.retry({ delaySeconds: STORE_RETRY_SECONDS });
      }
    }),
  );
}

/** Marks the deliveries of dead-lettered messages failed, with the reason in their attempt log. */
export async function handleWebhookDeadLetters(batch: MessageBatch<unknown>, deps: WebhookConsumerDeps): Promise<void> {
  const clock = deps.now ?? Date.now;
  for (const message of batch.messages) {
    if (!isWebhookMessage(message.body)) {
      message.ack();
      continue;
    }
    const { orgId, deliveryId } = message.body;
    try {
      const delivery = await getDelivery(deps.db, orgId, deliveryId);
      if (delivery?.status === "pending") {
        await recordAttempt(deps.db, orgId, deliveryId, { ok: false, status: null, error: "gave up: the queue's retries ran out", latencyMs: 0, excerpt: "" }, null, clock());
      }
      message.ack();
    } catch (err) {
      log.error("webhooks.dead_letter_not_marked", { org: orgId, delivery: deliveryId, error: errorText(err) });
      message.retry({ delaySeconds: STORE_RETRY_SECONDS });
    }
  }
}
