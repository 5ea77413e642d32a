// What saved insights and dashboards share between server and browser: the insight types, where
// each opens, how a dashboard's range and filters override a card's own, and the cards' layout.
import { RANGES, type RangeKey } from "../queries/range";
import { DEFAULT_TZ, parseFilters, parseTz, writeFilters } from "./filters";

export const INSIGHT_TYPES = ["trends", "stickiness", "funnels", "retention", "paths"] as const;
export type InsightType = (typeof INSIGHT_TYPES)[number];

export const INSIGHT_LABELS: Readonly<Record<InsightType, string>> = {
  trends: "Trends",
  stickiness: "Stickiness",
  funnels: "Funnel",
  retention: "Retention",
  paths: "Paths",
};

export const isInsightType = (v: unknown): v is InsightType => typeof v === "string" && (INSIGHT_TYPES as readonly string[]).includes(v);

/** The URL parameter that names the saved insight a page was opened from, so saving can update it in place. */
export const SAVED_PARAM = "saved";

/**
 * `insightPath("app_x", "trends", "range=7d")` → `/apps/app_x/insights/trends?range=7d`: the
 * insight's own page with its definition; with `savedId`, opened from that saved insight.
 */
export function insightPath(appId: string, type: InsightType, query: string, savedId?: string): string {
  const q = new URLSearchParams(query.replace(/^\?/, ""));
  q.delete(SAVED_PARAM);
  if (savedId) q.set(SAVED_PARAM, savedId);
  const s = q.toString();
  return `/apps/${encodeURIComponent(appId)}/insights/${type}${s ? `?${s}` : ""}`;
}

/** A page's query string as a definition to save: without the saved insight it was opened from. */
export function definitionOf(search: string): string {
  // Dropped textually: re-encoding the rest would change how a definition is spelled.
  return search
    .replace(/^\?/, "")
    .split("&")
    .filter((p) => p !== "" && !p.startsWith(`${SAVED_PARAM}=`) && p !== SAVED_PARAM)
    .join("&");
}

/** The filters a dashboard may set for all its cards; every insight reads them under these names. */
export const SCOPE_FILTERS = ["platform", "country", "release", "tz"] as const;

/** A dashboard's shared range ("" keeps each card's own) and filters, as a query string. */
export interface DashboardScope {
  range: RangeKey | "";
  filters: string;
}

export const isRangeKey = (v: string | null): v is RangeKey => v !== null && Object.hasOwn(RANGES, v);

/**
 * The shared filters the query string sets, written back the way every insight reads them
 * (unknown parameters, malformed `prop`s and unknown time zones left out).
 * `normalizeFilters("platform=ios&x=1")` → `platform=ios`.
 */
export function normalizeFilters(query: string | URLSearchParams): string {
  const url = new URL(`http://x/?${typeof query === "string" ? query.replace(/^\?/, "") : query.toString()}`);
  const ignored: string[] = [];
  const out = new URLSearchParams();
  writeFilters(out, parseFilters(url, ignored));
  const tz = parseTz(url, ignored);
  if (tz !== DEFAULT_TZ) out.set("tz", tz);
  return out.toString();
}

/**
 * The dashboard's scope as its URL asks for it, over its saved one: a `range`, filter or `prop`
 * in the URL wins; an empty one (`platform=`) clears the saved value.
 */
export function scopeFromUrl(url: URL, saved: DashboardScope): DashboardScope {
  const p = url.searchParams;
  const range = p.has("range") ? (isRangeKey(p.get("range")) ? (p.get("range") as RangeKey) : "") : saved.range;
  const merged = new URLSearchParams(saved.filters);
  for (const name of SCOPE_FILTERS) if (p.has(name)) merged.set(name, p.get(name) ?? "");
  if (p.has("prop")) {
    merged.delete("prop");
    for (const v of p.getAll("prop")) merged.append("prop", v);
  }
  return { range, filters: normalizeFilters(merged) };
}

const propKey = (p: string): string => p.slice(0, p.indexOf(":"));

/**
 * A card's query string under the dashboard's scope: the shared range replaces the card's range
 * (and any custom from/to); each shared filter replaces the card's; a shared `prop` replaces the
 * card's condition on the same key and keeps the others.
 */
export function applyScope(cardQuery: string, scope: DashboardScope): string {
  const q = new URLSearchParams(cardQuery.replace(/^\?/, ""));
  if (scope.range) {
    q.set("range", scope.range);
    q.delete("from");
    q.delete("to");
  }
  const shared = new URLSearchParams(scope.filters);
  for (const name of SCOPE_FILTERS) {
    const v = shared.get(name);
    if (v) q.set(name, v);
  }
  const props = shared.getAll("prop");
  if (props.length > 0) {
    const keys = new Set(props.map(propKey));
    const kept = q.getAll("prop").filter((p) => !keys.has(propKey(p)));
    q.delete("prop");
    for (const p of [...kept, ...props]) q.append("prop", p);
  }
  return q.toString();
}

/** A card: a saved insight and how many of the grid's two columns it spans. */
export interface CardLayout {
  insightId: string;
  w: 1 | 2;
}

/** Cards a dashboard holds: each runs its queries on a view the cache does not answer. */
export const MAX_CARDS = 20;

/** The stored layout, or the cards of it that still make sense; never throws. */
export function parseLayout(text: string): CardLayout[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  const out: CardLayout[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item !== "object" || item === null) continue;
    const { insightId, w } = item as { insightId?: unknown; w?: unknown };
    if (typeof insightId !== "string" || seen.has(insightId)) continue;
    seen.add(insightId);
    out.push({ insightId, w: w === 2 ? 2 : 1 });
  }
  return out.slice(0, MAX_CARDS);
}

/** A change to a dashboard's cards, as its page's forms ask for it. */
export type LayoutChange =
  | { op: "add"; insightId: string }
  | { op: "remove"; insightId: string }
  | { op: "move"; insightId: string; by: -1 | 1 }
  | { op: "resize"; insightId: string; w: 1 | 2 };

/** The layout after `change`; a card added twice or past MAX_CARDS is refused in words. */
export function changeLayout(layout: readonly CardLayout[], change: LayoutChange): { layout: CardLayout[] } | { error: string } {
  const at = layout.findIndex((c) => c.insightId === change.insightId);
  switch (change.op) {
    case "add":
      if (at >= 0) return { error: "This insight is already on the dashboard." };
      if (layout.length >= MAX_CARDS) return { error: `A dashboard holds at most ${MAX_CARDS} cards.` };
      return { layout: [...layout, { insightId: change.insightId, w: 1 }] };
    case "remove":
      return { layout: layout.filter((c) => c.insightId !== change.insightId) };
    case "move": {
      const to = at + change.by;
      const card = layout[at];
      if (at < 0 || !card || to < 0 || to >= layout.length) return { layout: [...layout] };
      const next = layout.filter((_, i) => i !== at);
      next.splice(to, 0, card);
      return { layout: next };
    }
    case "resize":
      return { layout: layout.map((c) => (c.insightId === change.insightId ? { ...c, w: change.w } : c)) };
  }
}
