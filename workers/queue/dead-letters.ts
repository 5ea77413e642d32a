import { config, decodeQueueMessage, type AppLocation, type QueueMessage } from "../../schemas";
import { archiveBucket, archiveBuckets } from "../apps/location";
import { appLocation } from "../apps/store";
import { backoff } from "../lib/backoff";
import { clickhouseClient } from "../lib/clickhouse";
import { errorText, log } from "../lib/log";
import { recordCounts } from "./counters";
import { packText, queueBodyText } from "./packed";
import { eventsQueue } from "./route";

/** Where archived dead letters live in R2. */
export const DEAD_LETTER_PREFIX = "dead-letters/";

/** R2 key of a dead letter: by day, then batch id (or the queue message id). */
export function deadLetterKey(batchId: string | null, messageId: string, at: Date): string {
  const safe = (batchId ?? messageId).replace(/[^A-Za-z0-9_.:-]/g, "_");
  return `${DEAD_LETTER_PREFIX}${at.toISOString().slice(0, 10)}/${safe}.ndjson`;
}

// Event rows, or counters for a tally message.
const rowsOf = (m: QueueMessage | null): number => (m === null ? 0 : m.kind === "tallies" ? m.tallies.length : m.rows.length);

/** A queue message's body as the text it was sent as, unpacked (or as near as JSON gets); never throws. */
export async function messageText(message: Message<unknown>): Promise<string> {
  const text = queueBodyText(message.body);
  if (text !== null) return text;
  if (message.body instanceof ArrayBuffer || ArrayBuffer.isView(message.body)) return new TextDecoder().decode(message.body);
  try {
    return JSON.stringify(message.body ?? null);
  } catch {
    return String(message.body);
  }
}

/** Counted per failed attempt to archive a dead letter, by the app it belongs to. */
export const ARCHIVE_FAILED = "archive_failed";

// Cloudflare Queues deliver a message at most max_retries + 1 times (max_retries is 100 for
// this queue, the most allowed) and keep it 4 days unless the queue is set otherwise. A dead
// letter R2 still refuses well before either runs out is sent into the queue again as a new
// message, which starts both afresh; the old one is acknowledged only once the copy is sent.
const RENEW_AT_ATTEMPT = 90;
const RENEW_AFTER_MS = 3 * 24 * 3600_000;

/**
 * Delay before the next attempt to archive: 15-30 s at first, doubling up to 30-60 minutes,
 * half of it random. `archiveRetryDelaySeconds(3) // 60 to 120`. About 90 deliveries then span
 * two to three days of outage, and Queues allow a delay of up to 12 hours.
 */
export function archiveRetryDelaySeconds(attempts: number, random = Math.random): number {
  return Math.max(1, Math.ceil(backoff(Math.max(0, attempts - 1), 30_000, 3_600_000, random) / 1000));
}

/**
 * Archives every dead-lettered message, untouched, to R2 so it can be inspected and replayed.
 * A message is acknowledged only once it is in R2 (or renewed in the queue); while R2 fails,
 * each failure is counted as `archive_failed` in the app's pipeline counters.
 */
export async function handleDeadLetterBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const failed: Array<{ message: Message<unknown>; appId: string; reason: string }> = [];
  // An EU app's dead letters go to the EU bucket; an unknown app's (or an unreadable message's) to the default one.
  const locations = new Map<string, AppLocation>();
  const bucketOf = async (appId: string): Promise<R2Bucket> => {
    let location = locations.get(appId);
    if (location === undefined) locations.set(appId, (location = appId ? ((await appLocation(env.DB, appId)) ?? "default") : "default"));
    return archiveBucket(env, location);
  };
  for (const message of batch.messages) {
    const text = await messageText(message);
    let appId = "";
    try {
      const sink = decodeQueueMessage(text);
      appId = sink?.appId ?? "";
      const bucket = await bucketOf(appId);
      await bucket.put(deadLetterKey(sink?.batchId ?? null, message.id, message.timestamp), text, {
        httpMetadata: { contentType: "application/x-ndjson" },
        customMetadata: { app: appId, batch: sink?.batchId ?? "", kind: sink?.kind ?? "", rows: String(rowsOf(sink)), attempts: String(message.attempts) },
      });
      message.ack();
    } catch (err) {
      log.error("dead_letters.archive_failed", { app: appId, message: message.id, attempts: message.attempts, error: errorText(err) });
      failed.push({ message, appId, reason: "r2_error" });
      await holdBack(env, message, text);
    }
  }
  await countFailures(env, failed);
}

async function holdBack(env: Env, message: Message<unknown>, text: string): Promise<void> {
  const ageMs = Date.now() - message.timestamp.getTime();
  if (message.attempts >= RENEW_AT_ATTEMPT || ageMs >= RENEW_AFTER_MS) {
    try {
      await env.DEAD_LETTERS.send(packText(text), { contentType: "bytes" });
      message.ack();
      return;
    } catch (err) {
      log.error("dead_letters.renew_failed", { message: message.id, attempts: message.attempts, error: errorText(err) });
    }
  }
  message.retry({ delaySeconds: archiveRetryDelaySeconds(message.attempts) });
}

// Best effort and never in the way of archiving: ClickHouse, or its configuration, may be
// what is broken as well.
async function countFailures(env: Env, failed: ReadonlyArray<{ message: Message<unknown>; appId: string; reason: string }>): Promise<void> {
  if (failed.length === 0) return;
  try {
    const client = clickhouseClient(config(env).clickhouse);
    try {
      const counts = failed.map((f) => ({ appId: f.appId, reason: f.reason, n: 1 }));
      await recordCounts(client, env, ARCHIVE_FAILED, counts, failed.map((f) => `${f.message.id}:${f.message.attempts}`));
    } finally {
      await client.close();
    }
  } catch (err) {
    log.warn("dead_letters.failures_not_counted", { messages: failed.length, error: errorText(err) });
  }
}

/** Sends archived dead letters (of every bucket, default first) back to the events queue and removes them from R2. */
export async function replayDeadLetters(env: Env, opts: { prefix?: string; limit?: number } = {}): Promise<{ replayed: number; rows: number; remaining: boolean; failed: string[] }> {
  const limit = Math.min(opts.limit ?? 100, 1000);
  let replayed = 0;
  let rows = 0;
  let remaining = false;
  const failed: string[] = [];
  for (const { bucket } of archiveBuckets(env)) {
    const room = limit - replayed - failed.length;
    if (room <= 0) {
      remaining = true;
      break;
    }
    const r = await replayFrom(env, bucket, `${DEAD_LETTER_PREFIX}${opts.prefix ?? ""}`, room);
    replayed += r.replayed;
    rows += r.rows;
    failed.push(...r.failed);
    remaining ||= r.remaining;
  }
  return { replayed, rows, remaining, failed };
}

async function replayFrom(env: Env, bucket: R2Bucket, prefix: string, limit: number): Promise<{ replayed: number; rows: number; remaining: boolean; failed: string[] }> {
  const listing = await bucket.list({ prefix, limit });
  let replayed = 0;
  let rows = 0;
  const failed: string[] = [];
  for (const obj of listing.objects) {
    const body = await bucket.get(obj.key);
    if (!body) continue;
    const text = await body.text();
    const sink = decodeQueueMessage(text);
    if (!sink) {
      failed.push(obj.key);
      continue;
    }
    // The batch id is kept, so a batch that did land after all is skipped by the sink.
    // Packed, as the batchers send it: a message's text may be many times the queue's limit.
    await eventsQueue(env, sink.appId).send(packText(text), { contentType: "bytes" });
    await bucket.delete(obj.key);
    replayed++;
    if (sink.kind === "events") rows += sink.rows.length;
  }
  return { replayed, rows, remaining: listing.truncated, failed };
}
