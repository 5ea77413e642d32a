// The network views over hand-worked calls in the real local ClickHouse (through the
// network_hourly view): nearest-rank percentiles within 1 %, error rates split by outcome, sizes,
// the worst lists and their minimum, sorting, filters, CSV, an endpoint's status codes, releases,
// platforms and recent failing calls; the URL templates page against D1. Another app's calls,
// on the same endpoint, never show.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUANTILE_ACCURACY } from "../../schemas";
import { createApp, getUrlTemplates, parseUrlTemplateLines } from "../app/db/apps.server";
import type { EndpointView } from "../app/queries/network-endpoint.server";
import { decodeEndpoint, encodeEndpoint, pathOf, type EndpointKey } from "../app/queries/network-filters";
import type { EndpointRow, NetworkView } from "../app/queries/network.server";
import * as endpointPage from "../app/routes/apps.$app.network.$endpoint";
import * as list from "../app/routes/apps.$app.network._index";
import * as templatesPage from "../app/routes/apps.$app.network.templates";
import * as listCsv from "../app/routes/apps.$app.network[.csv]";
import { templatePath } from "../../workers/ingest/url-template";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let owner: Person;
let developer: Person;
let viewer: Person;
let orgId = "";
const APP = "app_net";
const base = Math.floor((Date.now() - 3 * 3600_000) / 1000) * 1000;
const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
let seq = 0;

/** A network call as the edge stores it. */
function call(fields: Record<string, string | number>, url = ""): Record<string, string | number> {
  return {
    app_id: APP,
    type: "network",
    message_id: `n${String(++seq).padStart(4, "0")}`,
    received_at: String(fields.timestamp),
    event: String(fields.net_method ?? "GET"),
    net_method: "GET",
    net_host: "api.example.com",
    platform: "web",
    properties: JSON.stringify({ request: { method: fields.net_method ?? "GET", url } }),
    ...fields,
  };
}

const A: EndpointKey = { method: "GET", host: "api.example.com", template: "/orders/:id" };
const B: EndpointKey = { method: "POST", host: "api.example.com", template: "/checkout" };
const C: EndpointKey = { method: "GET", host: "cdn.example.com", template: "/img/:hash" };
// A template with every character that could break a URL segment.
const D: EndpointKey = { method: "GET", host: "api.example.com", template: "/search/a b/%2F?x=ü&y=#z" };
const E: EndpointKey = { method: "GET", host: "api.example.com", template: "/legacy" };

/** Endpoint A's i-th call (1..40): its status and outcome, from the plan in beforeAll. */
function aOutcome(i: number): { status: number; outcome: string } {
  if (i <= 30) return { status: 200, outcome: "ok" };
  if (i <= 34) return { status: 404, outcome: "client_error" };
  if (i <= 37) return { status: 500, outcome: "server_error" };
  if (i <= 39) return { status: 0, outcome: "failed" };
  return { status: 0, outcome: "timeout" };
}

beforeAll(async () => {
  h = await startHarness();
  const org = await newOrg(h, "Networked");
  orgId = org.orgId;
  owner = org.owner;
  developer = await newMember(h, orgId, "developer");
  viewer = await newMember(h, orgId, "viewer");
  await createApp(h.db, orgId, { id: APP, name: "Networked" });
  await createApp(h.db, orgId, { id: "app_other", name: "Other" });
  await h.insertEvents([
    // A: 40 calls taking 10, 20 … 400 ms. Odd calls from web on 1.0, even ones from iOS on 1.1.
    // 1–30 ok; 31–34 404; 35–37 500; 38–39 failed without an answer; 40 timed out.
    // Each sends 100 bytes and receives 1,000. Identified users on even calls, anonymous on odd.
    ...Array.from({ length: 40 }, (_, k) => {
      const i = k + 1;
      const { status, outcome } = aOutcome(i);
      return call(
        {
          timestamp: at(i * 10),
          net_path: `/orders/${1000 + i}`,
          net_template: A.template,
          net_status: status,
          net_outcome: outcome,
          duration_ms: i * 10,
          net_request_bytes: 100,
          net_response_bytes: 1000,
          platform: i % 2 === 0 ? "ios" : "web",
          app_version: i % 2 === 0 ? "1.1" : "1.0",
          user_id: i % 2 === 0 ? `u${i}` : "",
          anonymous_id: `a${i}`,
          session_id: `s${i}`,
          path: "/cart",
        },
        `https://api.example.com/orders/${1000 + i}?token=[redacted]`,
      );
    }),
    // B: 25 slow calls, all ok, taking 1,000, 1,100 … 3,400 ms; sizes not reported.
    ...Array.from({ length: 25 }, (_, i) =>
      call({ timestamp: at(500 + i), net_method: "POST", net_path: "/checkout", net_template: B.template, net_status: 200, net_outcome: "ok", duration_ms: 1000 + 100 * i, app_version: "1.0" }),
    ),
    // C: one call, failed and slow: worst on both counts, but too few calls for the worst lists.
    call({ timestamp: at(600), net_host: C.host, net_path: "/img/3f9a2b1c", net_template: C.template, net_status: 0, net_outcome: "failed", duration_ms: 9000 }),
    // D: an ok call and a 503 from an identified user.
    call({ timestamp: at(700), net_path: "/search", net_template: D.template, net_status: 200, net_outcome: "ok", duration_ms: 50 }),
    call({ timestamp: at(701), net_path: "/search", net_template: D.template, net_status: 503, net_outcome: "server_error", duration_ms: 70, user_id: "u-d", session_id: "s-d" }),
    // E: stored before templates and outcomes: grouped by its path, its outcome read from the status.
    call({ timestamp: at(800), net_path: "/legacy", net_status: 502, duration_ms: 30 }),
    // Another app, on A's endpoint: seven 500s that must never count.
    ...Array.from({ length: 7 }, (_, i) =>
      call({ app_id: "app_other", timestamp: at(20 + i), net_path: "/orders/1", net_template: A.template, net_status: 500, net_outcome: "server_error", duration_ms: 99_000, user_id: "stranger" }),
    ),
  ]);
}, 120_000);

afterAll(async () => h?.close());

type Loader = (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;

async function get<T>(mod: { loader: unknown }, path: string, params: Record<string, string>, who: Person = owner): Promise<{ status: number; data: T; res: Response }> {
  const loader = mod.loader as Loader;
  const res = await run(() => loader({ request: browserRequest(path, { session: who.session, cookie: `__org=${orgId}` }), params, context: h.context }));
  return { status: res.status, data: res.status === 200 && res.headers.get("content-type")?.includes("json") ? ((await res.clone().json()) as T) : (undefined as T), res };
}

interface ListData {
  view: NetworkView | null;
  options: { platforms: string[]; releases: string[]; hosts: string[]; methods: string[] } | null;
  error: string | null;
}

async function network(query: string): Promise<NetworkView> {
  const { status, data } = await get<ListData>(list, `/apps/${APP}/network?${query}`, { app: APP });
  expect(status).toBe(200);
  expect(data.error).toBeNull();
  if (!data.view) throw new Error("no view");
  return data.view;
}

const key = (e: EndpointKey): string => `${e.method} ${e.host}${e.template}`;
const keys = (rows: readonly EndpointRow[]): string[] => rows.map(key);
const row = (rows: readonly EndpointRow[], e: EndpointKey): EndpointRow | undefined => rows.find((r) => key(r) === key(e));

/** Within the rollups' accuracy of the nearest-rank percentile: the value at rank ⌈p·n⌉ of the sorted values. */
function expectQuantile(got: number | null, want: number): void {
  expect(got).not.toBeNull();
  expect(Math.abs((got ?? 0) - want) / want).toBeLessThanOrEqual(QUANTILE_ACCURACY);
}

describe("network page", () => {
  it("lists each endpoint with its calls, error split, percentiles and sizes", async () => {
    const view = await network("range=24h");
    expect(view.totals.calls).toBe(40 + 25 + 1 + 2 + 1);
    expect(view.endpointCount).toBe(5);
    const a = row(view.endpoints, A);
    expect(a).toMatchObject({ calls: 40, errors: 10, clientErrors: 4, serverErrors: 3, failed: 2, timeouts: 1, errorRate: 0.25, avgRequestBytes: 100, avgResponseBytes: 1000 });
    // Sorted 10 … 400, nearest rank ⌈p·n⌉: p50 the 20th, 200; p95 the 38th, 380; p99 the 40th, 400.
    expectQuantile(a?.p50 ?? null, 200);
    expectQuantile(a?.p95 ?? null, 380);
    expectQuantile(a?.p99 ?? null, 400);
    const b = row(view.endpoints, B);
    expect(b).toMatchObject({ calls: 25, errors: 0, errorRate: 0, avgRequestBytes: 0, avgResponseBytes: 0 });
    // Sorted 1,000 … 3,400: the 13th, 24th and 25th.
    expectQuantile(b?.p50 ?? null, 2200);
    expectQuantile(b?.p95 ?? null, 3300);
    expectQuantile(b?.p99 ?? null, 3400);
    expect(row(view.endpoints, C)).toMatchObject({ calls: 1, failed: 1, errorRate: 1 });
    expect(row(view.endpoints, D)).toMatchObject({ calls: 2, serverErrors: 1, errorRate: 0.5 });
    // A row from before outcomes were stored: 502 is a server error.
    expect(row(view.endpoints, E)).toMatchObject({ calls: 1, serverErrors: 1, errorRate: 1 });
  });

  it("sorts by calls, error rate and p95, from the URL", async () => {
    // Ties keep method, host and template order: E (api.example.com) before C (cdn.example.com).
    expect(keys((await network("range=24h")).endpoints)).toEqual([A, B, D, E, C].map(key));
    expect(keys((await network("range=24h&sort=errors")).endpoints)).toEqual([E, C, D, A, B].map(key));
    expect(keys((await network("range=24h&sort=p95")).endpoints)).toEqual([C, B, A, D, E].map(key));
    // An unknown sort is the default.
    expect(keys((await network("range=24h&sort=bogus")).endpoints)).toEqual([A, B, D, E, C].map(key));
  });

  it("lists the worst endpoints only among those with enough calls", async () => {
    const view = await network("range=24h");
    // C fails every call and is slowest, E fails its one call: neither has 20 calls. B has no errors.
    expect(keys(view.worstByErrors)).toEqual([key(A)]);
    expect(keys(view.worstByLatency)).toEqual([key(B), key(A)]);
  });

  it("draws calls, errors and latency over time, adding up to the totals", async () => {
    const view = await network("range=24h");
    expect(view.series.reduce((s, p) => s + p.calls, 0)).toBe(69);
    expect(view.series.reduce((s, p) => s + p.errors, 0)).toBe(10 + 1 + 1 + 1);
    expect(view.series.every((p) => p.p95 !== null && p.p50 !== null)).toBe(true);
    // The error rate chart splits by outcome, each bucket's parts adding up to its errors.
    expect(view.series.every((p) => p.clientErrors + p.serverErrors + p.failed + p.timeouts === p.errors)).toBe(true);
    expect(view.series.reduce((s, p) => s + p.clientErrors, 0)).toBe(view.totals.clientErrors);
    expect(view.series.reduce((s, p) => s + p.timeouts, 0)).toBe(view.totals.timeouts);
    expect(view.series.reduce((s, p) => s + p.avgResponseBytes * p.calls, 0)).toBeCloseTo(view.totals.avgResponseBytes * view.totals.calls, 6);
  });

  it("filters by platform, release, host and method", async () => {
    const ios = await network("range=24h&platform=ios");
    expect(keys(ios.endpoints)).toEqual([key(A)]);
    // iOS made the even calls, 20 … 400 ms: p50 the 10th, 200; p95 the 19th, 380; errors 32, 34, 36, 38, 40.
    expect(ios.endpoints[0]).toMatchObject({ calls: 20, clientErrors: 2, serverErrors: 1, failed: 1, timeouts: 1, errorRate: 0.25 });
    expectQuantile(ios.endpoints[0]?.p50 ?? null, 200);
    expectQuantile(ios.endpoints[0]?.p95 ?? null, 380);
    const release = await network("range=24h&release=1.0");
    expect(keys(release.endpoints)).toEqual([key(B), key(A)]);
    expect(row(release.endpoints, A)).toMatchObject({ calls: 20, clientErrors: 2, serverErrors: 2, failed: 1, timeouts: 0 });
    expect(keys((await network("range=24h&host=cdn.example.com")).endpoints)).toEqual([key(C)]);
    expect(keys((await network("range=24h&method=post")).endpoints)).toEqual([key(B)]);
    const none = await network("range=24h&platform=android");
    expect(none.totals.calls).toBe(0);
    expect(none.endpoints).toEqual([]);
  });

  it("offers the platforms, releases, hosts and methods of the range, busiest first", async () => {
    const { data } = await get<ListData>(list, `/apps/${APP}/network?range=24h`, { app: APP });
    expect(data.options).toEqual({ platforms: ["web", "ios"], releases: ["1.0", "1.1"], hosts: ["api.example.com", "cdn.example.com"], methods: ["GET", "POST"] });
  });

  it("shows nothing of another app's calls, even on the same endpoint", async () => {
    const other = await get<ListData>(list, `/apps/app_other/network?range=24h`, { app: "app_other" });
    expect(other.data.view?.totals.calls).toBe(7);
    const view = await network("range=24h");
    expect(view.totals.p99).toBeLessThan(99_000);
    expect(view.totals.serverErrors).toBe(3 + 1 + 1);
  });

  it("exports the endpoints table as CSV in the page's order, for roles that may export", async () => {
    const { status, res } = await get<unknown>(listCsv, `/apps/${APP}/network.csv?range=24h&sort=errors`, { app: APP });
    expect(status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("method,host,template,calls,error_rate,client_errors,server_errors,failed,timeouts,p50_ms,p95_ms,p99_ms,avg_request_bytes,avg_response_bytes");
    expect(lines.slice(1).map((l) => l.split(",").slice(0, 3).join(" "))).toEqual(["GET api.example.com /legacy", "GET cdn.example.com /img/:hash", "GET api.example.com /search/a b/%2F?x=ü&y=#z", "GET api.example.com /orders/:id", "POST api.example.com /checkout"]);
    const a = lines.find((l) => l.startsWith("GET,api.example.com,/orders/:id,"))?.split(",") ?? [];
    expect(a.slice(3, 9)).toEqual(["40", "0.25", "4", "3", "2", "1"]);
    expect(a.slice(12)).toEqual(["100", "1000"]);
    expect((await get<unknown>(listCsv, `/apps/${APP}/network.csv?range=24h`, { app: APP }, viewer)).status).toBe(403);
  });
});

describe("endpoint page", () => {
  const open = async (e: EndpointKey, query = "range=24h", who: Person = owner) => {
    const endpoint = encodeEndpoint(e);
    return get<{ view: EndpointView | null; endpoint: EndpointKey; error: string | null }>(endpointPage, `/apps/${APP}/network/${endpoint}?${query}`, { app: APP, endpoint }, who);
  };

  it("round-trips any method, host and template through its URL segment", () => {
    for (const e of [A, D, { method: "", host: "", template: "" }, { method: "PATCH", host: "h", template: "/ünïcode/日本/😀/..//?#%" }]) {
      const segment = encodeEndpoint(e);
      expect(segment).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeEndpoint(segment)).toEqual(e);
    }
    expect(decodeEndpoint("templates")).toBeNull();
    expect(decodeEndpoint("not base64!")).toBeNull();
    expect(decodeEndpoint(encodeEndpoint(A).slice(0, -3))).toBeNull();
  });

  it("shows the status codes with how each call ended, and the calls by release and platform", async () => {
    const { status, data } = await open(A);
    expect(status).toBe(200);
    const view = data.view;
    expect(view?.totals).toMatchObject({ calls: 40, errorRate: 0.25 });
    expect(view?.statuses).toEqual([
      { status: 200, outcome: "ok", calls: 30 },
      { status: 404, outcome: "client_error", calls: 4 },
      { status: 500, outcome: "server_error", calls: 3 },
      { status: 0, outcome: "failed", calls: 2 },
      { status: 0, outcome: "timeout", calls: 1 },
    ]);
    // Web on 1.0 made the odd calls (10, 30 … 390 ms: p95 the 19th, 370), iOS on 1.1 the even ones (380).
    expect(view?.releases.map((r) => [r.key, r.calls, r.errorRate])).toEqual([
      ["1.0", 20, 0.25],
      ["1.1", 20, 0.25],
    ]);
    expectQuantile(view?.releases[0]?.p95 ?? null, 370);
    expectQuantile(view?.releases[1]?.p95 ?? null, 380);
    expect(view?.platforms.map((r) => r.key)).toEqual(["ios", "web"]);
    expectQuantile(view?.platforms.find((p) => p.key === "web")?.p95 ?? null, 370);
  });

  it("lists the recent failing calls newest first, with the stored URL, page, user and session", async () => {
    const failing = (await open(A)).data.view?.failing ?? [];
    expect(failing.map((c) => c.url)).toEqual([40, 39, 38, 37, 36, 35, 34, 33, 32, 31].map((i) => `https://api.example.com/orders/${1000 + i}?token=[redacted]`));
    expect(failing[0]).toMatchObject({ ts: Date.parse(at(400)), status: 0, outcome: "timeout", durationMs: 400, page: "/cart", userKey: "u40", identified: true, sessionId: "s40", release: "1.1", platform: "ios" });
    // An anonymous user links to their profile by the anonymous id.
    expect(failing[1]).toMatchObject({ status: 0, outcome: "failed", userKey: "a39", identified: false, sessionId: "s39" });
    expect(failing[6]).toMatchObject({ status: 404, outcome: "client_error" });
    // Filters narrow the failing calls too.
    const web = (await open(A, "range=24h&platform=web")).data.view;
    expect(web?.failing.map((c) => c.userKey)).toEqual(["a39", "a37", "a35", "a33", "a31"]);
    expect(web?.totals.calls).toBe(20);
  });

  it("opens an endpoint whose template holds URL-breaking characters, and one stored before outcomes", async () => {
    const d = await open(D);
    expect(d.status).toBe(200);
    expect(d.data.endpoint).toEqual(D);
    expect(d.data.view?.failing).toMatchObject([{ status: 503, outcome: "server_error", userKey: "u-d", identified: true, sessionId: "s-d" }]);
    const e = (await open(E)).data.view;
    expect(e?.statuses).toEqual([{ status: 502, outcome: "server_error", calls: 1 }]);
    expect(e?.failing).toMatchObject([{ status: 502, outcome: "server_error" }]);
  });

  it("answers 404 for a segment that names no endpoint, and shows no call of another app", async () => {
    const bad = await get<unknown>(endpointPage, `/apps/${APP}/network/nope!`, { app: APP, endpoint: "nope!" });
    expect(bad.status).toBe(404);
    const other = await get<{ view: EndpointView | null }>(endpointPage, `/apps/app_other/network/${encodeEndpoint(A)}?range=24h`, { app: "app_other", endpoint: encodeEndpoint(A) });
    expect(other.data.view?.totals.calls).toBe(7);
    expect(other.data.view?.failing.every((c) => c.userKey === "stranger")).toBe(true);
    const mine = (await open(A)).data.view;
    expect(mine?.failing.some((c) => c.userKey === "stranger")).toBe(false);
  });

  it("is readable by viewers", async () => {
    expect((await open(A, "range=24h", viewer)).status).toBe(200);
  });
});

describe("URL templates page", () => {
  const save = (who: Person, templates: string) =>
    run(() =>
      templatesPage.action({
        request: browserRequest(`/apps/${APP}/network/templates`, { session: who.session, cookie: `__org=${orgId}`, form: { intent: "save", templates } }),
        params: { app: APP },
        context: h.context,
      }),
    );
  const page = (who: Person, query = "") => get<{ templates: string[]; canEdit: boolean; preview: { path: string; template: string; matched: string | null } | null }>(templatesPage, `/apps/${APP}/network/templates${query}`, { app: APP }, who);

  it("saves a list typed one a line, in order, and says when it applies", async () => {
    const res = await save(developer, "  /api/orgs/:org/projects/:project \r\n\r\n/static/**\n/api/v1/reports/*\n");
    expect(res.status).toBe(200);
    expect((await bodyOf<{ ok: string }>(res)).ok).toMatch(/3 URL templates saved\. The edge applies them to calls received after the change \(within a minute\)/);
    expect(await getUrlTemplates(h.db, orgId, APP)).toEqual(["/api/orgs/:org/projects/:project", "/static/**", "/api/v1/reports/*"]);
    const seen = await page(owner);
    expect(seen.data).toMatchObject({ templates: ["/api/orgs/:org/projects/:project", "/static/**", "/api/v1/reports/*"], canEdit: true });
  });

  it("explains the syntax with examples that hold", () => {
    for (const [template, path, grouped] of templatesPage.TEMPLATE_EXAMPLES) expect(templatePath(path, [template])).toBe(grouped);
  });

  it("previews a URL or path's template under the saved list", async () => {
    const byOwn = (await page(owner, `?preview=${encodeURIComponent("https://api.example.com/api/orgs/acme/projects/web?page=2#top")}`)).data.preview;
    expect(byOwn).toEqual({ input: "https://api.example.com/api/orgs/acme/projects/web?page=2#top", path: "/api/orgs/acme/projects/web", template: "/api/orgs/:org/projects/:project", matched: "/api/orgs/:org/projects/:project" });
    // `*` keeps the segment the automatic template would collapse.
    expect((await page(owner, "?preview=/api/v1/reports/2024")).data.preview).toMatchObject({ template: "/api/v1/reports/2024", matched: "/api/v1/reports/*" });
    expect((await page(owner, "?preview=orders/1234?x=1")).data.preview).toMatchObject({ path: "/orders/1234", template: "/orders/:id", matched: null });
    expect((await page(owner)).data.preview).toBeNull();
  });

  it("refuses a list with a bad line, naming each, and keeps what was stored", async () => {
    const res = await save(owner, "/ok/:id\norders/:id\n/a/**/b\n/ok/:id\n/has space");
    expect(res.status).toBe(400);
    const body = await bodyOf<{ error: string; text: string }>(res);
    expect(body.error).toMatch(/^Nothing saved\./);
    expect(body.error).toContain("line 2 (orders/:id): a template is a path starting with /");
    expect(body.error).toContain("line 3 (/a/**/b): ** may only end a template");
    expect(body.error).toContain("line 4 repeats line 1");
    expect(body.error).toContain("line 5 (/has space)");
    // The form gets back what was typed, to fix it.
    expect(body.text).toBe("/ok/:id\norders/:id\n/a/**/b\n/ok/:id\n/has space");
    expect(await getUrlTemplates(h.db, orgId, APP)).toEqual(["/api/orgs/:org/projects/:project", "/static/**", "/api/v1/reports/*"]);
    expect(parseUrlTemplateLines(Array.from({ length: 101 }, (_, i) => `/p${i}`).join("\n"))).toEqual({ error: "An app has at most 100 URL templates; this list has 101." });
  });

  it("shows the list to viewers read-only and refuses their changes; checks CSRF", async () => {
    const seen = await page(viewer);
    expect(seen.status).toBe(200);
    expect(seen.data).toMatchObject({ canEdit: false, templates: ["/api/orgs/:org/projects/:project", "/static/**", "/api/v1/reports/*"] });
    expect((await save(viewer, "/x")).status).toBe(403);
    const forged = new Request(`http://127.0.0.1:8788/apps/${APP}/network/templates`, {
      method: "POST",
      headers: { cookie: `__csrf=${"ef".repeat(24)}; __session=${owner.session}; __org=${orgId}`, origin: "http://127.0.0.1:8788" },
      body: new URLSearchParams({ csrf: "0".repeat(64), intent: "save", templates: "/x" }),
    });
    expect((await run(() => templatesPage.action({ request: forged, params: { app: APP }, context: h.context }))).status).toBe(403);
    expect(await getUrlTemplates(h.db, orgId, APP)).toHaveLength(3);
  });

  it("empties the list with an empty form", async () => {
    const res = await save(owner, "\n");
    expect((await bodyOf<{ ok: string }>(res)).ok).toMatch(/^No URL templates now/);
    expect(await getUrlTemplates(h.db, orgId, APP)).toEqual([]);
  });
});

describe("paths typed in the preview", () => {
  it("takes a URL's path, or what was typed without query and fragment", () => {
    expect(pathOf("https://x.example/a/b?c=1")).toBe("/a/b");
    expect(pathOf("/a/b#frag")).toBe("/a/b");
    expect(pathOf("a/b")).toBe("/a/b");
  });
});
