// The dashboard's views as JSON for the query API: each takes the same query string as its page
// (`range=7d&platform=ios`, an insight's definition) and answers what the page shows. Paged views
// answer `next`, the value to pass as `before` for the following page.
import type { DashboardEnv } from "../env.server";
import { INSIGHT_MODULES } from "../insights/modules.server";
import type { InsightType } from "../insights/saved";
import { parseCursor } from "../queries/cursor";
import { parseDims } from "../queries/dims";
import { listEvents, parseEventFilters } from "../queries/events.server";
import { loadDimOptions, loadOverview } from "../queries/overview.server";
import { parseRange } from "../queries/range";

type Cfg = DashboardEnv["clickhouse"];

/** An insight run by its type's module on a query string: the canonical definition, what it ignored, the figures. */
export async function runInsight(cfg: Cfg, appId: string, type: InsightType, search: string, now: number) {
  const prepared = INSIGHT_MODULES[type].prepare(search, now);
  const { result } = await prepared.run(cfg, appId);
  return { type, query: prepared.search, problems: prepared.problems, result };
}

const INSIGHT_VIEWS: readonly InsightType[] = ["trends", "funnels", "retention", "paths", "stickiness"];

/** Each view by the name its URL uses: `/api/v1/apps/:app/<view>?…`. */
export const API_VIEWS: Record<string, (cfg: Cfg, appId: string, url: URL, now: number) => Promise<unknown>> = {
  overview: async (cfg, appId, url) => {
    const range = parseRange(url);
    const dims = parseDims(url);
    const [overview, options] = await Promise.all([loadOverview(cfg, appId, range, dims), loadDimOptions(cfg, appId, range)]);
    return { range, dims, overview, options };
  },
  events: async (cfg, appId, url, now) => {
    const filters = parseEventFilters(url, now);
    const page = await listEvents(cfg, appId, filters, parseCursor(url.searchParams.get("before")));
    return { filters, events: page.rows, next: page.next };
  },
  ...Object.fromEntries(INSIGHT_VIEWS.map((type) => [type, (cfg: Cfg, appId: string, url: URL, now: number) => runInsight(cfg, appId, type, url.search, now)])),
};
