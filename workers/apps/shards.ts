// Which shards of an app events go to, and how the count changes while traffic flows. An event
// belongs to shard fnv1a(key) % count, where the key is its device (decision record 0036: a
// client's request is one shard's call however many shards there are) or, for apps that had
// several shards before that, its messageId. The key is read from the event itself, so a retried
// event lands on the shard that saw it first and dedup stays per shard. A new count (or key)
// would move ids between shards; so it takes effect only at `shardsFrom`, once every edge has
// read it (write keys are cached 30 s, and the change waits SHARD_SWITCH_DELAY_MS), and for the
// dedup window after that each shard asks an id's shard under the previous routing whether it
// already holds the id (AppBatcher.holds). Until that window has passed, the routing cannot
// change again, so there is never more than one previous routing.
import { LIMITS, MAX_SHARD_COUNT, type ShardKey } from "../../schemas";
import { fnv1a32 } from "../lib/hash";

/** How long after it is saved a new shard count takes effect. */
export const SHARD_SWITCH_DELAY_MS = 60_000;

/** A stored key; anything D1 holds that is not "id" reads as "device". */
export const toShardKey = (stored: string | null | undefined): ShardKey => (stored === "id" ? "id" : "device");

/** An app's shard count as stored, with the change in progress if any. */
export interface ShardSettings {
  shardCount: number;
  /** Every change of the count moves an app to "device"; it never goes back. */
  shardKey: ShardKey;
  previousShardCount: number | null;
  /** The key `previousShardCount` placed events by. */
  previousShardKey: ShardKey;
  /** When `shardCount` took or takes effect, epoch ms; null when it never changed. */
  shardsFrom: number | null;
  /** Whether a busy shard raises the count by itself (shardsWanted). */
  autoShards: boolean;
}

/** How an app's events are spread: over `count` shards by `key`. */
export interface Routing {
  count: number;
  key: ShardKey;
}

/** Where events go at one moment: the routing in effect, and the previous one while ids may still sit on its shards. */
export interface ShardPlan extends Routing {
  previous: Routing | null;
}

/** The shard of an app that holds the events of `key`: FNV-1a, so the same key always lands on the same shard. */
export function shardOf(key: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a32(key) % shards;
}

/** What an event is placed by: the ids it carries, as the edge stored them. */
export interface Placeable {
  messageId: string;
  anonymousId: string;
  userId: string;
}

/** The device an event came from, as placing by device reads it: its anonymousId, else its userId, else its own id. */
export function deviceOf(e: Placeable): string {
  return e.anonymousId || e.userId || e.messageId;
}

/** The shard of an event under `routing`. */
export function shardOfEvent(e: Placeable, routing: Routing): number {
  if (routing.count <= 1) return 0;
  return shardOf(routing.key === "id" ? e.messageId : deviceOf(e), routing.count);
}

/** The shards events go to at `now`. */
export function shardsAt(s: ShardSettings, now: number): ShardPlan {
  const current: Routing = { count: s.shardCount, key: s.shardKey };
  if (s.previousShardCount === null || s.shardsFrom === null) return { ...current, previous: null };
  const previous: Routing = { count: s.previousShardCount, key: s.previousShardKey };
  if (now < s.shardsFrom) return { ...previous, previous: null };
  if (now < s.shardsFrom + LIMITS.dedupWindowMs && !sameRouting(previous, current)) return { ...current, previous };
  return { ...current, previous: null };
}

/** Whether two routings place every event on the same shard: the key does not matter on one shard. */
export function sameRouting(a: Routing, b: Routing): boolean {
  return a.count === b.count && (a.count <= 1 || a.key === b.key);
}

/** When the shard count may change again: the end of the last change's dedup window; null when it may now. */
export function shardsLockedUntil(s: Pick<ShardSettings, "shardsFrom">, now: number): number | null {
  if (s.shardsFrom === null) return null;
  const until = s.shardsFrom + LIMITS.dedupWindowMs;
  return now < until ? until : null;
}

/**
 * When a shard counts as busy, on average over at least `windowMs`: more than `eventsPerSecond`
 * (the rate its dedup is sized for), or more than `deviceCallsPerSecond` calls that each carry
 * one device's events (a Durable Object takes about 1,000 requests/s). 0 switches a mark off.
 */
export interface HotShard {
  eventsPerSecond: number;
  deviceCallsPerSecond: number;
  windowMs: number;
}

/** What one shard took over a window, per second. */
export interface ShardLoad {
  eventsPerSecond: number;
  /**
   * Calls whose events all came from one device. More shards spread these (a device's events
   * go to one shard, decision record 0036); a call carrying several devices' events, a server's
   * request, comes again at about the same rate to each of more shards, so it is not counted.
   */
  deviceCallsPerSecond: number;
}

// The count that leaves each shard at half `mark`, at least double the present one; null under the mark.
function wantedFor(rate: number, mark: number, count: number): number | null {
  if (mark <= 0 || rate < mark) return null;
  return Math.max(count * 2, Math.ceil((count * rate * 2) / mark));
}

/**
 * The shard count an app should move to when one of its shards took `load` over a window; null
 * while that is not busy. Devices hash evenly over shards, so one busy shard means all are: the
 * app's rate is `count` times this shard's. The new count leaves each shard at half the mark it
 * passed (the higher count when it passed both), and at least doubles, because it then stays for
 * a dedup window.
 */
export function shardsWanted(load: ShardLoad, count: number, hot: HotShard): number | null {
  if (count >= MAX_SHARD_COUNT) return null;
  const byEvents = wantedFor(load.eventsPerSecond, hot.eventsPerSecond, count);
  const byCalls = wantedFor(load.deviceCallsPerSecond, hot.deviceCallsPerSecond, count);
  if (byEvents === null && byCalls === null) return null;
  return Math.min(MAX_SHARD_COUNT, Math.max(byEvents ?? 0, byCalls ?? 0));
}
