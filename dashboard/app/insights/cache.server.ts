// A short-lived cache of dashboard cards' results, so a dashboard opened by many people, or
// reloaded, does not run every card's queries each time. Two layers: this isolate's memory
// (bounded, least recently used out first), then, on Cloudflare, the data centre's Cache API,
// which other isolates share. docs/decisions/0015-saved-insights-and-dashboards.md says why.
import { sha256Hex } from "../db/ids.server";

/** How long a card's result is served without asking ClickHouse again. */
export const CARD_TTL_SECONDS = 60;
/**
 * How long an older result is still shown, with its age, while the card computes a fresh one
 * behind it: a dashboard opened again answers at once instead of waiting for every card.
 */
export const CARD_STALE_SECONDS = 86_400;
const MAX_ENTRIES = 500;
// A key no request can reach: the Cache API needs an http(s) URL, and this one names no host of ours.
const CACHE_ORIGIN = "https://insight-cards.cache.invalid/";

export interface Cached<T> {
  value: T;
  /** When it was computed, epoch ms. */
  at: number;
  /** The range it covers (`from-to`, epoch seconds): a range that moved on makes it stale. */
  span: string;
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

/** The Cache API's default cache where the runtime has one (workerd); null in Node. */
function edgeCache(): Cache | null {
  const storage = (globalThis as { caches?: CacheStorage & { default?: Cache } }).caches;
  return storage?.default ?? null;
}

const kept = (entry: Cached<unknown>, now: number): boolean => now - entry.at < CARD_STALE_SECONDS * 1000;

/** Whether `entry` may be served as it is: computed within CARD_TTL_SECONDS, for the same range. */
export const isFresh = (entry: Cached<unknown>, span: string, now: number): boolean => entry.span === span && now - entry.at < CARD_TTL_SECONDS * 1000;

/** The latest value under `key` if it was computed within CARD_STALE_SECONDS (fresh or not: see isFresh), else undefined. */
export async function cacheGet<T>(key: string, now = Date.now()): Promise<Cached<T> | undefined> {
  const hit = memory.get(key);
  if (hit && kept(hit, now)) {
    remember(key, hit);
    return hit as Cached<T>;
  }
  memory.delete(key);
  const edge = edgeCache();
  if (!edge) return undefined;
  const res = await edge.match(CACHE_ORIGIN + (await sha256Hex(key)));
  if (!res) return undefined;
  const entry = (await res.json()) as Cached<T>;
  if (!kept(entry, now)) return undefined;
  remember(key, entry);
  return entry;
}

/** Keeps `value`, computed at `now` for the range `span`, under `key` for CARD_STALE_SECONDS. */
export async function cachePut<T>(key: string, value: T, span: string, now = Date.now()): Promise<Cached<T>> {
  const entry: Cached<T> = { value, at: now, span };
  remember(key, entry);
  const edge = edgeCache();
  if (edge) {
    const body = JSON.stringify(entry);
    await edge.put(CACHE_ORIGIN + (await sha256Hex(key)), new Response(body, { headers: { "content-type": "application/json", "cache-control": `max-age=${CARD_STALE_SECONDS}` } }));
  }
  return entry;
}
