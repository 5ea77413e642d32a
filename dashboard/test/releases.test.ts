// Release health over hand-worked fixtures in the real local ClickHouse: our SDK's sessions and
// Sentry's session updates and aggregates, inserted through the materialized views production uses.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ReleaseHealth, ReleasesView } from "../app/queries/releases.server";
import * as releasesCsv from "../app/routes/apps.$app.releases[.csv]";
import * as releasesPage from "../app/routes/apps.$app.releases";
import { browserRequest, ownerWithApps, run, startHarness, type Harness } from "./harness";

let h: Harness;
let session = "";
const APP = "app_rel";
// Every fixture in one hour two hours ago, so the chart's bucket holds the table's figures.
const HOUR = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
let n = 0;
const at = (ms: number) => new Date(ms).toISOString();

type Row = Record<string, string | number>;
function ev(fields: Row): Row {
  const ts = at(HOUR + 60_000 + ++n * 1000);
  return { app_id: APP, message_id: `m${n}`, timestamp: ts, received_at: ts, ...fields };
}
const ours = (user: string, sessionId: string, release: string, extra: Row = {}): Row => ev({ type: "track", event: "Tap", anonymous_id: user, session_id: sessionId, app_version: release, ...extra });
const crash = (user: string, sessionId: string, release: string, fingerprint: string, fatal: 0 | 1): Row =>
  ours(user, sessionId, release, { type: "crash", event: "", crash_type: "Error", crash_message: "boom", crash_fingerprint: fingerprint, crash_fatal: fatal });
const sentrySession = (sid: string, did: string, status: string): Row =>
  ev({ type: "track", event: "$session", anonymous_id: sid, session_id: sid, app_version: "2.0.0", properties: JSON.stringify({ sid, did, status, release: "2.0.0" }) });

beforeAll(async () => {
  h = await startHarness();
  session = await ownerWithApps(h, [{ id: APP, name: "Releases" }]);
  await h.insertEvents([
    // 1.0.0, our SDK. Users u1 u2 u3; sessions s1..s4; u2's session s2 ends in a fatal crash
    // (issue A); u3's crash in s4 is not fatal (issue B).
    ours("u1", "s1", "1.0.0", { type: "page", event: "", path: "/" }),
    ours("u1", "s1", "1.0.0"),
    ours("u2", "s2", "1.0.0"),
    crash("u2", "s2", "1.0.0", "fp_a", 1),
    ours("u2", "s3", "1.0.0"),
    crash("u3", "s4", "1.0.0", "fp_b", 0),
    // 2.0.0, Sentry. Session x1 (device d1) exits, x2 (d2) crashes, x3 (d1) is still ok;
    // a server SDK's aggregate counts 5 exited, 1 errored and 2 crashed sessions; d2's crash
    // arrives as a Sentry event without a session (issue C); u1 also tries 2.0.0 in session s5.
    sentrySession("x1", "d1", "ok"),
    sentrySession("x1", "d1", "exited"),
    sentrySession("x2", "d2", "ok"),
    sentrySession("x2", "d2", "crashed"),
    sentrySession("x3", "d1", "ok"),
    ev({ type: "track", event: "$sessions", anonymous_id: "sessions:2.0.0", app_version: "2.0.0", properties: JSON.stringify({ exited: 5, errored: 1, abnormal: 0, crashed: 2, release: "2.0.0" }) }),
    ev({ type: "crash", anonymous_id: "d2", app_version: "2.0.0", crash_type: "Error", crash_message: "boom", crash_fingerprint: "fp_c", crash_fatal: 1 }),
    ours("u1", "s5", "2.0.0"),
    // Issue A first crashed three days ago in 0.9.0: it is not new in the last 24 hours.
    { app_id: APP, message_id: "old", type: "crash", anonymous_id: "u9", session_id: "s9", app_version: "0.9.0", crash_fingerprint: "fp_a", crash_fatal: 1, timestamp: at(HOUR - 3 * 86_400_000), received_at: at(HOUR - 3 * 86_400_000) },
    // Another app's events never count.
    { app_id: "app_noise", message_id: "noise", type: "crash", anonymous_id: "z", session_id: "z", app_version: "1.0.0", crash_fingerprint: "fp_a", crash_fatal: 1, timestamp: at(HOUR + 1000), received_at: at(HOUR + 1000) },
  ]);
}, 120_000);

afterAll(async () => h?.close());

async function load(range: string): Promise<ReleasesView> {
  const res = await run(() => releasesPage.loader({ request: browserRequest(`/apps/${APP}/releases?range=${range}`, { session }), params: { app: APP }, context: h.context }));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { view: ReleasesView | null; error: string | null };
  expect(body.error).toBeNull();
  if (!body.view) throw new Error("no view");
  return body.view;
}

const byRelease = (view: ReleasesView, release: string): ReleaseHealth | undefined => view.releases.find((r) => r.release === release);

it("computes users, sessions, adoption and crash-free rates per release from both kinds of sessions", async () => {
  const view = await load("24h");
  // Users in the range: u1 u2 u3 d1 d2.
  expect(view.totalUsers).toBe(5);
  expect(view.releases.map((r) => r.release).sort()).toEqual(["1.0.0", "2.0.0"]);
  // 1.0.0: 3 users, 1 crashed (u2): 2/3 crash-free; 4 sessions, 1 crashed (s2): 3/4; adoption 3/5.
  expect(byRelease(view, "1.0.0")).toMatchObject({ users: 3, crashedUsers: 1, sessions: 4, crashedSessions: 1, crashes: 2, newIssues: 1 });
  expect(byRelease(view, "1.0.0")?.crashFreeUsers).toBeCloseTo(2 / 3, 6);
  expect(byRelease(view, "1.0.0")?.crashFreeSessions).toBeCloseTo(3 / 4, 6);
  expect(byRelease(view, "1.0.0")?.adoption).toBeCloseTo(3 / 5, 6);
  // 2.0.0: users d1, d2 (Sentry's device ids, also d2's crash) and u1 = 3; crashed: d2 = 1 → 2/3.
  // Sessions: x1 x2 x3 s5 = 4 plus the aggregate's 5 + 1 + 2 = 8 → 12; crashed: x2 plus the
  // aggregate's 2 → 3; crash-free 9/12. The crash is issue C's first: one new issue.
  expect(byRelease(view, "2.0.0")).toMatchObject({ users: 3, crashedUsers: 1, sessions: 12, crashedSessions: 3, crashes: 1, newIssues: 1 });
  expect(byRelease(view, "2.0.0")?.crashFreeUsers).toBeCloseTo(2 / 3, 6);
  expect(byRelease(view, "2.0.0")?.crashFreeSessions).toBeCloseTo(9 / 12, 6);
  expect(byRelease(view, "2.0.0")?.adoption).toBeCloseTo(3 / 5, 6);
  expect(byRelease(view, "1.0.0")?.firstSeen).toBeGreaterThanOrEqual(HOUR);
});

it("draws crash-free rates per release over time with the same figures", async () => {
  const view = await load("24h");
  expect(view.step).toBe(3600);
  const bucket = view.series.filter((p) => p.t === HOUR / 1000);
  expect(bucket.map((p) => p.release).sort()).toEqual(["1.0.0", "2.0.0"]);
  expect(bucket.find((p) => p.release === "2.0.0")?.crashFreeSessions).toBeCloseTo(9 / 12, 6);
  expect(bucket.find((p) => p.release === "1.0.0")?.crashFreeUsers).toBeCloseTo(2 / 3, 6);
});

it("attributes an issue to the release of its first crash, over a range that holds it", async () => {
  const view = await load("7d");
  // Issue A first crashed in 0.9.0 three days ago; B and C are still 1.0.0's and 2.0.0's.
  expect(byRelease(view, "0.9.0")).toMatchObject({ users: 1, crashedUsers: 1, sessions: 1, crashedSessions: 1, crashes: 1, newIssues: 1, crashFreeUsers: 0 });
  expect(byRelease(view, "1.0.0")?.newIssues).toBe(1);
  expect(byRelease(view, "2.0.0")?.newIssues).toBe(1);
  expect(view.totalUsers).toBe(6);
  // Over a week the chart has a point per day: rates of an hour's few sessions swing too much.
  expect(view.step).toBe(86_400);
  expect(view.series.filter((p) => p.release === "2.0.0").map((p) => p.t)).toEqual([Math.floor(HOUR / 86_400_000) * 86_400]);
});

it("exports the table as CSV", async () => {
  const res = await run(() => releasesCsv.loader({ request: browserRequest(`/apps/${APP}/releases.csv?range=24h`, { session }), params: { app: APP }, context: h.context }));
  expect(res.status).toBe(200);
  const lines = (await res.text()).trim().split("\r\n");
  expect(lines[0]).toBe("release,first_seen,adoption,users,crashed_users,crash_free_users,sessions,crashed_sessions,crash_free_sessions,crashes,new_issues");
  expect(lines.find((l) => l.startsWith("2.0.0,"))).toMatch(/,0\.600000,3,1,0\.666667,12,3,0\.750000,1,1$/);
});

it("shows an app without sessions as an empty table, not an error", async () => {
  const res = await run(() => releasesPage.loader({ request: browserRequest("/apps/app_rel/releases?range=1h", { session }), params: { app: APP }, context: h.context }));
  const body = (await res.json()) as { view: ReleasesView; error: string | null };
  expect(body.error).toBeNull();
  expect(body.view.releases).toEqual([]);
  expect(body.view.series).toEqual([]);
});
