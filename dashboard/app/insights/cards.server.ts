// A dashboard's cards: each saved insight run through its own module (parse, run) under the
// dashboard's range and filters, all at once, each answered from the short cache when it can be.
// A card whose read fails shows why in its place; the other cards are unaffected.
import type { SavedInsight } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { readOrError } from "../queries/clickhouse.server";
import { parseRange } from "../queries/range";
import { cacheGet, cachePut } from "./cache.server";
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
}

export interface CardOptions {
  /** Skip the cache (the Refresh button); the fresh results replace the cached ones. */
  refresh: boolean;
  now: number;
}

/**
 * The key a card's result is cached under: the organisation, the app, the type, the definition
 * as its module writes it back (so two spellings of one definition share an entry) and the
 * range's bounds (the bucket `now` falls in: a range ends at the next whole step).
 */
export function cardKey(orgId: string, insight: Pick<SavedInsight, "appId" | "type">, search: string, now: number): string {
  const range = parseRange(new URL(`http://x/?${search}`), now);
  return [orgId, insight.appId, insight.type, search, `${range.from}-${range.to}`].join("\n");
}

/** One card of `orgId`'s dashboard; the insight must already be known to be the organisation's. */
export async function loadCard(cfg: DashboardEnv["clickhouse"], orgId: string, insight: SavedInsight, w: CardLayout["w"], scope: DashboardScope, opts: CardOptions): Promise<Card> {
  const base = { insight: { id: insight.id, name: insight.name, description: insight.description, type: insight.type, appId: insight.appId, appName: insight.appName }, w };
  const query = applyScope(insight.query, scope);
  const prepared = INSIGHT_MODULES[insight.type].prepare(query, opts.now);
  const href = insightPath(insight.appId, insight.type, prepared.search, insight.id);
  const key = cardKey(orgId, insight, prepared.search, opts.now);
  if (!opts.refresh) {
    const hit = await cacheGet<InsightResult>(key, opts.now);
    if (hit) return { ...base, href, problems: prepared.problems, data: hit.value, error: null, at: hit.at, cached: true };
  }
  const out = await readOrError(() => prepared.run(cfg, insight.appId));
  if (out.error !== null) return { ...base, href, problems: prepared.problems, data: null, error: out.error, at: null, cached: false };
  const entry = await cachePut(key, out.data, opts.now);
  return { ...base, href, problems: prepared.problems, data: entry.value, error: null, at: entry.at, cached: false };
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
