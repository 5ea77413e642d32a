import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { vi } from "vitest";
import { decodeQueueMessage } from "../schemas";
import { queueBodyText } from "../workers/queue/packed";

let deliveries = 0;

/**
 * The app a queue message belongs to. Every batcher of a workerd test file shares the queue
 * bindings, and another test's shards flush whenever their alarms fire: a test that watches or
 * fails sends acts on its own app's messages only.
 */
export function appOfMessage(body: unknown): string | undefined {
  return decodeQueueMessage(queueBodyText(body))?.appId;
}

/** What a consumer did with one delivery: ids it acknowledged, and retry delays by id. */
export interface DeliveryResult {
  acked: string[];
  retried: Array<{ id: string; delaySeconds: number | undefined }>;
}

/**
 * Runs a queue consumer on one delivery of `bodies`, as the queue would make it (every message
 * on its `attempts`-th delivery, first sent at `timestamp`), and says what it acknowledged and
 * handed back.
 */
export async function deliver(
  handler: (batch: MessageBatch<unknown>, env: Env) => Promise<void>,
  queue: string,
  bodies: readonly unknown[],
  opts: { attempts?: number; env?: Env; timestamp?: Date } = {},
): Promise<DeliveryResult> {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body) => ({ id: `delivery-${++deliveries}`, timestamp: opts.timestamp ?? new Date(), attempts: opts.attempts ?? 1, body })),
  );
  // The queue's own record of a retry does not keep its delay; the calls do.
  const delays = new Map<string, number | undefined>();
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    vi.spyOn(m, "retry").mockImplementation((options?: QueueRetryOptions) => {
      delays.set(m.id, options?.delaySeconds);
      retry(options);
    });
  }
  await handler(batch, opts.env ?? env);
  // Typed here: the result's type ships only in the experimental runtime types.
  const result: { explicitAcks: string[]; retryMessages: Array<{ msgId: string }> } = await getQueueResult(batch, createExecutionContext());
  return { acked: result.explicitAcks, retried: result.retryMessages.map((m) => ({ id: m.msgId, delaySeconds: delays.get(m.msgId) })) };
}
