// The dashboard's views as CSV: each view's rows for an app and a query string (the page's own,
// read by the page's own parsers and queries), named as its download is. The download routes
// (`routes/*[.csv].ts`) and scheduled exports (workers/exports/run.ts) both build their files
// here, so a scheduled file holds what the page's download holds. Lists that page (events, users,
// sessions, crash issues) are read page after page through their keysets: a download stops at
// `limit`, an export reads to the end. Nothing here may import Remix: the edge Worker bundles it.
import { ATTRIBUTION_MODELS, type ExportView } from "../../../schemas";
import { parseAttributionQuery } from "../attribution/query";
import { attributionReport } from "../attribution/report.server";
import { getAttribution } from "../db/apps.server";
import { issueStates } from "../db/crash-issues.server";
import { getSavedInsight, type SavedInsight } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { isRunnable, stepLabel } from "../insights/funnels";
import { parseFunnels, runFunnels, type FunnelSeries } from "../insights/funnels.server";
import { OTHER } from "../insights/paths";
import { parsePaths, runPaths } from "../insights/paths.server";
import { parseRetention, runRetention } from "../insights/retention.server";
import type { InsightType } from "../insights/saved";
import { parseStickiness, runStickiness } from "../insights/stickiness.server";
import { parseTrends } from "../insights/trends";
import { runTrends } from "../insights/trends.server";
import { parseIssueFilters } from "../queries/crash-filters";
import { exportIssues } from "../queries/crashes.server";
import type { Cursor } from "../queries/cursor";
import { parseDims } from "../queries/dims";
import { EXPORT_COLUMNS, exportEvents, parseEventFilters } from "../queries/events.server";
import { parseNetworkFilters } from "../queries/network-filters";
import { exportEndpoints } from "../queries/network.server";
import { loadOverview } from "../queries/overview.server";
import { parseBreakdown, parsePerfFilters } from "../queries/perf";
import { loadBreakdown, loadMetrics } from "../queries/perf.server";
import { loadPipeline, PIPELINE_CSV_COLUMNS, pipelineCsvRows } from "../queries/pipeline.server";
import { parseRange, rangeName } from "../queries/range";
import { loadReleases } from "../queries/releases.server";
import { exportSessions, parseSessionFilters, type SessionCursor } from "../queries/sessions.server";
import { parseUsersQuery } from "../queries/users-list.server";
import { exportUsers, type UserCursor } from "../queries/users.server";

export type CsvRow = Record<string, string | number>;

/** A view's file: its name, its header, and its rows a page at a time. */
export interface CsvFile {
  filename: string;
  columns: readonly string[];
  pages: AsyncIterable<CsvRow[]>;
}

/** Why a view has no file for this query: 400 (the query cannot run) or 404 (the app has no such thing). */
export interface CsvRefusal {
  status: 400 | 404;
  message: string;
}

/** What a view is read with: the app (already checked against the caller), its organisation, the query string as a URL, the time ranges end at. */
export interface CsvCall {
  env: DashboardEnv;
  orgId: string;
  appId: string;
  url: URL;
  now: number;
  /** Rows a paged list stops at; every row when absent. */
  limit?: number;
}

export type CsvView = (call: CsvCall) => Promise<CsvFile | CsvRefusal>;

/** Rows per read of a paged list. */
const PAGE_ROWS = 5_000;

const once = (rows: CsvRow[]): AsyncIterable<CsvRow[]> =>
  (async function* () {
    yield rows;
  })();

/** A list read page after page from its keyset until its end or `limit` rows. */
function paged<C, R>(read: (after: C | null, n: number) => Promise<{ rows: R[]; next: C | null }>, toRow: (r: R) => CsvRow, limit = Number.POSITIVE_INFINITY): AsyncIterable<CsvRow[]> {
  return (async function* () {
    let after: C | null = null;
    let left = limit;
    while (left > 0) {
      const page: { rows: R[]; next: C | null } = await read(after, Math.min(PAGE_ROWS, left));
      if (page.rows.length > 0) yield page.rows.map(toRow);
      left -= page.rows.length;
      if (page.next === null) return;
      after = page.next;
    }
  })();
}

export const isRefusal = (v: CsvFile | CsvRefusal): v is CsvRefusal => "status" in v;

const iso = (ms: number): string => new Date(ms).toISOString();
const fixed = (digits: number) => (r: number | null): string => (r === null ? "" : r.toFixed(digits));
const round3 = (v: number): string => String(Math.round(v * 1000) / 1000);
const cellOf = (v: number | null, digits: number): string | number => (v === null ? "" : Number(v.toFixed(digits)));

/** Values a performance breakdown lists at most, most values first. */
const BREAKDOWN_EXPORT_CAP = 1000;

const ATTRIBUTION_COLUMNS = [
  "source",
  "medium",
  "campaign",
  "content",
  ...ATTRIBUTION_MODELS.map((m) => `conversions_${m}`),
  ...ATTRIBUTION_MODELS.map((m) => `revenue_${m}`),
  "currency",
  "touches",
  "median_seconds_to_convert",
];

const trends: CsvView = async ({ env, appId, url, now }) => {
  const def = parseTrends(url, now);
  const r = await runTrends(env.clickhouse, appId, def);
  const at = (t: number | undefined): string => (t === undefined ? "" : iso(t * 1000));
  const cell = (v: number | null | undefined): string | number => (v === null || v === undefined ? "" : v);
  const rows = r.lines.flatMap((l) =>
    r.buckets.map((t, j) => ({
      line: l.label,
      series: l.series + 1,
      breakdown: l.breakdown === null ? "" : l.other ? "(other)" : l.breakdown,
      bucket: at(t),
      value: cell(l.values[j]),
      previous_bucket: r.previousBuckets ? at(r.previousBuckets[j]) : "",
      previous_value: l.previous ? cell(l.previous[j]) : "",
    })),
  );
  return { filename: `${appId}-trends-${def.interval}-${rangeName(def.range)}.csv`, columns: ["line", "series", "breakdown", "bucket", "value", "previous_bucket", "previous_value"], pages: once(rows) };
};

const funnels: CsvView = async ({ env, appId, url, now }) => {
  const def = parseFunnels(url, now);
  if (!isRunnable(def)) return { status: 400, message: "A funnel needs at least two steps (step=…&step=…)." };
  const result = await runFunnels(env.clickhouse, appId, def);
  const ratio = fixed(4);
  const lines = (label: string, s: FunnelSeries) =>
    s.steps.map((x, i) => ({
      breakdown: label,
      step: i + 1,
      event: def.steps[i] ? stepLabel(def.steps[i]) : "",
      people: x.people,
      of_first_step: ratio(x.fromFirst),
      of_previous_step: ratio(x.fromPrevious),
      dropped: x.dropped,
      median_seconds_from_previous: x.medianMs === null ? "" : (x.medianMs / 1000).toFixed(3),
    }));
  // With a breakdown, "(total)" comes first, then each value and "(other)".
  const rows =
    def.breakdown.kind === "none" ? lines("", result.total) : [...lines("(total)", result.total), ...result.breakdown.flatMap((b) => lines(b.other ? "(other)" : b.label === "" ? "(none)" : b.label, b))];
  return {
    filename: `${appId}-funnel-${rangeName(def.range)}.csv`,
    columns: ["breakdown", "step", "event", "people", "of_first_step", "of_previous_step", "dropped", "median_seconds_from_previous"],
    pages: once(rows),
  };
};

const retention: CsvView = async ({ env, appId, url, now }) => {
  const def = parseRetention(url, now);
  const { cohorts } = await runRetention(env.clickhouse, appId, def);
  // One line per cohort with its size and the people back in each later period (blank where it has not begun).
  const periods = Array.from({ length: Math.max(0, cohorts.length - 1) }, (_, k) => `period_${k + 1}`);
  const rows = cohorts.map((c) => {
    const row: CsvRow = { cohort: c.day, size: c.size };
    periods.forEach((p, k) => (row[p] = c.returned[k] ?? ""));
    return row;
  });
  return { filename: `${appId}-retention-${def.period}-${rangeName(def.range)}.csv`, columns: ["cohort", "size", ...periods], pages: once(rows) };
};

const paths: CsvView = async ({ env, appId, url, now }) => {
  const def = parsePaths(url, now);
  const r = await runPaths(env.clickhouse, appId, def);
  // The ranked paths, most people first, then everyone else's as one line.
  const rows: CsvRow[] = r.paths.map((p, i) => ({ rank: i + 1, path: p.steps.map((s) => (s === OTHER ? "(other)" : s)).join(" > "), steps: p.steps.length, people: p.people, share: p.share.toFixed(6) }));
  if (r.other.people > 0) rows.push({ rank: "", path: `(${r.other.paths} other paths)`, steps: "", people: r.other.people, share: r.people > 0 ? (r.other.people / r.people).toFixed(6) : "" });
  return { filename: `${appId}-paths-${rangeName(def.range)}.csv`, columns: ["rank", "path", "steps", "people", "share"], pages: once(rows) };
};

const stickiness: CsvView = async ({ env, appId, url, now }) => {
  const def = parseStickiness(url, now);
  const r = await runStickiness(env.clickhouse, appId, def);
  const rows = r.people.map((n, k) => ({ days: k + 1, people: n, share: r.total > 0 ? (n / r.total).toFixed(6) : "" }));
  return { filename: `${appId}-stickiness-${r.period}-${rangeName(def.range)}.csv`, columns: ["days", "people", "share"], pages: once(rows) };
};

/** Each insight type's CSV, by type. */
export const INSIGHT_CSV: Record<InsightType, CsvView> = { trends, funnels, retention, paths, stickiness };

/** Each view's CSV by the name of its page (`/apps/:app/<name>.csv`, `insights/<type>` for an insight type); schedules name them too (schemas/exports.ts). */
export const CSV_VIEWS = {
  overview: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const o = await loadOverview(env.clickhouse, appId, range, parseDims(url));
    // The overview's tables (top events, pages and screens, countries, platforms, app versions) as one file.
    const tables = { event: o.topEvents, path: o.topPages, country: o.countries, platform: o.platforms, app_version: o.versions };
    const rows = Object.entries(tables).flatMap(([table, list]) => list.map((r) => ({ table, key: r.key, count: r.n })));
    return { filename: `${appId}-overview-${rangeName(range)}.csv`, columns: ["table", "key", "count"], pages: once(rows) };
  },
  events: async ({ env, appId, url, now, limit }) => {
    const filters = parseEventFilters(url, now);
    return {
      filename: `${appId}-events-${rangeName(filters.range)}.csv`,
      columns: EXPORT_COLUMNS,
      pages: paged((before: Cursor | null, n: number) => exportEvents(env.clickhouse, appId, filters, before, n), (r) => r, limit),
    };
  },
  users: async ({ env, appId, url, now, limit }) => {
    // The people a path or a funnel's drop-off narrowed the page to, as on the page.
    const { range, filters } = parseUsersQuery(url, now);
    const toRow = (u: Awaited<ReturnType<typeof exportUsers>>["rows"][number]): CsvRow => ({
      user: u.key,
      user_id: u.userId,
      first_seen: iso(u.firstSeenMs),
      last_seen: iso(u.lastSeenMs),
      events: u.events,
      sessions: u.sessions,
      platform: u.platform,
      country: u.country,
    });
    return {
      filename: `${appId}-users-${rangeName(range)}.csv`,
      columns: ["user", "user_id", "first_seen", "last_seen", "events", "sessions", "platform", "country"],
      pages: paged((before: UserCursor | null, n: number) => exportUsers(env.clickhouse, appId, range, filters, before, n), toRow, limit),
    };
  },
  sessions: async ({ env, appId, url, now, limit }) => {
    const range = parseRange(url, now);
    const filters = parseSessionFilters(url);
    const toRow = (s: Awaited<ReturnType<typeof exportSessions>>["rows"][number]): CsvRow => ({
      session_id: s.id,
      started: iso(s.startedMs),
      duration_s: Math.round(s.durationMs / 1000),
      events: s.events,
      views: s.views,
      actions: s.actions,
      crashes: s.crashes,
      user_id: s.userId,
      anonymous_id: s.anonymousId,
      platform: s.platform,
      country: s.country,
      entry: s.entry,
      exit: s.exit,
      bounced: s.bounced,
    });
    return {
      filename: `${appId}-sessions-${rangeName(range)}.csv`,
      columns: ["session_id", "started", "duration_s", "events", "views", "actions", "crashes", "user_id", "anonymous_id", "platform", "country", "entry", "exit", "bounced"],
      pages: paged((before: SessionCursor | null, n: number) => exportSessions(env.clickhouse, appId, range, filters, before, n), toRow, limit),
    };
  },
  crashes: async ({ env, appId, url, now, limit }) => {
    const range = parseRange(url, now);
    const filters = parseIssueFilters(url);
    const states = await issueStates(env.db, appId);
    const toRow = (r: Awaited<ReturnType<typeof exportIssues>>["rows"][number]): CsvRow => ({
      fingerprint: r.fingerprint,
      status: states.get(r.fingerprint)?.status ?? "unresolved",
      type: r.type,
      message: r.message,
      culprit: r.culprit,
      events: r.events,
      users: r.users,
      fatal: r.fatal,
      dropped: r.dropped,
      first_seen: iso(r.firstSeenMs),
      last_seen: iso(r.lastSeenMs),
      releases: r.releases.join(" "),
      platforms: r.platforms.join(" "),
    });
    return {
      filename: `${appId}-crashes-${rangeName(range)}.csv`,
      columns: ["fingerprint", "status", "type", "message", "culprit", "events", "users", "fatal", "dropped", "first_seen", "last_seen", "releases", "platforms"],
      pages: paged((after: Cursor | null, n: number) => exportIssues(env.clickhouse, appId, range, filters, states, after, n), toRow, limit),
    };
  },
  // The metrics table, or with `dimension=` a vital's breakdown (`&vital=`, LCP by default) by that dimension.
  performance: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const filters = parsePerfFilters(url);
    if (url.searchParams.has("dimension")) {
      const b = parseBreakdown(url);
      const rows = await loadBreakdown(env.clickhouse, appId, range, filters, b, BREAKDOWN_EXPORT_CAP);
      const lines = rows.map((r) => ({
        vital: b.vital,
        dimension: b.dimension,
        value: r.value,
        values: r.n,
        p75: round3(r.p75),
        good: r.shares.good.toFixed(6),
        needs_improvement: r.shares.needsImprovement.toFixed(6),
        poor: r.shares.poor.toFixed(6),
      }));
      return {
        filename: `${appId}-${b.vital}-by-${b.dimension}-${rangeName(range)}.csv`,
        columns: ["vital", "dimension", "value", "values", "p75", "good", "needs_improvement", "poor"],
        pages: once(lines),
      };
    }
    const metrics = await loadMetrics(env.clickhouse, appId, range, filters);
    const lines = metrics.map((m) => ({ metric: m.metric, kind: m.kind, unit: m.unit, values: m.n, p50: round3(m.p50), p75: round3(m.p75), p95: round3(m.p95), p99: round3(m.p99) }));
    return { filename: `${appId}-performance-${rangeName(range)}.csv`, columns: ["metric", "kind", "unit", "values", "p50", "p75", "p95", "p99"], pages: once(lines) };
  },
  network: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const rows = (await exportEndpoints(env.clickhouse, appId, range, parseNetworkFilters(url))).map((r) => ({
      method: r.method,
      host: r.host,
      template: r.template,
      calls: r.calls,
      error_rate: cellOf(r.errorRate, 4),
      client_errors: r.clientErrors,
      server_errors: r.serverErrors,
      failed: r.failed,
      timeouts: r.timeouts,
      p50_ms: cellOf(r.p50, 1),
      p95_ms: cellOf(r.p95, 1),
      p99_ms: cellOf(r.p99, 1),
      avg_request_bytes: Math.round(r.avgRequestBytes),
      avg_response_bytes: Math.round(r.avgResponseBytes),
    }));
    return {
      filename: `${appId}-network-${rangeName(range)}.csv`,
      columns: ["method", "host", "template", "calls", "error_rate", "client_errors", "server_errors", "failed", "timeouts", "p50_ms", "p95_ms", "p99_ms", "avg_request_bytes", "avg_response_bytes"],
      pages: once(rows),
    };
  },
  releases: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const ratio = fixed(6);
    const { releases } = await loadReleases(env.clickhouse, appId, range);
    const rows = releases.map((r) => ({
      release: r.release,
      first_seen: r.firstSeen ? iso(r.firstSeen) : "",
      adoption: ratio(r.adoption),
      users: r.users,
      crashed_users: r.crashedUsers,
      crash_free_users: ratio(r.crashFreeUsers),
      sessions: r.sessions,
      crashed_sessions: r.crashedSessions,
      crash_free_sessions: ratio(r.crashFreeSessions),
      crashes: r.crashes,
      new_issues: r.newIssues,
    }));
    return {
      filename: `${appId}-releases-${rangeName(range)}.csv`,
      columns: ["release", "first_seen", "adoption", "users", "crashed_users", "crash_free_users", "sessions", "crashed_sessions", "crash_free_sessions", "crashes", "new_issues"],
      pages: once(rows),
    };
  },
  // The per-bucket table, or with `table=reasons` the by-reason table.
  pipeline: async ({ env, appId, url, now }) => {
    const range = parseRange(url, now);
    const pipeline = await loadPipeline(env.clickhouse, appId, range);
    if (url.searchParams.get("table") === "reasons") {
      const rows = pipeline.reasons.map((r) => ({ reason: r.reason, events_rejected: r.rejected, requests_refused: r.refused, events_dead_lettered: r.deadLettered, crashes_capped: r.capped }));
      return { filename: `${appId}-pipeline-reasons-${rangeName(range)}.csv`, columns: ["reason", "events_rejected", "requests_refused", "events_dead_lettered", "crashes_capped"], pages: once(rows) };
    }
    return { filename: `${appId}-pipeline-${rangeName(range)}.csv`, columns: PIPELINE_CSV_COLUMNS, pages: once(pipelineCsvRows(pipeline)) };
  },
  // Conversions and revenue credited under each model, for the URL's conversion and currency.
  attribution: async ({ env, orgId, appId, url, now }) => {
    const settings = await getAttribution(env.db, orgId, appId);
    if (!settings) return { status: 404, message: "No such app in your organisation" };
    const q = parseAttributionQuery(url, settings, now);
    const report = await attributionReport(env.clickhouse, appId, settings, q.conversion, q.range, q.currency);
    const rows = report.rows.map((r) => ({
      source: r.source,
      medium: r.medium,
      campaign: r.campaign,
      content: r.content,
      ...Object.fromEntries(ATTRIBUTION_MODELS.map((m) => [`conversions_${m}`, r.conversions[m].toFixed(6)])),
      ...Object.fromEntries(ATTRIBUTION_MODELS.map((m) => [`revenue_${m}`, r.revenue[m].toFixed(2)])),
      currency: report.currency,
      touches: r.touches,
      median_seconds_to_convert: r.medianToConvert === null ? "" : Math.round(r.medianToConvert),
    }));
    return { filename: `${appId}-attribution-${q.conversion.id}-${rangeName(q.range)}.csv`, columns: ATTRIBUTION_COLUMNS, pages: once(rows) };
  },
  "insights/trends": trends,
  "insights/funnels": funnels,
  "insights/retention": retention,
  "insights/paths": paths,
  "insights/stickiness": stickiness,
} satisfies Record<ExportView, CsvView>;

/** The range parameters of a query string, which a scheduled export replaces with its period's. */
const RANGE_PARAMS = ["range", "from", "to"] as const;

/** A query string (a leading `?` or none) as a URL, its range replaced by `range`'s parameters when given. */
export function queryUrl(query: string, range?: URLSearchParams): URL {
  const url = new URL(`http://x/?${query.replace(/^\?/, "")}`);
  if (range) {
    for (const p of RANGE_PARAMS) url.searchParams.delete(p);
    for (const [k, v] of range) url.searchParams.set(k, v);
  }
  return url;
}

/** A saved insight of the organisation's app run as CSV with its definition, under `range` when given. */
export async function savedInsightCsv(call: Omit<CsvCall, "url">, insightId: string, range?: URLSearchParams): Promise<CsvFile | CsvRefusal> {
  const saved: SavedInsight | null = await getSavedInsight(call.env.db, call.orgId, insightId);
  if (!saved || saved.appId !== call.appId) return { status: 404, message: "No such saved insight in this app" };
  return INSIGHT_CSV[saved.type]({ ...call, url: queryUrl(saved.query, range) });
}
