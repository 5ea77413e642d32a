import type { AppBatcher, BufferedEvent, IngestResult } from "../../durable-objects/app-batcher";
import { encodeEventRow, utf8Length } from "../../schemas";
import { HttpError } from "../lib/errors";
import type { AppAuth } from "../http/write-key";
import type { NormalizedEvent } from "./normalize";

// FNV-1a: the same messageId always lands on the same shard, so dedup stays per shard.
function shardOf(messageId: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < messageId.length; i++) h = Math.imul(h ^ messageId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

function isOverloaded(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { overloaded?: unknown }).overloaded === true;
}

function isRetryable(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { retryable?: unknown }).retryable === true;
}

async function callShard(ns: DurableObjectNamespace<AppBatcher>, app: AppAuth, shard: number, events: BufferedEvent[]): Promise<IngestResult> {
  const target = { appId: app.appId, shard, shardCount: app.shardCount, rateLimit: app.rateLimit };
  for (let attempt = 0; ; attempt++) {
    try {
      const stub = ns.get(ns.idFromName(`${app.appId}:${shard}`));
      return await stub.ingest(events, target);
    } catch (err) {
      // An overloaded object only gets worse with retries; a dropped connection is safe to
      // retry once because the object drops messageIds it already stored.
      if (isOverloaded(err)) return { status: "full", retryAfter: 2 };
      if (attempt === 0 && isRetryable(err)) continue;
      throw err;
    }
  }
}

/** What the batchers said about a request's events. */
export interface DispatchResult {
  duplicates: number;
}

/**
 * Hands normalized events to their app's AppBatcher shards. Answers once every shard has
 * stored its part; if any shard refuses, the whole request is refused with the longest wait,
 * which is safe because the retry's events that did land are dropped as duplicates.
 */
export async function dispatch(ns: DurableObjectNamespace<AppBatcher>, app: AppAuth, events: readonly NormalizedEvent[]): Promise<DispatchResult> {
  const byShard = new Map<number, BufferedEvent[]>();
  for (const e of events) {
    const row = encodeEventRow(e.row);
    const shard = shardOf(e.messageId, app.shardCount);
    let list = byShard.get(shard);
    if (!list) byShard.set(shard, (list = []));
    list.push({ messageId: e.messageId, row, bytes: utf8Length(row) });
  }
  let results: IngestResult[];
  try {
    results = await Promise.all([...byShard].map(([shard, list]) => callShard(ns, app, shard, list)));
  } catch (err) {
    console.error("AppBatcher unavailable", err);
    throw new HttpError(503, "unavailable", "the event buffer is unavailable; retry shortly", { "Retry-After": "2" });
  }
  let duplicates = 0;
  let refusal: { status: number; code: "rate_limited" | "buffer_full"; retryAfter: number } | null = null;
  for (const r of results) {
    if (r.status === "ok") duplicates += r.duplicates;
    else {
      const next = r.status === "rate_limited" ? { status: 429, code: "rate_limited" as const, retryAfter: r.retryAfter } : { status: 503, code: "buffer_full" as const, retryAfter: r.retryAfter };
      if (!refusal || next.retryAfter > refusal.retryAfter) refusal = next;
    }
  }
  if (refusal) {
    const message = refusal.code === "rate_limited" ? "the app is over its event rate; retry later" : "the app's event buffer is full; retry later";
    throw new HttpError(refusal.status === 429 ? 429 : 503, refusal.code, message, { "Retry-After": String(refusal.retryAfter) });
  }
  return { duplicates };
}
