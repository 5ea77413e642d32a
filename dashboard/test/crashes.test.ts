// The crash issues list and issue page over hand-worked crashes in the real local ClickHouse
// (through the crash_issues_hourly view) and D1 states: counts, users, first and last seen,
// sorts, every filter, the status filter, paging, CSV, the issue page's stack, tags,
// breadcrumbs and users, dropped counts, and no other app's crashes.
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setIssueState } from "../app/db/crash-issues.server";
import { dashboardEnv } from "../app/env.server";
import { frameLabel, splitStack } from "../app/queries/crash-detail";
import { parseIssueFilters } from "../app/queries/crash-filters";
import { listIssues, type IssueRow } from "../app/queries/crashes.server";
import type { CrashEvent, IssueSummary, TagValue, AffectedUser } from "../app/queries/crash-issue.server";
import type { TimelineEvent } from "../app/queries/sessions.server";
import { parseRange } from "../app/queries/range";
import * as issuePage from "../app/routes/apps.$app.crashes.$issue";
import * as list from "../app/routes/apps.$app.crashes._index";
import * as listCsv from "../app/routes/apps.$app.crashes[.csv]";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
const base = Math.floor((Date.now() - 3 * 3600_000) / 1000) * 1000;
const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
const THREE_DAYS_AGO = -3 * 86_400;
let seq = 0;

const FRAMES = [
  { function: "commitRoot", file: "https://cdn.example.com/react-dom.js", line: 1, column: 2, inApp: false },
  { function: "render", file: "src/cart.tsx", line: 10, column: 5, inApp: true, minified: { function: "a", file: "main.3f2a.js", line: 1, column: 234 } },
  { function: "main", file: "src/index.tsx", line: 3, column: 1 },
];

function crash(fields: Record<string, string | number>, props: Record<string, unknown> = {}): Record<string, string | number> {
  const { frames = [], rule, ...rest } = props as { frames?: unknown[]; rule?: string };
  return {
    app_id: "app_crash",
    type: "crash",
    message_id: `c${String(++seq).padStart(3, "0")}`,
    received_at: String(fields.timestamp),
    platform: "web",
    country: "DE",
    crash_fatal: 0,
    properties: JSON.stringify({ ...rest, error: { type: fields.crash_type, message: fields.crash_message, frames, ...(rule ? { rule } : {}) } }),
    ...fields,
  };
}

function ev(fields: Record<string, string | number>): Record<string, string | number> {
  return { app_id: "app_crash", message_id: `e${String(++seq).padStart(3, "0")}`, received_at: String(fields.timestamp), platform: "web", country: "DE", ...fields };
}

const A = { crash_fingerprint: "fp-a", crash_type: "TypeError", crash_message: "x is undefined" };

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [
    { id: "app_crash", name: "Crashy" },
    { id: "app_calm", name: "Calm" },
  ]);
  await h.insertEvents([
    // Issue A: 5 crashes, one of them 3 days ago (its first, in release 0.9); 4 in the last 24 h
    // from 3 users (u1 twice, anonymous an2, u3), releases 1.0 ×2 and 1.1 ×2, one fatal.
    crash({ ...A, user_id: "u0", session_id: "s0", app_version: "0.9", timestamp: at(THREE_DAYS_AGO) }, { frames: FRAMES }),
    crash({ ...A, user_id: "u1", session_id: "s1", app_version: "1.0", os_name: "macOS", browser: "Chrome", timestamp: at(100) }, { frames: FRAMES }),
    crash({ ...A, user_id: "u1", session_id: "s1", app_version: "1.0", os_name: "macOS", browser: "Chrome", timestamp: at(200) }, { frames: FRAMES }),
    crash(
      { ...A, anonymous_id: "an2", session_id: "s2", app_version: "1.1", platform: "ios", os_name: "iOS", os_version: "17.1", device_model: "iPhone15,2", country: "FR", crash_fatal: 1, timestamp: at(300) },
      { frames: FRAMES },
    ),
    // The latest of A: from Sentry (environment, breadcrumbs), grouped by a rule.
    crash(
      { ...A, user_id: "u3", anonymous_id: "an3", session_id: "s3", app_version: "1.1", os_name: "macOS", browser: "Firefox", timestamp: at(400) },
      { frames: FRAMES, rule: "r-checkout", environment: "production", breadcrumbs: [{ timestamp: base + 399_000, category: "ui.click", message: "Pay now" }] },
    ),
    // u3's session s3 around that crash: two events before it (breadcrumbs), one after, one from
    // over an hour before; the same user in another session; another user in the same session id.
    ev({ type: "page", path: "/long-ago", user_id: "u3", anonymous_id: "an3", session_id: "s3", timestamp: at(400 - 3700) }),
    ev({ type: "page", path: "/cart", user_id: "u3", anonymous_id: "an3", session_id: "s3", timestamp: at(390) }),
    ev({ type: "track", event: "Checkout", user_id: "u3", anonymous_id: "an3", session_id: "s3", timestamp: at(395) }),
    ev({ type: "track", event: "Elsewhere", user_id: "u3", anonymous_id: "an3", session_id: "s9", timestamp: at(398) }),
    ev({ type: "track", event: "Not u3", user_id: "u9", anonymous_id: "an9", session_id: "s3", timestamp: at(397) }),
    ev({ type: "page", path: "/after", user_id: "u3", anonymous_id: "an3", session_id: "s3", timestamp: at(410) }),
    // Issue B: a crash loop, 6 crashes of one user, no stack.
    ...[0, 1, 2, 3, 4, 5].map((i) =>
      crash({ crash_fingerprint: "fp-b", crash_type: "RangeError", crash_message: "too deep", user_id: "u4", session_id: "s4", app_version: "1.1", timestamp: at(1000 + i) }),
    ),
    // Issue C: one crash from staging on Android; its frame has no inApp flag and a host.
    crash(
      { crash_fingerprint: "fp-c", crash_type: "ChunkLoadError", crash_message: "chunk 7 failed", anonymous_id: "an5", app_version: "1.1", platform: "android", timestamp: at(50) },
      { frames: [{ function: "loadChunk", file: "https://cdn.example.com/static/chunk.js", line: 1 }], environment: "staging" },
    ),
    // D resolved (2 crashes), E ignored (1), F regressed (1).
    crash({ crash_fingerprint: "fp-d", crash_type: "Error", crash_message: "fixed", user_id: "u6", timestamp: at(500) }),
    crash({ crash_fingerprint: "fp-d", crash_type: "Error", crash_message: "fixed", user_id: "u6", timestamp: at(501) }),
    crash({ crash_fingerprint: "fp-e", crash_type: "Error", crash_message: "noise", user_id: "u6", timestamp: at(600) }),
    crash({ crash_fingerprint: "fp-f", crash_type: "Error", crash_message: "back again", user_id: "u7", timestamp: at(700) }),
    // Another app, with A's fingerprint and its own: never seen from app_crash.
    crash({ ...A, app_id: "app_calm", crash_message: "secret", user_id: "stranger", timestamp: at(150) }),
    crash({ app_id: "app_calm", crash_fingerprint: "fp-other", crash_type: "Error", crash_message: "other", user_id: "stranger", timestamp: at(150) }),
  ]);
  await setIssueState(h.db, "app_crash", "fp-d", { status: "resolved" }, "o@example.com");
  await setIssueState(h.db, "app_crash", "fp-e", { status: "ignored" }, "o@example.com");
  await h.db
    .prepare("INSERT INTO crash_issue_states (app_id, fingerprint, status, changed_at, changed_by) VALUES (?, ?, 'regressed', ?, '')")
    .bind("app_crash", "fp-f", Date.now())
    .run();
  await h.db
    .prepare("INSERT INTO crash_rules (id, app_id, position, action, match_type, label, created_at) VALUES ('r-checkout', 'app_crash', 0, 'merge', 'TypeError', 'Checkout crashes', ?)")
    .bind(Date.now())
    .run();
  // What the edge's crash caps dropped of B: 40 by the crash-loop cap, 5 by the app's budget.
  const writer = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter, clickhouse_settings: { date_time_input_format: "best_effort" } });
  await writer.insert({
    table: "crash_drops_hourly",
    format: "JSONEachRow",
    values: [
      { app_id: "app_crash", hour: at(0).slice(0, 13) + ":00:00Z", fingerprint: "fp-b", reason: "issue_cap", dropped: 40 },
      { app_id: "app_crash", hour: at(0).slice(0, 13) + ":00:00Z", fingerprint: "fp-b", reason: "app_cap", dropped: 5 },
      { app_id: "app_calm", hour: at(0).slice(0, 13) + ":00:00Z", fingerprint: "fp-b", reason: "issue_cap", dropped: 1000 },
    ],
  });
  await writer.close();
}, 120_000);

afterAll(async () => h?.close());

type Loader = (args: { request: Request; params: Record<string, string>; context: typeof h.context }) => Promise<unknown>;

async function get<T>(mod: { loader: unknown }, path: string, params: Record<string, string>): Promise<{ status: number; data: T }> {
  const loader = mod.loader as Loader;
  const res = await run(() => loader({ request: browserRequest(path, { session }), params, context: h.context }));
  return { status: res.status, data: res.status === 200 ? ((await res.json()) as T) : (undefined as T) };
}

type Row = IssueRow & { status: string };
interface ListData {
  page: { rows: Row[]; next: string | null } | null;
  options: { releases: string[]; platforms: string[]; environments: string[] } | null;
  error: string | null;
}

async function fingerprints(query: string): Promise<string[]> {
  const { status, data } = await get<ListData>(list, `/apps/app_crash/crashes?${query}`, { app: "app_crash" });
  expect(status).toBe(200);
  expect(data.error).toBeNull();
  return data.page?.rows.map((r) => r.fingerprint) ?? [];
}

describe("issues list", () => {
  it("shows each unresolved issue with its title, culprit, events, users, first and last seen, releases and platforms", async () => {
    const { data } = await get<ListData>(list, "/apps/app_crash/crashes?range=24h", { app: "app_crash" });
    const rows = data.page?.rows ?? [];
    // Unresolved and regressed, most events first: B 6, A 4, then F 1 and C 1 (ties: fingerprint, descending).
    expect(rows.map((r) => r.fingerprint)).toEqual(["fp-b", "fp-a", "fp-f", "fp-c"]);
    const a = rows.find((r) => r.fingerprint === "fp-a");
    expect(a).toMatchObject({
      type: "TypeError",
      message: "x is undefined",
      // The innermost in-app frame of the latest crash; React's frame is not the app's.
      culprit: "render (src/cart.tsx)",
      events: 4,
      users: 3,
      fatal: 1,
      // First seen is the first crash ever (3 days ago), outside the 24 h range; last seen at(400).
      firstSeenMs: Date.parse(at(THREE_DAYS_AGO)),
      lastSeenMs: Date.parse(at(400)),
      releases: ["1.0", "1.1"],
      platforms: ["ios", "web"],
      dropped: 0,
      status: "unresolved",
    });
    expect(a?.trend.reduce((s, n) => s + n, 0)).toBe(4);
    expect(rows.find((r) => r.fingerprint === "fp-b")).toMatchObject({ events: 6, users: 1, culprit: "", dropped: 45 });
    // A frame without the inApp flag is the app's own; the host is left out of the culprit.
    expect(rows.find((r) => r.fingerprint === "fp-c")?.culprit).toBe("loadChunk (/static/chunk.js)");
    expect(rows.find((r) => r.fingerprint === "fp-f")?.status).toBe("regressed");
    expect(data.options).toEqual({ releases: ["1.1", "1.0"], platforms: ["web", "android", "ios"], environments: ["production", "staging"] });
  });

  it("sorts by users, newest (first seen ever) and last seen", async () => {
    // Users: A 3, then B, C, F with 1 each (fingerprint, descending).
    expect(await fingerprints("range=24h&sort=users")).toEqual(["fp-a", "fp-f", "fp-c", "fp-b"]);
    // Newest: B first seen at(1000), F at(700), C at(50), A three days ago.
    expect(await fingerprints("range=24h&sort=newest")).toEqual(["fp-b", "fp-f", "fp-c", "fp-a"]);
    // Last seen: B at(1005), F at(700), A at(400), C at(50).
    expect(await fingerprints("range=24h&sort=last")).toEqual(["fp-b", "fp-f", "fp-a", "fp-c"]);
  });

  it("filters by status from the D1 states", async () => {
    expect(await fingerprints("range=24h&status=resolved")).toEqual(["fp-d"]);
    expect(await fingerprints("range=24h&status=ignored")).toEqual(["fp-e"]);
    expect(await fingerprints("range=24h&status=regressed")).toEqual(["fp-f"]);
    expect(await fingerprints("range=24h&status=all")).toEqual(["fp-b", "fp-a", "fp-d", "fp-f", "fp-e", "fp-c"]);
    // An unknown status is the default.
    expect(await fingerprints("range=24h&status=bogus")).toEqual(["fp-b", "fp-a", "fp-f", "fp-c"]);
  });

  it("filters by release, platform, environment and text, counting only the matching crashes", async () => {
    const { data } = await get<ListData>(list, "/apps/app_crash/crashes?range=24h&release=1.0", { app: "app_crash" });
    // Release 1.0: A's two crashes from u1.
    expect(data.page?.rows.map((r) => [r.fingerprint, r.events, r.users])).toEqual([["fp-a", 2, 1]]);
    expect(await fingerprints("range=24h&platform=ios")).toEqual(["fp-a"]);
    expect(await fingerprints("range=24h&platform=android")).toEqual(["fp-c"]);
    expect(await fingerprints("range=24h&environment=staging")).toEqual(["fp-c"]);
    expect(await fingerprints("range=24h&environment=production")).toEqual(["fp-a"]);
    // Text: in the message, in the type and message as the title reads, or in the culprit; any case.
    expect(await fingerprints("range=24h&q=CHUNK%207")).toEqual(["fp-c"]);
    expect(await fingerprints("range=24h&q=typeerror:%20x%20is")).toEqual(["fp-a"]);
    expect(await fingerprints("range=24h&q=cart.tsx")).toEqual(["fp-a"]);
    expect(await fingerprints("range=24h&q=cart.tsx&sort=newest")).toEqual(["fp-a"]);
    expect(await fingerprints("range=24h&q=nothing-like-this")).toEqual([]);
    expect(await fingerprints("range=24h&release=1.0&platform=ios")).toEqual([]);
  });

  it("reads the range: the crash three days ago counts in 7 days, not in 24 hours", async () => {
    const { data } = await get<ListData>(list, "/apps/app_crash/crashes?range=7d", { app: "app_crash" });
    expect(data.page?.rows.find((r) => r.fingerprint === "fp-a")).toMatchObject({ events: 5, users: 4, releases: ["0.9", "1.0", "1.1"] });
  });

  it("pages through the list without gaps or repeats", async () => {
    const cfg = dashboardEnv(h.env).clickhouse;
    const range = parseRange(new URL("http://x/?range=24h"));
    const filters = parseIssueFilters(new URL("http://x/?status=all&sort=users"));
    const seen: string[] = [];
    let after: { ts: number; id: string } | null = null;
    for (let i = 0; i < 5; i++) {
      const page = await listIssues(cfg, "app_crash", range, filters, new Map(), after, 2);
      seen.push(...page.rows.map((r) => r.fingerprint));
      if (!page.next) break;
      const [ts, id] = page.next.split(/_(.*)/s);
      after = { ts: Number(ts), id: id ?? "" };
    }
    // Users: A 3, then every other issue 1 (fingerprint, descending).
    expect(seen).toEqual(["fp-a", "fp-f", "fp-e", "fp-d", "fp-c", "fp-b"]);
    // And through the route: the first page's link leads to the rest.
    const first = await get<ListData>(list, "/apps/app_crash/crashes?range=24h&status=all", { app: "app_crash" });
    expect(first.data.page?.next).toBeNull();
  });

  it("exports the filtered list as CSV, in the list's order", async () => {
    const res = await run(() =>
      (listCsv.loader as Loader)({ request: browserRequest("/apps/app_crash/crashes.csv?range=24h&status=all", { session }), params: { app: "app_crash" }, context: h.context }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain("app_crash-crashes-24h.csv");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("fingerprint,status,type,message,culprit,events,users,fatal,dropped,first_seen,last_seen,releases,platforms");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["fp-b", "fp-a", "fp-d", "fp-f", "fp-e", "fp-c"]);
    expect(lines[2]).toBe(`fp-a,unresolved,TypeError,x is undefined,render (src/cart.tsx),4,3,1,0,${at(THREE_DAYS_AGO)},${at(400)},1.0 1.1,ios web`);
    expect(lines[3]?.startsWith("fp-d,resolved,")).toBe(true);
  });

  it("never shows another app's crashes", async () => {
    const all = await fingerprints("range=24h&status=all");
    expect(all).not.toContain("fp-other");
    const { data } = await get<ListData>(list, "/apps/app_calm/crashes?range=24h", { app: "app_calm" });
    // The other app's own issue A: its one crash, its message; and none of app_crash's drops.
    expect(data.page?.rows.map((r) => [r.fingerprint, r.message, r.events, r.dropped])).toEqual([
      ["fp-other", "other", 1, 0],
      ["fp-a", "secret", 1, 0],
    ]);
  });
});

interface IssueData {
  issue: IssueSummary | null;
  series: Array<{ t: number; n: number }>;
  tags: Record<string, TagValue[]> | null;
  events: { latest: CrashEvent | null; first: CrashEvent | null } | null;
  users: AffectedUser[];
  dropped: { issueCap: number; appCap: number } | null;
  trail: TimelineEvent[];
  rule: { id: string; label: string; exists: boolean } | null;
  state: { status: string } | null;
  history: Array<{ status: string; detail: string }>;
  canUpdate: boolean;
  error: string | null;
}

describe("issue page", () => {
  const page = (fp: string, app = "app_crash", range = "24h") => get<IssueData>(issuePage, `/apps/${app}/crashes/${fp}?range=${range}`, { app, issue: fp });

  it("sums the issue up: events and users in the range, first seen ever and in which release, all-time total", async () => {
    const { status, data } = await page("fp-a");
    expect(status).toBe(200);
    expect(data.error).toBeNull();
    expect(data.issue).toMatchObject({
      type: "TypeError",
      message: "x is undefined",
      culprit: "render (src/cart.tsx)",
      events: 4,
      users: 3,
      fatal: 1,
      totalEvents: 5,
      firstRelease: "0.9",
      firstSeenMs: Date.parse(at(THREE_DAYS_AGO)),
      lastSeenMs: Date.parse(at(400)),
    });
    expect(data.series.reduce((s, p) => s + p.n, 0)).toBe(4);
    expect(data.canUpdate).toBe(true);
  });

  it("shows the latest crash with in-app frames first, the rest folded, and the minified original of a mapped frame", async () => {
    const { data } = await page("fp-a");
    const latest = data.events?.latest;
    expect(latest).toMatchObject({ messageId: expect.stringMatching(/^c/), release: "1.1", browser: "Firefox", sessionId: "s3", userId: "u3" });
    expect(latest?.ts).toBe(Date.parse(at(400)));
    expect(latest?.detail.frames.map((f) => f.function)).toEqual(["commitRoot", "render", "main"]);
    expect(latest?.detail.frames[1]?.minified).toEqual({ function: "a", file: "main.3f2a.js", line: 1, column: 234 });
    expect(latest?.detail.environment).toBe("production");
    // As the page shows it: the app's own frames, innermost first; React's folded away.
    const { shown, folded } = splitStack(latest?.detail.frames ?? []);
    expect(shown.map(frameLabel)).toEqual(["render (src/cart.tsx:10:5)", "main (src/index.tsx:3:1)"]);
    expect(folded.map(frameLabel)).toEqual(["commitRoot (https://cdn.example.com/react-dom.js:1:2)"]);
    // A stack with no frame of the app's own is shown whole rather than hidden.
    expect(splitStack(folded)).toEqual({ shown: folded, folded: [] });
    // The representative crash: the first of the range.
    expect(data.events?.first?.ts).toBe(Date.parse(at(100)));
    expect(data.rule).toEqual({ id: "r-checkout", label: "Checkout crashes", exists: true });
  });

  it("breaks tags down with counts and shares of the range's crashes", async () => {
    const { data } = await page("fp-a");
    // 4 crashes: releases 1.0 ×2, 1.1 ×2; DE ×3, FR ×1; macOS ×3, iOS 17.1 ×1; Chrome ×2, Firefox ×1 (one sent none).
    expect(data.tags?.release).toEqual([
      { value: "1.0", n: 2, share: 0.5 },
      { value: "1.1", n: 2, share: 0.5 },
    ]);
    expect(data.tags?.country).toEqual([
      { value: "DE", n: 3, share: 0.75 },
      { value: "FR", n: 1, share: 0.25 },
    ]);
    expect(data.tags?.os).toEqual([
      { value: "macOS", n: 3, share: 0.75 },
      { value: "iOS 17.1", n: 1, share: 0.25 },
    ]);
    expect(data.tags?.browser).toEqual([
      { value: "Chrome", n: 2, share: 0.5 },
      { value: "Firefox", n: 1, share: 0.25 },
    ]);
    expect(data.tags?.device).toEqual([{ value: "iPhone15,2", n: 1, share: 0.25 }]);
  });

  it("shows as breadcrumbs only the user's events of that session in the hour before the crash, and Sentry's", async () => {
    const { data } = await page("fp-a");
    expect(data.trail.map((e) => e.path || e.event)).toEqual(["/cart", "Checkout"]);
    expect(data.events?.latest?.detail.breadcrumbs).toEqual([{ ts: base + 399_000, category: "ui.click", level: "", message: "Pay now", data: "" }]);
  });

  it("lists the affected users, most crashes first", async () => {
    const { data } = await page("fp-a");
    expect(data.users).toEqual([
      { key: "u1", identified: true, crashes: 2, lastMs: Date.parse(at(200)) },
      { key: "u3", identified: true, crashes: 1, lastMs: Date.parse(at(400)) },
      { key: "an2", identified: false, crashes: 1, lastMs: Date.parse(at(300)) },
    ]);
  });

  it("counts what the crash caps dropped", async () => {
    const { data } = await page("fp-b");
    expect(data.dropped).toEqual({ issueCap: 40, appCap: 5 });
    expect(data.issue?.culprit).toBe("");
    // In a crash loop, the session's earlier crashes are what happened before the latest.
    expect(data.trail.map((e) => e.detail)).toEqual(Array.from({ length: 5 }, () => "RangeError: too deep"));
  });

  it("answers 404 for an unknown fingerprint and for another app's issue", async () => {
    expect((await page("fp-nope")).status).toBe(404);
    expect((await page("fp-other")).status).toBe(404);
    // The other app's issue with A's fingerprint is its own: one crash, its message.
    const other = await page("fp-a", "app_calm");
    expect(other.data.issue).toMatchObject({ message: "secret", events: 1, users: 1, totalEvents: 1 });
    expect(other.data.users.map((u) => u.key)).toEqual(["stranger"]);
  });

  it("resolving an issue from its page takes it out of the unresolved list and into its history", async () => {
    const res = await run(() =>
      issuePage.action({ request: browserRequest("/apps/app_crash/crashes/fp-c", { session, form: { intent: "resolve" } }), params: { app: "app_crash", issue: "fp-c" }, context: h.context }),
    );
    expect(res.status).toBe(200);
    expect(await fingerprints("range=24h")).toEqual(["fp-b", "fp-a", "fp-f"]);
    expect(await fingerprints("range=24h&status=resolved")).toEqual(["fp-d", "fp-c"]);
    const { data } = await page("fp-c");
    expect(data.state?.status).toBe("resolved");
    expect(data.history.map((e) => e.status)).toEqual(["resolved"]);
  });
});
