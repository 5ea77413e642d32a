// The dashboard's query API in the OpenAPI document (openapi.ts): each view's path with the query
// parameters its page reads and the shape of what it answers. The views themselves are in
// dashboard/app/api/views.server.ts; dashboard/test/api-query.test.ts checks that both list the same views.
type Json = Record<string, unknown>;

/** The helpers of the document this part goes into, so the errors and their schema are one. */
export interface QueryDocTools {
  ok: (description: string, schema?: Json) => Json;
  errors: (...codes: number[]) => Json;
  appParam: Json;
}

const DASHBOARD = [{ url: "/", description: "the dashboard" }];
const SECURITY = [{ oauth: ["data:read"] }];
const OBJECT = { type: "object", additionalProperties: true };
const STRING = { type: "string" };
const INT = { type: "integer" };
const NEXT = { type: ["string", "null"], description: "pass as `before` for the following page; null on the last" };
const rows = (properties: Record<string, Json>, description: string): Json => ({ type: "array", description, items: { type: "object", properties } });
const q = (name: string, description: string, schema: Json = STRING): Json => ({ name, in: "query", schema, description });

const RANGE = [
  q("range", "1h, 24h, 7d (the default), 30d, 90d or custom", { enum: ["1h", "24h", "7d", "30d", "90d", "custom"] }),
  q("from", "with range=custom: the first UTC day, YYYY-MM-DD"),
  q("to", "with range=custom: the last UTC day, YYYY-MM-DD"),
];
const DIMS = [q("platform", "only this platform"), q("country", "only this country (ISO code)")];
const BEFORE = q("before", "the `next` of the previous page");
const RANGE_OUT = { type: "object", description: "the range used: its name, `from` and `to` (epoch seconds) and chart step", additionalProperties: true };

const USER_ROW = { key: STRING, userId: STRING, firstSeenMs: INT, lastSeenMs: INT, events: INT, sessions: INT, platform: STRING, country: STRING, name: STRING };
const SESSION_ROW = { id: STRING, startedMs: INT, durationMs: INT, events: INT, views: INT, actions: INT, crashes: INT, userId: STRING, anonymousId: STRING, platform: STRING, country: STRING, entry: STRING, exit: STRING, bounced: INT };
const ISSUE_ROW = { fingerprint: STRING, type: STRING, message: STRING, culprit: STRING, events: INT, users: INT, fatal: INT, firstSeenMs: INT, lastSeenMs: INT, releases: { type: "array", items: STRING }, platforms: { type: "array", items: STRING }, trend: { type: "array", items: INT }, dropped: INT, status: { enum: ["unresolved", "regressed", "resolved", "ignored"] } };

interface Doc {
  summary: string;
  params: Json[];
  data: Record<string, Json>;
}

const obj = (description: string): Json => ({ ...OBJECT, description });

/** The views at `/api/v1/apps/{app}/<view>`. */
const VIEWS: Record<string, Doc> = {
  overview: { summary: "the overview: totals, series and top lists", params: [...RANGE, ...DIMS], data: { range: RANGE_OUT, dims: OBJECT, overview: OBJECT, options: obj("the values the filters offer") } },
  events: {
    summary: "a page of events, newest first (50 a page)",
    params: [...RANGE, q("event", "the event's name"), q("type", "track, page, screen, identify, crash, perf, network…"), q("user", "a user or anonymous id"), q("prop", "`key:value` of a property"), BEFORE],
    data: { filters: OBJECT, events: rows({ ts: INT, messageId: STRING, type: STRING, event: STRING, userId: STRING, anonymousId: STRING, platform: STRING, country: STRING, path: STRING }, "the page of events"), next: NEXT },
  },
  ...Object.fromEntries(
    ["trends", "funnels", "retention", "paths", "stickiness"].map((type) => [
      type,
      { summary: `a ${type} insight, defined by its page's query string`, params: [...RANGE, q("*", "the insight's definition as its page's URL has it (e.g. event0=…&measure0=…)")], data: { type: { const: type }, query: { type: "string", description: "the definition as understood" }, problems: { type: "array", items: STRING }, result: OBJECT } },
    ]),
  ),
  users: {
    summary: "a page of users, most recently seen first (50 a page), with active users per day",
    params: [...RANGE, ...DIMS, q("q", "part of a user id or anonymous id"), q("paths", "with step: the people on one path of this paths insight"), q("step", "a step of that path (repeated)"), q("funnel", "with dropped: the people who dropped at a step of this funnel"), q("dropped", "the funnel step they did not reach", INT), BEFORE],
    data: { range: RANGE_OUT, filters: OBJECT, onPath: { type: ["object", "null"] }, dropped: { type: ["object", "null"] }, options: OBJECT, daily: rows({ t: INT, n: INT }, "active users per day"), users: rows(USER_ROW, "the page of users"), next: NEXT },
  },
  sessions: {
    summary: "a page of sessions, newest first (50 a page), with their statistics",
    params: [...RANGE, ...DIMS, q("bounced", "1: only bounced sessions"), BEFORE],
    data: { range: RANGE_OUT, filters: OBJECT, options: OBJECT, stats: obj("bounce rate, durations and events per session"), sessions: rows(SESSION_ROW, "the page of sessions"), next: NEXT },
  },
  crashes: {
    summary: "a page of crash issues (50 a page) in the sort asked for",
    params: [...RANGE, q("status", "unresolved (the default), regressed, resolved, ignored or all"), q("sort", "events (the default), users, newest or last"), q("release", "only this release"), q("platform", "only this platform"), q("environment", "only this environment"), q("q", "part of the type, message or culprit"), BEFORE],
    data: { range: RANGE_OUT, filters: OBJECT, options: OBJECT, issues: rows(ISSUE_ROW, "the page of issues"), next: NEXT },
  },
  performance: {
    summary: "web vitals, the slowest pages and transactions, and a breakdown",
    params: [...RANGE, ...["page", "release", "platform", "browser", "device", "country"].map((n) => q(n, `only this ${n}`)), q("dimension", "the breakdown's dimension: page, release, platform, browser, device or country"), q("vital", "the vital broken down (LCP, INP, CLS, FCP, TTFB)")],
    data: { range: RANGE_OUT, filters: OBJECT, breakdown: OBJECT, options: OBJECT, view: obj("the vitals, series, slowest and breakdown rows") },
  },
  network: {
    summary: "network calls by endpoint (the first 100 in the sort asked for), the worst endpoints and the series",
    params: [...RANGE, q("platform", "only this platform"), q("release", "only this release"), q("host", "only this host"), q("method", "only this HTTP method"), q("sort", "calls (the default), errors or p95")],
    data: { range: RANGE_OUT, filters: OBJECT, options: OBJECT, view: obj("totals, series, endpoints and the worst of them") },
  },
  releases: { summary: "each release's adoption, crash-free users and sessions, and performance regressions", params: RANGE, data: { range: RANGE_OUT, view: OBJECT, regressions: obj("by release: the metrics that regressed") } },
  pipeline: { summary: "the ingest pipeline: accepted, rejected and dropped events, lag, and stale shards", params: RANGE, data: { range: RANGE_OUT, pipeline: OBJECT, stale: { type: "array", items: OBJECT } } },
  insights: { summary: "the app's saved insights with their definitions (run one at /api/v1/insights/{id})", params: [], data: { insights: rows({ id: STRING, name: STRING, description: STRING, type: STRING, query: { type: "string", description: "the definition: the insight page's query string" }, updatedAt: INT }, "newest change first") } },
  attribution: {
    summary: "the attribution report for one of the app's conversions",
    params: [...RANGE, q("conversion", "the conversion's id (the first when not given)"), q("currency", "the ISO currency revenue is summed in")],
    data: { range: RANGE_OUT, conversion: OBJECT, currency: STRING, problems: { type: "array", items: STRING }, settings: OBJECT, report: OBJECT, recent: { type: "array", items: OBJECT } },
  },
};

/** The things at `/api/v1/apps/{app}/<view>/{id}`. */
const ITEMS: Record<string, Doc & { id: string }> = {
  events: { id: "the event's message id", summary: "one event with all its fields", params: [], data: { event: OBJECT } },
  users: { id: "the user's key (user id, or anonymous id until identified)", summary: "one user's profile and journey (the newest 500 events in the range)", params: RANGE, data: { range: RANGE_OUT, profile: { type: "object", properties: USER_ROW, additionalProperties: true }, journey: obj("events (newest first), truncated, activity per day") } },
  sessions: { id: "the session's id", summary: "one session and its events in order (the first 1,000; truncated says if there are more)", params: [], data: { session: { type: "object", properties: SESSION_ROW }, events: { type: "array", items: OBJECT }, truncated: { type: "boolean" } } },
  crashes: {
    id: "the issue's fingerprint",
    summary: "one crash issue: occurrences, tags, events, affected users, releases, breadcrumbs, its state and history",
    params: RANGE,
    data: { range: RANGE_OUT, issue: OBJECT, series: { type: "array", items: OBJECT }, tags: OBJECT, events: OBJECT, users: { type: "array", items: OBJECT }, dropped: OBJECT, releases: { type: "array", items: OBJECT }, trail: { type: "array", items: OBJECT }, rule: { type: ["object", "null"] }, state: { type: ["object", "null"] }, history: { type: "array", items: OBJECT } },
  },
  performance: { id: "the metric's name, URL-encoded", summary: "one metric: summary, series, by release, platform, device and page, spans", params: [...RANGE, ...["page", "release", "platform", "browser", "device", "country"].map((n) => q(n, `only this ${n}`))], data: { range: RANGE_OUT, filters: OBJECT, metric: STRING, options: OBJECT, view: OBJECT } },
  network: { id: "the endpoint as the network view's links encode it", summary: "one endpoint: series, statuses, releases and failing calls", params: [...RANGE, q("platform", "only this platform"), q("release", "only this release")], data: { range: RANGE_OUT, endpoint: OBJECT, filters: OBJECT, options: OBJECT, view: OBJECT } },
  attribution: { id: "`people`", summary: "one person's paths to the conversion", params: [...RANGE, q("conversion", "the conversion's id"), q("person", "a user or anonymous id")], data: { person: STRING, range: RANGE_OUT, conversion: OBJECT, problems: { type: "array", items: STRING }, paths: { type: "array", items: OBJECT } } },
};

/** The views' names, as the dashboard's API answers them. */
export const QUERY_VIEWS = Object.keys(VIEWS);
export const QUERY_ITEMS = Object.keys(ITEMS);

/** The query API's paths for the document. */
export function queryApiPaths({ ok, errors, appParam }: QueryDocTools): Json {
  const answer = (about: Record<string, Json>, d: Doc): Json => ({
    summary: d.summary,
    tags: ["query"],
    security: SECURITY,
    "x-required-scope": "data:read",
    parameters: d.params.filter((p) => p.name !== "*"),
    ...(d.params.some((p) => p.name === "*") ? { description: "Any other query parameter of the page's URL is read as the page reads it." } : {}),
    responses: { "200": ok("the view as its page shows it", { type: "object", required: [...Object.keys(about), "data"], properties: { ...about, data: { type: "object", properties: d.data } } }), ...errors(401, 403, 404, 429, 503) },
  });
  return {
    ...Object.fromEntries(Object.entries(VIEWS).map(([view, d]) => [`/api/v1/apps/{app}/${view}`, { servers: DASHBOARD, parameters: [appParam], get: answer({ app: STRING, view: { const: view } }, d) }])),
    ...Object.fromEntries(
      Object.entries(ITEMS).map(([view, d]) => [
        `/api/v1/apps/{app}/${view}/{id}`,
        { servers: DASHBOARD, parameters: [appParam, { name: "id", in: "path", required: true, schema: STRING, description: d.id }], get: answer({ app: STRING, view: { const: view }, id: STRING }, d) },
      ]),
    ),
    "/api/v1/dashboards": {
      servers: DASHBOARD,
      get: { summary: "the organisation's dashboards", tags: ["query"], security: SECURITY, "x-required-scope": "data:read", responses: { "200": ok("{data: {dashboards}}", { type: "object", properties: { data: { type: "object", properties: { dashboards: rows({ id: STRING, name: STRING, description: STRING, cards: INT, updatedAt: INT }, "each dashboard") } } } }), ...errors(401, 403, 429) } },
    },
    "/api/v1/dashboards/{id}": {
      servers: DASHBOARD,
      parameters: [{ name: "id", in: "path", required: true, schema: STRING, description: "the dashboard's id" }],
      get: {
        summary: "a dashboard with its cards run now (only the cards of the apps a token lists); range and the shared filters in the query string override its own",
        tags: ["query"],
        security: SECURITY,
        "x-required-scope": "data:read",
        parameters: [...RANGE, ...DIMS],
        responses: { "200": ok("{data: {dashboard, scope, cards}}", { type: "object", properties: { data: { type: "object", properties: { dashboard: OBJECT, scope: OBJECT, cards: rows({ insight: OBJECT, w: INT, href: STRING, problems: { type: "array", items: STRING }, data: { type: ["object", "null"] }, error: { type: ["string", "null"] }, at: { type: ["integer", "null"] }, cached: { type: "boolean" } }, "each card in the layout's order") } } } }), ...errors(401, 403, 404, 429, 503) },
      },
    },
    "/api/v1/insights/{id}": {
      servers: DASHBOARD,
      parameters: [{ name: "id", in: "path", required: true, schema: STRING, description: "the saved insight's id" }],
      get: { summary: "a saved insight run now; range and the shared filters in the query string override its own", tags: ["query"], security: SECURITY, parameters: RANGE, responses: { "200": ok("{insight, data}", { type: "object", properties: { insight: OBJECT, data: OBJECT } }), ...errors(401, 403, 404, 429, 503) } },
    },
  };
}
