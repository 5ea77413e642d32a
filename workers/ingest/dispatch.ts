import type { BufferedEvent, EdgeRefusals, IngestResult, IngestTarget } from "../../durable-objects/app-batcher";
import type { EventRejection } from "../../schemas";
import { HttpError } from "../lib/errors";
import { errorText, log } from "../lib/log";
import type { AppAuth } from "../apps/auth";
import { batcherStub } from "../apps/location";
import { deviceOf, shardOfEvent, shardsAt, type ShardPlan } from "../apps/shards";
import { placeOf, type PreparedEvent } from "./pipeline";

function isOverloaded(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { overloaded?: unknown }).overloaded === true;
}

function isRetryable(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { retryable?: unknown }).retryable === true;
}

/** The binding an app's batchers are made from, in the app's location. */
type BatcherEnv = Pick<Env, "APP_BATCHER">;

function targetOf(app: AppAuth, shard: number, plan: ShardPlan, oneDevice = false): IngestTarget {
  return { appId: app.appId, shard, shardCount: plan.count, previousShardCount: plan.previous?.count ?? null, rateLimit: app.rateLimit, autoShards: app.autoShards, oneDevice };
}

/** One shard's part of a request: its events, and the device they all came from while they share one (null once they do not). */
interface ShardPart {
  events: BufferedEvent[];
  device: string | null;
}

async function callShard(env: BatcherEnv, app: AppAuth, shard: number, plan: ShardPlan, part: ShardPart, refusals: EdgeRefusals | undefined): Promise<IngestResult> {
  const target = targetOf(app, shard, plan, part.device !== null);
  const events = part.events;
  for (let attempt = 0; ; attempt++) {
    try {
      const stub = batcherStub(env, app.location, app.appId, shard);
      return await stub.ingest(events, target, refusals);
    } catch (err) {
      // An overloaded object only gets worse with retries; a dropped connection is safe to
      // retry once because the object drops messageIds it already stored.
      if (isOverloaded(err)) return { status: "full", retryAfter: 2 };
      if (attempt === 0 && isRetryable(err)) continue;
      throw err;
    }
  }
}

/** A request's per-event rejections counted by reason, for the app's pipeline counters; `undefined` when there are none. */
export function countRejections(rejected: readonly EventRejection[]): EdgeRefusals | undefined {
  if (rejected.length === 0) return undefined;
  const counts: NonNullable<EdgeRefusals["rejected"]> = {};
  for (const r of rejected) counts[r.code] = (counts[r.code] ?? 0) + 1;
  return { rejected: counts };
}

/**
 * Records refusals in the app's counters when no event of the request reaches a batcher
 * (shard 0 keeps them). Meant for `ctx.waitUntil`: it never throws, and a lost count does not
 * change the answer.
 */
export async function recordRefusals(env: BatcherEnv, app: AppAuth, refusals: EdgeRefusals): Promise<void> {
  try {
    await batcherStub(env, app.location, app.appId, 0).refuse(targetOf(app, 0, shardsAt(app, Date.now())), refusals);
  } catch (err) {
    log.warn("ingest.refusals_not_counted", { app: app.appId, error: errorText(err) });
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
 * `refusals` (the request's rejected events) are counted by the first shard called.
 */
export async function dispatch(env: BatcherEnv, app: AppAuth, events: readonly PreparedEvent[], refusals?: EdgeRefusals): Promise<DispatchResult> {
  const plan = shardsAt(app, Date.now());
  const byShard = new Map<number, ShardPart>();
  for (const e of events) {
    const place = placeOf(e);
    const shard = shardOfEvent(place, plan);
    const device = deviceOf(place);
    let part = byShard.get(shard);
    if (!part) byShard.set(shard, (part = { events: [], device }));
    else if (part.device !== device) part.device = null;
    // Empty for every event but a crash: the batcher caps crashes without reading rows. The
    // client's own time files the id for dedup (durable-objects/dedup).
    const buffered: BufferedEvent = { messageId: e.messageId, row: e.encoded, bytes: e.bytes, fingerprint: e.row.crash_fingerprint };
    if (plan.previous) buffered.previousShard = shardOfEvent(place, plan.previous);
    part.events.push(buffered);
  }
  let results: IngestResult[];
  try {
    // The request's rejections ride along with the first shard's events.
    results = await Promise.all([...byShard].map(([shard, part], i) => callShard(env, app, shard, plan, part, i === 0 ? refusals : undefined)));
  } catch (err) {
    log.error("ingest.batcher_unavailable", { app: app.appId, shards: byShard.size, events: events.length, error: errorText(err) });
    throw new HttpError(503, "unavailable", "the event buffer is unavailable; retry shortly", { "Retry-After": "2" });
  }
  // A deleted app's key may still be cached at this edge: its batchers know better.
  if (results.some((r) => r.status === "gone")) throw new HttpError(401, "unauthorized", "unknown or revoked write key");
  let duplicates = 0;
  let refusal: { status: number; code: "rate_limited" | "buffer_full"; retryAfter: number } | null = null;
  for (const r of results) {
    if (r.status === "ok") duplicates += r.duplicates;
    else if (r.status !== "gone") {
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
