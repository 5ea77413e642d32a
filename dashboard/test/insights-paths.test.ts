// Paths over hand-worked fixture events in the real local ClickHouse: from a start and to an
// end, a repeated page counted once, the depth cut, a person's first session only, sessions or
// a time gap, an anonymous visitor who signs in mid-session as one person, the top paths and
// each column's top nodes with the rest as "other", and the people on a path in the users view.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardEnv } from "../app/env.server";
import { OTHER, parsePaths, runPaths, toPathsSearch, type PathsResult } from "../app/insights/paths.server";
import * as page from "../app/routes/apps.$app.insights.paths";
import * as users from "../app/routes/apps.$app.users._index";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
const DAY = 86_400_000;
const MIN = 60_000;
const D0 = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const NOW = D0 + 4 * DAY;
const at = (day: number, minute: number): string => new Date(D0 + day * DAY + 10 * 60 * MIN + minute * MIN).toISOString();
let seq = 0;

function view(user: string, anon: string, sessionId: string, ts: string, path: string): Record<string, string | number> {
  return { app_id: "app_paths", message_id: `p${++seq}`, type: "page", user_id: user, anonymous_id: anon, session_id: sessionId, timestamp: ts, received_at: ts, path, platform: "web" };
}
function track(user: string, sessionId: string, ts: string, event: string): Record<string, string | number> {
  return { app_id: "app_paths", message_id: `p${++seq}`, type: "track", event, user_id: user, anonymous_id: "", session_id: sessionId, timestamp: ts, received_at: ts, platform: "ios" };
}

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [{ id: "app_paths", name: "Paths" }]);
  await h.insertEvents([
    // u1: a long session with /pricing twice in a row, and a second session the next day.
    ...["/", "/pricing", "/pricing", "/signup", "/checkout", "/docs"].map((p, i) => view("u1", "", "s1", at(0, i), p)),
    view("u1", "", "s1b", at(1, 0), "/pricing"),
    view("u1", "", "s1b", at(1, 1), "/docs"),
    // u2: two pages as anonymous a2, identifies, then signs up in the same session.
    view("", "a2", "s2", at(0, 60), "/"),
    view("", "a2", "s2", at(0, 61), "/pricing"),
    { ...view("u2", "a2", "s2", at(0, 62), ""), type: "identify" },
    view("u2", "a2", "s2", at(0, 63), "/signup"),
    // u3: never on "/", reaches /signup through /docs.
    ...["/pricing", "/docs", "/pricing", "/signup"].map((p, i) => view("u3", "", "s3", at(0, 120 + i), p)),
    // u4: first session / → /docs; two days later / → /pricing → /signup.
    view("u4", "", "s4", at(0, 180), "/"),
    view("u4", "", "s4", at(0, 181), "/docs"),
    ...["/", "/pricing", "/signup"].map((p, i) => view("u4", "", "s4b", at(2, i), p)),
    // u5: "/" in the middle of a session.
    ...["/blog", "/", "/blog"].map((p, i) => view("u5", "", "s5", at(0, 240 + i), p)),
    // u6: no session id; / and /pricing, then /signup three hours later.
    view("u6", "", "", at(0, 300), "/"),
    view("u6", "", "", at(0, 305), "/pricing"),
    view("u6", "", "", at(0, 485), "/signup"),
    // u7: two orders, one page template, then help.
    { ...view("u7", "", "s7", at(0, 400), "/orders/1"), path_template: "/orders/:id" },
    { ...view("u7", "", "s7", at(0, 401), "/orders/2"), path_template: "/orders/:id" },
    view("u7", "", "s7", at(0, 402), "/help"),
    // Track events: twelve people open the app, then each one of ten features (Feature 1 three times).
    ...Array.from({ length: 12 }, (_, i) => [track(`t${i}`, `st${i}`, at(1, 100 + i), "Open"), track(`t${i}`, `st${i}`, at(1, 101 + i), `Feature ${i < 10 ? i + 1 : 1}`)]).flat(),
    // Another app with the same people: never counted.
    view("u1", "", "s1", at(0, 0), "/"),
  ].map((r, i, all) => (i === all.length - 1 ? { ...r, app_id: "app_noise" } : r)));
}, 180_000);

afterAll(async () => h?.close());

const cfg = () => dashboardEnv(h.env).clickhouse;
const paths = (query: string): Promise<PathsResult> => runPaths(cfg(), "app_paths", parsePaths(new URL(`http://x/?${query}`), NOW));
const ranked = (r: PathsResult): string[] => r.paths.map((p) => `${p.steps.join(" > ")}: ${p.people}`);
const column = (r: PathsResult, step: number): string[] => r.nodes.filter((n) => n.step === step).map((n) => `${n.label === OTHER ? "other" : n.label} ${n.people}/${n.ended}`);
const links = (r: PathsResult): string[] => r.links.map((l) => `${l.step}: ${l.from === OTHER ? "other" : l.from} > ${l.to === OTHER ? "other" : l.to} ${l.people}`);

describe("paths", () => {
  it("follows each person's first session from a start, repeats counted once, cut at the depth", async () => {
    const r = await paths("range=7d&kind=pages&start=%2F&depth=3");
    // u1: / /pricing /signup (cut at 3; /pricing twice is one step). u2, as a2 then u2, the same.
    // u3 never saw "/"; u4's first session: / /docs; u5: / /blog (from the middle); u6 has no session.
    expect(r.people).toBe(4);
    expect(ranked(r)).toEqual(["/ > /pricing > /signup: 2", "/ > /blog: 1", "/ > /docs: 1"]);
    expect(r.paths[0]?.share).toBe(0.5);
    expect(r.other).toEqual({ people: 0, paths: 0 });
    // Nodes as label people/ended there.
    expect(column(r, 0)).toEqual(["/ 4/0"]);
    expect(column(r, 1)).toEqual(["/pricing 2/0", "/blog 1/1", "/docs 1/1"]);
    expect(column(r, 2)).toEqual(["/signup 2/2"]);
    expect(links(r)).toEqual(["0: / > /pricing 2", "0: / > /blog 1", "0: / > /docs 1", "1: /pricing > /signup 2"]);
  });

  it("leads to an end: the steps before a person's first session that reaches it", async () => {
    const r = await paths("range=7d&kind=pages&end=%2Fsignup&depth=3");
    // u1 and u2: / /pricing /signup; u3: /docs /pricing /signup (the three before); u4's second session.
    expect(ranked(r)).toEqual(["/ > /pricing > /signup: 3", "/docs > /pricing > /signup: 1"]);
    expect(column(r, 2)).toEqual(["/signup 4/4"]);
  });

  it("names pages by their template, so two orders in a row are one step", async () => {
    const r = await paths("range=7d&kind=pages&start=%2Forders%2F%3Aid&depth=3");
    expect(ranked(r)).toEqual(["/orders/:id > /help: 1"]);
    expect(r.depth).toBe(3);
  });

  it("splits sequences at a time gap instead of sessions", async () => {
    const r = await paths("range=7d&kind=pages&start=%2F&depth=5&gap=60");
    // u6 counts now, /signup three hours later starting a sequence of its own; u1's path runs to
    // depth 5; u4's first burst is / /docs.
    expect(r.people).toBe(5);
    expect(ranked(r).sort()).toEqual(["/ > /blog: 1", "/ > /docs: 1", "/ > /pricing > /signup > /checkout > /docs: 1", "/ > /pricing > /signup: 1", "/ > /pricing: 1"]);
  });

  it("ranks the top paths with the rest as other, and folds each column past eight nodes", async () => {
    const r = await paths("range=7d&kind=events&start=Open&depth=2&top=3");
    // Twelve people: Open, then Feature 1 (three of them) or one of Features 2–10 (one each).
    expect(r.people).toBe(12);
    expect(ranked(r)).toEqual(["Open > Feature 1: 3", "Open > Feature 10: 1", "Open > Feature 2: 1"]);
    expect(r.other).toEqual({ people: 7, paths: 7 });
    // The eight busiest of step 2 (ties by name), then Features 8 and 9 as other.
    expect(column(r, 1)).toEqual(["Feature 1 3/3", ...["10", "2", "3", "4", "5", "6", "7"].map((n) => `Feature ${n} 1/1`), "other 2/2"]);
    expect(links(r)).toEqual(["0: Open > Feature 1 3", "0: Open > other 2", ...["10", "2", "3", "4", "5", "6", "7"].map((n) => `0: Open > Feature ${n} 1`)]);
  });

  it("keeps its definition in the URL and names what it ignored", () => {
    const def = parsePaths(new URL("http://x/?range=30d&kind=screens&start=Home&depth=5&gap=30&top=20&platform=ios&prop=plan:pro"), NOW);
    expect(def.problems).toEqual([]);
    expect(parsePaths(new URL(`http://x/?${toPathsSearch(def)}`), NOW)).toEqual(def);
    const bad = parsePaths(new URL("http://x/?kind=clicks&start=a&end=b&depth=9&gap=-1&top=0"), NOW);
    expect(bad).toMatchObject({ kind: "pages", start: "a", end: "", depth: 4, gap: 0, top: 10 });
    expect(bad.problems).toHaveLength(5);
  });
});

describe("paths page and the people on a path", () => {
  it("renders the page and lists a path's people in the users view, the anonymous visitor as the user they became", async () => {
    const res = await run(() => page.loader({ request: browserRequest("/apps/app_paths/insights/paths?range=7d&kind=pages&start=%2F&depth=3", { session }), params: { app: "app_paths" }, context: h.context }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: PathsResult | null; peopleLinks: string[] };
    expect(body.result?.people).toBe(4);
    const link = body.peopleLinks[0] ?? "";
    expect(link.startsWith("/apps/app_paths/users?")).toBe(true);
    const listed = await run(() => users.loader({ request: browserRequest(link, { session }), params: { app: "app_paths" }, context: h.context }));
    const out = (await listed.json()) as { page: { rows: Array<{ key: string }> }; onPath: { steps: string[] } | null };
    expect(out.onPath?.steps).toEqual(["/", "/pricing", "/signup"]);
    expect(out.page.rows.map((u) => u.key).sort()).toEqual(["u1", "u2"]);
  });
});
