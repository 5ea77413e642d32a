// A dashboard's cards: each saved insight run through its own module (parse, run) under the
// dashboard's range and filters, all at once, each answered from the short cache when it can be.
// A card whose result is older than the cache's minute (or whose range moved on) shows that
// result with its age at once while a fresh one is computed behind the page, which then reloads
// the cards; a card never computed makes the page wait, for a while at most (`until`), then shows
// as computing. A card whose read fails shows why in its place; the other cards are unaffected.
import { claimDashboardToWarm, getSavedInsights, type SavedInsight } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { readOrError } from "../queries/clickhouse.server";
import { parseRange } from "../queries/range";
import { cacheGet, cachePut, isFresh, pruneCardResults, type CardOwner } from "./cache.server";
import { INSIGHT_MODULES, type InsightResult } from "./modules.server";
import { applyScope, insightPath, scopeFromUrl, type CardLayout, type DashboardScope, type InsightType } from "./saved";

/** What cards read: ClickHouse for results, D1 for the results cards share. */
export type CardEnv = Pick<DashboardEnv, "clickhouse" | "db">;

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
  /**
   * With `background`: how long a card with no result at all may hold the page. When it settles
   * first, the card shows as computing and is computed behind the page, which reloads it; so a
   * cold dashboard opens with the cards that were quick, not after the slowest.
   */
  until?: Promise<unknown>;
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

function compute(db: D1Database, owner: CardOwner, key: string, span: string, run: () => Promise<InsightResult>, now: number) {
  const running = computing.get(key);
  if (running) return running;
  const work = (async () => {
    const out = await readOrError(run);
    if (out.error !== null) return { data: null, error: out.error, at: null };
    const entry = await cachePut(db, owner, key, out.data, span, now);
    return { data: entry.value, error: null, at: entry.at };
  })().finally(() => computing.delete(key));
  computing.set(key, work);
  return work;
}

/** One card of `orgId`'s dashboard; the insight must already be known to be the organisation's. */
export async function loadCard(env: CardEnv, orgId: string, insight: SavedInsight, w: CardLayout["w"], scope: DashboardScope, opts: CardOptions): Promise<Card> {
  const base = { insight: { id: insight.id, name: insight.name, description: insight.description, type: insight.type, appId: insight.appId, appName: insight.appName }, w };
  const query = applyScope(insight.query, scope);
  const prepared = INSIGHT_MODULES[insight.type].prepare(query, opts.now);
  const href = insightPath(insight.appId, insight.type, prepared.search, insight.id);
  const key = cardKey(orgId, insight, prepared.search);
  const span = cardSpan(prepared.search, opts.now);
  const shown = { ...base, href, problems: prepared.problems };
  const hit = opts.refresh ? undefined : await cacheGet<InsightResult>(env.db, key, opts.now);
  if (hit && isFresh(hit, span, opts.now)) return { ...shown, data: hit.value, error: null, at: hit.at, cached: true, refreshing: false };
  const fresh = compute(env.db, { orgId, appId: insight.appId }, key, span, () => prepared.run(env.clickhouse, insight.appId), opts.now);
  if (hit && opts.background) {
    opts.background(fresh);
    return { ...shown, data: hit.value, error: null, at: hit.at, cached: true, refreshing: true };
  }
  const out = opts.background && opts.until ? await Promise.race([fresh, opts.until.then(() => null)]) : await fresh;
  if (out === null) {
    opts.background?.(fresh);
    return { ...shown, data: null, error: null, at: null, cached: false, refreshing: true };
  }
  return { ...shown, ...out, cached: false, refreshing: false };
}

/** Every card of a layout, run concurrently as the page shows them; cards of insights gone since are left out. */
export function loadCards(
  env: CardEnv,
  orgId: string,
  layout: readonly CardLayout[],
  insights: ReadonlyMap<string, SavedInsight>,
  scope: DashboardScope,
  opts: CardOptions,
): Promise<Card[]> {
  const cards = layout.flatMap((c) => {
    const insight = insights.get(c.insightId);
    return insight ? [loadCard(env, orgId, insight, c.w, scope, opts)] : [];
  });
  return Promise.all(cards);
}

/** How often a dashboard people open is computed again by the cron. */
export const WARM_EVERY_MS = 15 * 60_000;
/** A dashboard nobody has opened for this long is no longer kept warm. */
export const WARM_VIEWED_WITHIN_MS = 7 * 86_400_000;
/** A cron run takes no further dashboard after this long, so it ends before the next minute's run. */
export const WARM_BUDGET_MS = 30_000;

export interface WarmReport {
  dashboards: number;
  /** Cards computed now, and cards whose result was already fresh. */
  computed: number;
  fresh: number;
  /** Cards whose read failed; their older result, if any, stays. */
  failed: number;
  pruned: number;
}

/**
 * Keeps the dashboards people open warm, as the minute cron runs it: each dashboard opened within
 * WARM_VIEWED_WITHIN_MS and not computed within WARM_EVERY_MS has every card computed under the
 * scope it opens with and stored where its page reads them (card_results), one dashboard at a
 * time, longest waiting first, until `budgetMs` has passed. So the first view of a dashboard
 * shows results at most WARM_EVERY_MS old at once, and computes fresh ones behind the page.
 */
export async function warmDashboards(env: CardEnv, now: number, budgetMs = WARM_BUDGET_MS, clock: () => number = Date.now): Promise<WarmReport> {
  const report: WarmReport = { dashboards: 0, computed: 0, fresh: 0, failed: 0, pruned: await pruneCardResults(env.db, now) };
  const started = clock();
  while (clock() - started < budgetMs) {
    const due = await claimDashboardToWarm(env.db, now, now - WARM_VIEWED_WITHIN_MS, now - WARM_EVERY_MS);
    if (!due) break;
    const { orgId, dashboard } = due;
    const insights = await getSavedInsights(env.db, orgId, dashboard.layout.map((c) => c.insightId));
    // The scope the page opens with when its URL sets none: the same cache keys.
    const scope = scopeFromUrl(new URL("http://x/"), dashboard.scope);
    const cards = await loadCards(env, orgId, dashboard.layout, insights, scope, { refresh: false, now });
    report.dashboards++;
    for (const c of cards) {
      if (c.error !== null) report.failed++;
      else if (c.cached) report.fresh++;
      else report.computed++;
    }
  }
  return report;
}

export type { InsightType };
