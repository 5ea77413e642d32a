// The product-analytics insights on the benchmark's events: one definition per insight type, run
// through its own module as its page runs it, and a ten-card dashboard whose cards run at once
// as the dashboard page runs them (cache skipped), then the same dashboard answered from its cache.
import { DEFAULT_ATTRIBUTION, type Conversion } from "../schemas";
import { attributionReport, recentConversions } from "../dashboard/app/attribution/report.server";
import { createApp } from "../dashboard/app/db/apps.server";
import { changeCards, createDashboard, createSavedInsight, getDashboard, getSavedInsights, noteDashboardViewed } from "../dashboard/app/db/insights.server";
import type { DashboardEnv } from "../dashboard/app/env.server";
import { forgetIsolateCache } from "../dashboard/app/insights/cache.server";
import { loadCards, warmDashboards, type CardEnv, type CardOptions } from "../dashboard/app/insights/cards.server";
import { INSIGHT_MODULES } from "../dashboard/app/insights/modules.server";
import { scopeFromUrl, type InsightType } from "../dashboard/app/insights/saved";
import { parseRange } from "../dashboard/app/queries/range";

/** The generated traffic's track events are `Event 0` … `Event 29` (the low numbers most frequent); pages are its paths. */
export const INSIGHT_CASES: ReadonlyArray<{ name: string; type: InsightType; query: string }> = [
  { name: "trends, unique users per day by country, 30d", type: "trends", query: "range=30d&type0=track&measure0=users&interval=day&breakdown=country" },
  { name: "trends, two series, previous period, 30d", type: "trends", query: "range=30d&event0=Event+1&measure0=total&event1=Event+2&measure1=users&interval=day&compare=1" },
  { name: "funnel, 3 steps within a day, 30d", type: "funnels", query: "range=30d&step=Event+1&step=Event+2&step=Event+3&window=1d" },
  { name: "retention, weekly by first seen, 30d", type: "retention", query: "range=30d&period=week" },
  { name: "paths, pages 3 deep, 30d", type: "paths", query: "range=30d&kind=pages&depth=3" },
  { name: "stickiness, 30d", type: "stickiness", query: "range=30d" },
];

/** Ten cards as a team's growth dashboard holds them. */
const DASHBOARD: ReadonlyArray<{ type: InsightType; query: string }> = [
  ...INSIGHT_CASES.map(({ type, query }) => ({ type, query })),
  { type: "trends", query: "range=30d&type0=page&measure0=total&interval=day&breakdown=path" },
  { type: "funnels", query: "range=30d&step=type%3Apage&step=Event+1&window=1h&order=strict" },
  { type: "retention", query: "range=30d&period=day&start=Event+1&return=Event+2" },
  { type: "trends", query: "range=30d&type0=track&measure0=sessions&interval=week&breakdown=platform" },
];

/** Runs one definition for `app` through its module, as its page does. */
export const insightCase = (cfg: DashboardEnv["clickhouse"], app: string, type: InsightType, query: string): Promise<unknown> =>
  INSIGHT_MODULES[type].prepare(query, Date.now()).run(cfg, app);

/**
 * The ten-card dashboard of `app`, saved in `env.db` as a team would save it (an organisation,
 * the app, ten saved insights, one dashboard). `load`: `fresh` runs every card (Refresh),
 * otherwise the cache answers what it holds; `later` opens it that many ms from now, with the
 * request's background work collected in `behind` as the page's waitUntil would keep it.
 * `warm` is the cron's job at `now`; `openInNewIsolate` opens it at `now` from an isolate that has
 * never seen it, as a viewer's first request would, so only what the cron stored can answer.
 */
export async function tenCardDashboard(env: CardEnv, app: string) {
  const org = "org_bench";
  await env.db.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(org, Date.now()).run();
  if (!(await createApp(env.db, org, { id: app, name: app }))) throw new Error(`app ${app} was not created`);
  const made = await createDashboard(env.db, org, { name: "Growth", description: "" }, "bench");
  if (!made.ok) throw new Error(made.reason);
  for (const [i, c] of DASHBOARD.entries()) {
    const saved = await createSavedInsight(env.db, org, { appId: app, type: c.type, name: `${c.type} ${i}`, description: "", query: c.query }, "bench");
    if (!saved.ok) throw new Error(saved.reason);
    const added = await changeCards(env.db, org, made.value.id, { op: "add", insightId: saved.value.id });
    if (!added?.ok) throw new Error(added?.reason ?? "no dashboard");
  }
  const board = await getDashboard(env.db, org, made.value.id);
  if (!board) throw new Error("the dashboard was not stored");
  const open = async (opts: CardOptions) => {
    const insights = await getSavedInsights(env.db, org, board.layout.map((c) => c.insightId));
    const cards = await loadCards(env, org, board.layout, insights, scopeFromUrl(new URL("http://x/"), board.scope), opts);
    return { failed: cards.filter((c) => c.error !== null).length, refreshing: cards.filter((c) => c.refreshing).length, cached: cards.filter((c) => c.cached).length };
  };
  return {
    types: DASHBOARD.map((c) => c.type),
    load: (fresh: boolean, later?: { ms: number; behind: Array<Promise<unknown>> }) => {
      const background = later ? (work: Promise<unknown>) => later.behind.push(work) : undefined;
      return open({ refresh: fresh, now: Date.now() + (later?.ms ?? 0), background });
    },
    warm: async (now: number) => {
      await noteDashboardViewed(env.db, org, board.id, now);
      return warmDashboards(env, now);
    },
    openInNewIsolate: (now: number, behind: Array<Promise<unknown>>) => {
      forgetIsolateCache();
      return open({ refresh: false, now, background: (work) => behind.push(work) });
    },
  };
}

/** Conversions a team might set on the generated traffic: a frequent event with its value as revenue, and a person's first of another. */
export const ATTRIBUTION_CASES: ReadonlyArray<{ name: string; conversion: Conversion }> = [
  { name: "attribution, every Event 5 with its value, 30d", conversion: { id: "e5", name: "Event 5", event: "Event 5", revenueProp: "value", currency: "USD", once: false } },
  { name: "attribution, a person's first Event 9, 30d", conversion: { id: "e9", name: "Event 9", event: "Event 9", once: true } },
];

/** The attribution page's reads for `conversion` over 30 days, under the default windows: the report and the latest conversions. */
export const attributionCase = (cfg: DashboardEnv["clickhouse"], app: string, conversion: Conversion): Promise<unknown> => {
  const range = parseRange(new URL("http://x/?range=30d"));
  return Promise.all([attributionReport(cfg, app, DEFAULT_ATTRIBUTION, conversion, range, conversion.currency), recentConversions(cfg, app, conversion, range)]);
};
