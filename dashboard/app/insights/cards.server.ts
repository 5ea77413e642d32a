// A dashboard's cards: each saved insight run through its own module (parse, run) under the
// dashboard's range and filters, all at once, each answered from the short cache when it can be.
// A card whose result is older than the cache's minute (or whose range moved on) shows that
// result with its age at once while a fresh one is computed behind the page, which then reloads
// the cards; only a card never computed makes the page wait. A card whose read fails shows why
// in its place; the other cards are unaffected.
import type { SavedInsight } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { readOrError } from "../queries/clickhouse.server";
import { parseRange } from "../queries/range";
import { cacheGet, cachePut, isFresh } from "./cache.server";
import { INSIGHT_MODULES, type InsightResult } from "./modules.server";
import { applyScope, insightPath, type CardLayout, type DashboardScope, type InsightType } from "./saved";

/** A card as the dashboard page renders it. */
export interface Card {
  insight: Pick<SavedInsight, "id" | "name" | "description" | "type" | "appId" | "appName">;
  w: CardLayout["w"];
  /** The insight's own page with the definition the card ran (the dashboard's range and filters applied). */
  href: string;
  /** What the definition asked for that the insight could not do, in words. */
  problems: string[];
  /** The result, or null when it could not be read (then `error` says why). */
  data: InsightResult | null;
  error: string | null;
  /** When the result was computed, epoch ms; older than the view when it came from the cache. */
  at: number | null;
  cached: boolean;
  /** The result shown is an older one; a fresh one is being computed. */
  refreshing: boolean;
}

export interface CardOptions {
  /** Skip the cache (the Refresh button); the fresh results replace the cached ones. */
  refresh: boolean;
  now: number;
  /**
   * Keeps work alive after the response (the request's `waitUntil`). With it, a card with only
   * an older result answers with that result and computes the fresh one behind; without it,
   * the card waits for the fresh one.
   */
  background?: (work: Promise<unknown>) => void;
}

/**
 * The key a card's result is cached under: the organisation, the app, the type and the
 * definition as its module writes it back (so two spellings of one definition share an entry).
 * The range's bounds (the bucket `now` falls in: a range ends at the next whole step) are kept
 * with the result, `span`: a result for bounds the range has moved past is stale, not gone.
 */
export function cardKey(orgId: string, insight: Pick<SavedInsight, "appId" | "type">, search: string): string {
  return [orgId, insight.appId, insight.type, search].join("\n");
}

/** The bounds of the range `search` asks for at `now`, as a result's `span`. */
export function cardSpan(search: string, now: number): string {
  const range = parseRange(new URL(`http://x/?${search}`), now);
  return `${range.from}-${range.to}`;
}

// Fresh results being computed in this isolate, by key: a page reloaded while its cards refresh
// (or two people on one dashboard) joins the computation instead of starting another.
const computing = new Map<string, Promise<{ data: InsightResult | null; error: string | null; at: number | null }>>();

function compute(key: string, span: string, run: () => Promise<InsightResult>, now: number) {
  const running = computing.get(key);
  if (running) return running;
  const work = (async () => {
    const out = await readOrError(run);
    if (out.error !== null) return { data: null, error: out.error, at: null };
    const entry = await cachePut(key, out.data, span, now);
    return { data: entry.value, error: null, at: entry.at };
  })().finally(() => computing.delete(key));
  computing.set(key, work);
  return work;
}

/** One card of `orgId`'s dashboard; the insight must already be known to be the organisation's. */
export async function loadCard(cfg: DashboardEnv["clickhouse"], orgId: string, insight: SavedInsight, w: CardLayout["w"], scope: DashboardScope, opts: CardOptions): Promise<Card> {
  const base = { insight: { id: insight.id, name: insight.name, description: insight.description, type: insight.type, appId: insight.appId, appName: insight.appName }, w };
  const query = applyScope(insight.query, scope);
  const prepared = INSIGHT_MODULES[insight.type].prepare(query, opts.now);
  const href = insightPath(insight.appId, insight.type, prepared.search, insight.id);
  const key = cardKey(orgId, insight, prepared.search);
  const span = cardSpan(prepared.search, opts.now);
  const shown = { ...base, href, problems: prepared.problems };
  const hit = opts.refresh ? undefined : await cacheGet<InsightResult>(key, opts.now);
  if (hit && isFresh(hit, span, opts.now)) return { ...shown, data: hit.value, error: null, at: hit.at, cached: true, refreshing: false };
  const fresh = compute(key, span, () => prepared.run(cfg, insight.appId), opts.now);
  if (hit && opts.background) {
    opts.background(fresh);
    return { ...shown, data: hit.value, error: null, at: hit.at, cached: true, refreshing: true };
  }
  const out = await fresh;
  return { ...shown, ...out, cached: false, refreshing: false };
}

/** Every card of a layout, run concurrently as the page shows them; cards of insights gone since are left out. */
export function loadCards(
  cfg: DashboardEnv["clickhouse"],
  orgId: string,
  layout: readonly CardLayout[],
  insights: ReadonlyMap<string, SavedInsight>,
  scope: DashboardScope,
  opts: CardOptions,
): Promise<Card[]> {
  const cards = layout.flatMap((c) => {
    const insight = insights.get(c.insightId);
    return insight ? [loadCard(cfg, orgId, insight, c.w, scope, opts)] : [];
  });
  return Promise.all(cards);
}

export type { InsightType };
