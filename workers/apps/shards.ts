// Which shards of an app events go to, and how the count changes while traffic flows. An event
// belongs to shard fnv1a(messageId) % count, so a retried event lands on the shard that saw it
// first and dedup stays per shard. A new count would move ids between shards; so it takes effect
// only at `shardsFrom`, once every edge has read it (write keys are cached 30 s, and the change
// waits SHARD_SWITCH_DELAY_MS), and for the dedup window after that each shard asks an id's shard
// under the previous count whether it already holds the id (AppBatcher.holds). Until that window
// has passed, the count cannot change again, so there is never more than one previous count.
import { LIMITS, MAX_SHARD_COUNT } from "../../schemas";
import { fnv1a32 } from "../lib/hash";

/** How long after it is saved a new shard count takes effect. */
export const SHARD_SWITCH_DELAY_MS = 60_000;

/** An app's shard count as stored, with the change in progress if any. */
export interface ShardSettings {
  shardCount: number;
  previousShardCount: number | null;
  /** When `shardCount` took or takes effect, epoch ms; null when it never changed. */
  shardsFrom: number | null;
  /** Whether a busy shard raises the count by itself (shardsWanted). */
  autoShards: boolean;
}

/** Where events go at one moment: the count in effect, and the previous count while ids may still sit on its shards. */
export interface ShardPlan {
  count: number;
  previous: number | null;
}

/** The shard of an app that holds `messageId`: FNV-1a, so the same id always lands on the same shard. */
export function shardOf(messageId: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a32(messageId) % shards;
}

/** The shards events go to at `now`. */
export function shardsAt(s: ShardSettings, now: number): ShardPlan {
  if (s.previousShardCount === null || s.shardsFrom === null) return { count: s.shardCount, previous: null };
  if (now < s.shardsFrom) return { count: s.previousShardCount, previous: null };
  if (now < s.shardsFrom + LIMITS.dedupWindowMs && s.previousShardCount !== s.shardCount) return { count: s.shardCount, previous: s.previousShardCount };
  return { count: s.shardCount, previous: null };
}

/** When the shard count may change again: the end of the last change's dedup window; null when it may now. */
export function shardsLockedUntil(s: Pick<ShardSettings, "shardsFrom">, now: number): number | null {
  if (s.shardsFrom === null) return null;
  const until = s.shardsFrom + LIMITS.dedupWindowMs;
  return now < until ? until : null;
}

/** When a shard counts as busy: more than `eventsPerSecond` on average over at least `windowMs`. 0 events/s: never. */
export interface HotShard {
  eventsPerSecond: number;
  windowMs: number;
}

/**
 * The shard count an app should move to when one of its shards took `eventsPerSecond` on
 * average over a window; null while that is not busy. Events spread evenly over shards (ids
 * hash), so one busy shard means all are: the app's rate is `count` times this shard's. The new
 * count leaves each shard at half the busy rate, and at least doubles, because it then stays
 * for a dedup window.
 */
export function shardsWanted(eventsPerSecond: number, count: number, hot: HotShard): number | null {
  if (hot.eventsPerSecond <= 0 || eventsPerSecond < hot.eventsPerSecond || count >= MAX_SHARD_COUNT) return null;
  const wanted = Math.max(count * 2, Math.ceil((count * eventsPerSecond * 2) / hot.eventsPerSecond));
  return Math.min(MAX_SHARD_COUNT, wanted);
}
