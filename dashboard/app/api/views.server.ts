// The dashboard's views as JSON for the query API: each takes the same query string as its page
// (`range=7d&platform=ios`, an insight's definition), parsed by the page's own parsers and read
// by the page's own queries, and answers what the page shows. Paged views answer `next`, the
// value to pass as `before` for the following page.
import { personPaths, attributionReport, recentConversions } from "../attribution/report.server";
import { parseAttributionQuery } from "../attribution/query";
import { getAttribution } from "../db/apps.server";
import { issueHistory, issueState, issueStates, listRules } from "../db/crash-issues.server";
import { getDashboard, getSavedInsights, listDashboards, listSavedInsights } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { loadCards } from "../insights/cards.server";
import { INSIGHT_MODULES } from "../insights/modules.server";
import { scopeFromUrl, type InsightType } from "../insights/saved";
import { parseIssueFilters } from "../queries/crash-filters";
import { loadIssuePage } from "../queries/crash-issue.server";
import { issueFilterOptions, listIssues } from "../queries/crashes.server";
import { parseCursor } from "../queries/cursor";
import { parseDims } from "../queries/dims";
import { getEvent, listEvents, parseEventFilters } from "../queries/events.server";
import { loadEndpoint } from "../queries/network-endpoint.server";
import { decodeEndpoint, parseNetworkFilters } from "../queries/network-filters";
import { loadNetwork, networkFilterOptions } from "../queries/network.server";
import { loadDimOptions, loadOverview } from "../queries/overview.server";
import { MAX_METRIC_NAME, parseBreakdown, parsePerfFilters } from "../queries/perf";
import { regressionsByRelease } from "../queries/perf-regressions.server";
import { loadMetric, loadPerfOptions, loadPerfOverview } from "../queries/perf.server";
import { loadPipeline, loadStaleShards } from "../queries/pipeline.server";
import { parseRange } from "../queries/range";
import { loadReleases } from "../queries/releases.server";
import { getSession, listSessions, parseSessionFilters, sessionStats } from "../queries/sessions.server";
import { loadUsersList, parseUsersQuery } from "../queries/users-list.server";
import { getJourney, getProfile } from "../queries/users.server";

type Cfg = DashboardEnv["clickhouse"];

/** What a view reads with: the app (already checked against the token), its organisation, the request's URL. */
export interface ViewCall {
  env: DashboardEnv;
  orgId: string;
  appId: string;
  url: URL;
  now: number;
}

/** An insight run by its type's module on a query string: the canonical definition, what it ignored, the figures. */
export async function runInsight(cfg: Cfg, appId: string, type: InsightType, search: string, now: number) {
  const prepared = INSIGHT_MODULES[type].prepare(search, now);
  const { result } = await prepared.run(cfg, appId);
  return { type, query: prepared.search, problems: prepared.problems, result };
}

const INSIGHT_VIEWS: readonly InsightType[] = ["trends", "funnels", "retention", "paths", "stickiness"];

/** Each view by the name its URL uses: `/api/v1/apps/:app/<view>?…`. */
export const API_VIEWS: Record<string, (v: ViewCall) => Promise<unknown>> = {
  overview: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const dims = parseDims(url);
    const [overview, options] = await Promise.all([loadOverview(env.clickhouse, appId, range, dims), loadDimOptions(env.clickhouse, appId, range)]);
    return { range, dims, overview, options };
  },
  events: async ({ env, appId, url, now }) => {
    const filters = parseEventFilters(url, now);
    const page = await listEvents(env.clickhouse, appId, filters, parseCursor(url.searchParams.get("before")));
    return { filters, events: page.rows, next: page.next };
  },
  ...Object.fromEntries(INSIGHT_VIEWS.map((type) => [type, ({ env, appId, url, now }: ViewCall) => runInsight(env.clickhouse, appId, type, url.search, now)])),
  users: async ({ env, appId, url, now }) => {
    const q = parseUsersQuery(url, now);
    const { page, daily, options } = await loadUsersList(env.clickhouse, appId, q);
    return { range: q.range, filters: { dims: q.filters.dims, q: q.filters.q }, onPath: q.onPath, dropped: q.dropped, options, daily, users: page.rows, next: page.next };
  },
  sessions: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const filters = parseSessionFilters(url);
    const [page, stats, options] = await Promise.all([
      listSessions(env.clickhouse, appId, range, filters, parseCursor(url.searchParams.get("before"))),
      sessionStats(env.clickhouse, appId, range, filters),
      loadDimOptions(env.clickhouse, appId, range),
    ]);
    return { range, filters, options, stats, sessions: page.rows, next: page.next };
  },
  crashes: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const filters = parseIssueFilters(url);
    const states = await issueStates(env.db, appId);
    const [page, options] = await Promise.all([listIssues(env.clickhouse, appId, range, filters, states, parseCursor(url.searchParams.get("before"))), issueFilterOptions(env.clickhouse, appId, range)]);
    return { range, filters, options, issues: page.rows.map((r) => ({ ...r, status: states.get(r.fingerprint)?.status ?? "unresolved" })), next: page.next };
  },
  performance: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const filters = parsePerfFilters(url);
    const breakdown = parseBreakdown(url);
    const [view, options] = await Promise.all([loadPerfOverview(env.clickhouse, appId, range, filters, breakdown), loadPerfOptions(env.clickhouse, appId, range)]);
    return { range, filters, breakdown, options, view };
  },
  network: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const filters = parseNetworkFilters(url);
    const [view, options] = await Promise.all([loadNetwork(env.clickhouse, appId, range, filters), networkFilterOptions(env.clickhouse, appId, range)]);
    return { range, filters, options, view };
  },
  releases: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const [view, regressions] = await Promise.all([loadReleases(env.clickhouse, appId, range), regressionsByRelease(env.clickhouse, appId, range)]);
    return { range, view, regressions: Object.fromEntries(regressions) };
  },
  pipeline: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const [pipeline, stale] = await Promise.all([loadPipeline(env.clickhouse, appId, range), loadStaleShards(env.db, appId, now)]);
    return { range, pipeline, stale };
  },
  // The app's saved insights, each with its definition (run one at /api/v1/insights/:id).
  insights: async ({ env, orgId, appId }) => {
    const saved = (await listSavedInsights(env.db, orgId)).filter((s) => s.appId === appId);
    return { insights: saved.map((s) => ({ id: s.id, name: s.name, description: s.description, type: s.type, query: s.query, updatedAt: s.updatedAt })) };
  },
  attribution: async (v) => {
    const a = await attributionQuery(v);
    if (!a) return null;
    const { settings, q } = a;
    const [report, recent] = await Promise.all([attributionReport(v.env.clickhouse, v.appId, settings, q.conversion, q.range, q.currency), recentConversions(v.env.clickhouse, v.appId, q.conversion, q.range)]);
    return { range: q.range, conversion: q.conversion, currency: q.currency, problems: q.problems, settings, report, recent };
  },
};

async function attributionQuery({ env, orgId, appId, url, now }: ViewCall) {
  const settings = await getAttribution(env.db, orgId, appId);
  return settings ? { settings, q: parseAttributionQuery(url, settings, now) } : null;
}

/**
 * One thing a view lists, by the view's name and the thing's id as the page's URL has them:
 * `/api/v1/apps/:app/<view>/<id>?…`. Null when the app has no such thing (answered 404).
 */
export const API_ITEMS: Record<string, (v: ViewCall, id: string) => Promise<unknown>> = {
  events: async ({ env, appId }, id) => {
    const event = await getEvent(env.clickhouse, appId, id);
    return event ? { event } : null;
  },
  users: async ({ env, appId, url, now }, id) => {
    const range = parseRange(url, now);
    const profile = await getProfile(env.clickhouse, appId, id);
    return profile ? { range, profile, journey: await getJourney(env.clickhouse, appId, profile, range) } : null;
  },
  sessions: async ({ env, appId }, id) => getSession(env.clickhouse, appId, id),
  crashes: async ({ env, appId, url, now }, id) => {
    const range = parseRange(url, now);
    const fp = id.slice(0, 256);
    const page = await loadIssuePage(env.clickhouse, appId, fp, range);
    if (!page) return null;
    const [state, history, rules] = await Promise.all([issueState(env.db, appId, fp), issueHistory(env.db, appId, fp), listRules(env.db, appId)]);
    const ruleId = page.events.latest?.detail.rule ?? "";
    const rule = ruleId ? (rules.find((r) => r.id === ruleId) ?? null) : null;
    return { range, ...page, rule: ruleId ? { id: ruleId, label: rule?.label ?? "", exists: rule !== null } : null, state, history };
  },
  performance: async ({ env, appId, url, now }, metric) => {
    if (metric.length > MAX_METRIC_NAME) return null;
    const range = parseRange(url, now);
    const filters = parsePerfFilters(url);
    const [view, options] = await Promise.all([loadMetric(env.clickhouse, appId, metric, range, filters), loadPerfOptions(env.clickhouse, appId, range)]);
    return view ? { range, filters, metric, options, view } : null;
  },
  network: async ({ env, appId, url, now }, id) => {
    const endpoint = decodeEndpoint(id);
    if (!endpoint) return null;
    const range = parseRange(url, now);
    const { platform, release } = parseNetworkFilters(url);
    const [view, options] = await Promise.all([loadEndpoint(env.clickhouse, appId, range, { platform, release }, endpoint), networkFilterOptions(env.clickhouse, appId, range)]);
    return { range, endpoint, filters: { platform, release }, options, view };
  },
  // `attribution/people?person=…`: one person's paths to the conversion, as on the page of that name.
  attribution: async (v, id) => {
    const a = id === "people" ? await attributionQuery(v) : null;
    if (!a) return null;
    const person = (v.url.searchParams.get("person") ?? "").trim().slice(0, 200);
    const paths = person === "" ? [] : await personPaths(v.env.clickhouse, v.appId, a.settings, a.q.conversion, a.q.range, person);
    return { person, range: a.q.range, conversion: a.q.conversion, problems: a.q.problems, paths };
  },
};

/** The organisation's dashboards, as their list shows them. */
export async function listApiDashboards(env: DashboardEnv, orgId: string) {
  const dashboards = await listDashboards(env.db, orgId);
  return { dashboards: dashboards.map((d) => ({ id: d.id, name: d.name, description: d.description, cards: d.layout.length, updatedAt: d.updatedAt })) };
}

/**
 * A dashboard's cards under the URL's range and filters (over its own), as its page shows them;
 * a token listing some apps sees only the cards of those apps. Null when there is no such dashboard.
 */
export async function readApiDashboard(env: DashboardEnv, orgId: string, appIds: readonly string[] | null, id: string, url: URL, now: number) {
  const d = await getDashboard(env.db, orgId, id);
  if (!d) return null;
  const scope = scopeFromUrl(url, d.scope);
  const all = await getSavedInsights(env.db, orgId, d.layout.map((c) => c.insightId));
  const insights = new Map([...all].filter(([, i]) => appIds === null || appIds.includes(i.appId)));
  const cards = await loadCards(env, orgId, d.layout, insights, scope, { refresh: false, now });
  return { dashboard: { id: d.id, name: d.name, description: d.description, saved: d.scope }, scope, cards };
}
