import { decodeQueueMessage, type QueueMessage } from "../../schemas";

/** Where archived dead letters live in R2. */
export const DEAD_LETTER_PREFIX = "dead-letters/";

/** R2 key of a dead letter: by day, then batch id (or the queue message id). */
export function deadLetterKey(batchId: string | null, messageId: string, at: Date): string {
  const safe = (batchId ?? messageId).replace(/[^A-Za-z0-9_.:-]/g, "_");
  return `${DEAD_LETTER_PREFIX}${at.toISOString().slice(0, 10)}/${safe}.ndjson`;
}

// Event rows, or counters for a tally message.
const rowsOf = (m: QueueMessage | null): number => (m === null ? 0 : m.kind === "tallies" ? m.tallies.length : m.rows.length);

/** Archives every dead-lettered message, untouched, to R2 so it can be inspected and replayed. */
export async function handleDeadLetterBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const text = typeof message.body === "string" ? message.body : JSON.stringify(message.body ?? null);
    const sink = decodeQueueMessage(text);
    try {
      await env.ARCHIVE.put(deadLetterKey(sink?.batchId ?? null, message.id, message.timestamp), text, {
        httpMetadata: { contentType: "application/x-ndjson" },
        customMetadata: { app: sink?.appId ?? "", batch: sink?.batchId ?? "", kind: sink?.kind ?? "", rows: String(rowsOf(sink)), attempts: String(message.attempts) },
      });
      message.ack();
    } catch (err) {
      console.error("dead letters: R2 write failed", err);
      message.retry({ delaySeconds: 30 });
    }
  }
}

/** Sends archived dead letters back to the events queue and removes them from R2. */
export async function replayDeadLetters(env: Env, opts: { prefix?: string; limit?: number } = {}): Promise<{ replayed: number; rows: number; remaining: boolean; failed: string[] }> {
  const listing = await env.ARCHIVE.list({ prefix: `${DEAD_LETTER_PREFIX}${opts.prefix ?? ""}`, limit: Math.min(opts.limit ?? 100, 1000) });
  let replayed = 0;
  let rows = 0;
  const failed: string[] = [];
  for (const obj of listing.objects) {
    const body = await env.ARCHIVE.get(obj.key);
    if (!body) continue;
    const text = await body.text();
    const sink = decodeQueueMessage(text);
    if (!sink) {
      failed.push(obj.key);
      continue;
    }
    // The batch id is kept, so a batch that did land after all is skipped by the sink.
    await env.EVENTS_QUEUE.send(text, { contentType: "text" });
    await env.ARCHIVE.delete(obj.key);
    replayed++;
    if (sink.kind === "events") rows += sink.rows.length;
  }
  return { replayed, rows, remaining: listing.truncated, failed };
}
