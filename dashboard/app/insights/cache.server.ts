// A cache of dashboard cards' results, so a dashboard opened by many people, or reloaded, does
// not run every card's queries each time, and a dashboard the cron keeps warm opens at once.
// Two layers: this isolate's memory (bounded, least recently used out first), then the
// `card_results` table in D1, which every isolate, data centre and the edge Worker's cron share.
// docs/decisions/0015-saved-insights-and-dashboards.md and 0032-dashboards-kept-warm.md say why.
import { sha256Hex } from "../db/ids.server";

/** How long a card's result is served without asking ClickHouse again. */
export const CARD_TTL_SECONDS = 60;
/**
 * How long an older result is still shown, with its age, while the card computes a fresh one
 * behind it: a dashboard opened again answers at once instead of waiting for every card.
 */
export const CARD_STALE_SECONDS = 86_400;
const MAX_ENTRIES = 500;
/** A result longer than this (JSON characters, at most three UTF-8 bytes each) is kept in memory only: D1 refuses rows over 2 MB. */
const MAX_SHARED_CHARS = 600_000;

export interface Cached<T> {
  value: T;
  /** When it was computed, epoch ms. */
  at: number;
  /** The range it covers (`from-to`, epoch seconds): a range that moved on makes it stale. */
  span: string;
}

/** Whose result it is: a row of `card_results` goes with its organisation and its app. */
export interface CardOwner {
  orgId: string;
  appId: string;
}

const memory = new Map<string, Cached<unknown>>();

function remember(key: string, entry: Cached<unknown>): void {
  memory.delete(key);
  memory.set(key, entry);
  while (memory.size > MAX_ENTRIES) {
    const oldest = memory.keys().next();
    if (oldest.done) break;
    memory.delete(oldest.value);
  }
}

/** Empties this isolate's layer, as a new isolate starts: the tests and benchmarks of the shared layer use it. */
export function forgetIsolateCache(): void {
  memory.clear();
}

const kept = (entry: Cached<unknown>, now: number): boolean => now - entry.at < CARD_STALE_SECONDS * 1000;

/** Whether `entry` may be served as it is: computed within CARD_TTL_SECONDS, for the same range. */
export const isFresh = (entry: Cached<unknown>, span: string, now: number): boolean => entry.span === span && now - entry.at < CARD_TTL_SECONDS * 1000;

/**
 * The latest value under `key` if it was computed within CARD_STALE_SECONDS (fresh or not: see
 * isFresh), else undefined. This isolate's copy answers alone while it is younger than
 * CARD_TTL_SECONDS; an older one is compared with D1's, which the cron or another isolate may
 * have computed since, and goes when D1 no longer holds the card.
 */
export async function cacheGet<T>(db: D1Database, key: string, now = Date.now()): Promise<Cached<T> | undefined> {
  const hit = memory.get(key);
  if (hit && now - hit.at < CARD_TTL_SECONDS * 1000) {
    remember(key, hit);
    return hit as Cached<T>;
  }
  const row = await db.prepare("SELECT span, computed_at, value FROM card_results WHERE key = ?1").bind(await sha256Hex(key)).first<{ span: string; computed_at: number; value: string }>();
  // None when D1 has none, as after a person's deletion dropped the app's results; else this
  // isolate's copy (or one it computed while D1 answered) unless D1's is newer.
  const mine = memory.get(key) as Cached<T> | undefined;
  const newest = !row ? undefined : mine && mine.at >= row.computed_at ? mine : { value: JSON.parse(row.value) as T, at: row.computed_at, span: row.span };
  if (!newest || !kept(newest, now)) {
    memory.delete(key);
    return undefined;
  }
  remember(key, newest);
  return newest;
}

/** Keeps `value`, computed at `now` for the range `span`, under `key` for CARD_STALE_SECONDS. */
export async function cachePut<T>(db: D1Database, owner: CardOwner, key: string, value: T, span: string, now = Date.now()): Promise<Cached<T>> {
  const entry: Cached<T> = { value, at: now, span };
  remember(key, entry);
  const body = JSON.stringify(value);
  if (body.length > MAX_SHARED_CHARS) return entry;
  // An older result never replaces a newer one another isolate or the cron stored meanwhile.
  await db
    .prepare(
      `INSERT INTO card_results (key, org_id, app_id, span, computed_at, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (key) DO UPDATE SET span = excluded.span, computed_at = excluded.computed_at, value = excluded.value WHERE excluded.computed_at >= card_results.computed_at`,
    )
    .bind(await sha256Hex(key), owner.orgId, owner.appId, span, now, body)
    .run();
  return entry;
}

/** Drops the shared results computed more than CARD_STALE_SECONDS before `now`; returns how many. */
export async function pruneCardResults(db: D1Database, now: number): Promise<number> {
  const rs = await db.prepare("DELETE FROM card_results WHERE computed_at < ?1").bind(now - CARD_STALE_SECONDS * 1000).run();
  return rs.meta.changes;
}
