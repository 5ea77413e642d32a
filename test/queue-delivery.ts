import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";

let deliveries = 0;

/** What a consumer did with one delivery: ids it acknowledged, and retry delays by id. */
export interface DeliveryResult {
  acked: string[];
  retried: Array<{ id: string; delaySeconds: number | undefined }>;
}

/**
 * Runs a queue consumer on one delivery of `bodies`, as the queue would make it (every message
 * on its `attempts`-th delivery), and says what it acknowledged and handed back.
 */
export async function deliver(
  handler: (batch: MessageBatch<unknown>, env: Env) => Promise<void>,
  queue: string,
  bodies: readonly string[],
  opts: { attempts?: number; env?: Env } = {},
): Promise<DeliveryResult> {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body) => ({ id: `delivery-${++deliveries}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body })),
  );
  await handler(batch, opts.env ?? env);
  const result = await getQueueResult(batch, createExecutionContext());
  return { acked: result.explicitAcks, retried: result.retryMessages.map((m) => ({ id: m.msgId, delaySeconds: m.delaySeconds })) };
}
