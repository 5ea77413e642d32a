// Issue states from the issue page's form and grouping rules from the rules page, against a real
// D1 and ClickHouse: every change a person can make, who may make it, and what is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_CRASH_RULES } from "../../schemas";
import { createApp } from "../app/db/apps.server";
import { addRule, issueHistory, issueState, issueStates, listRules } from "../app/db/crash-issues.server";
import { issueStateAction } from "../app/crashes/issue-state.server";
import * as rulesPage from "../app/routes/apps.$app.crashes.rules";
import { browserRequest, ORIGIN, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let owner: Person;
let developer: Person;
let viewer: Person;
let orgId = "";
const APP = "app_crashy";
const FP = "fp_checkout";
const ago = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString();

beforeAll(async () => {
  h = await startHarness();
  const org = await newOrg(h, "Crashy");
  orgId = org.orgId;
  owner = org.owner;
  developer = await newMember(h, orgId, "developer");
  viewer = await newMember(h, orgId, "viewer");
  await createApp(h.db, orgId, { id: APP, name: "Crashy" });
  await createApp(h.db, orgId, { id: "app_other", name: "Other" });
  const crash = (i: number, app: string, fp: string) => ({
    app_id: app,
    type: "crash",
    message_id: `${app}-${fp}-${i}`,
    anonymous_id: `u${i}`,
    timestamp: ago(10 + i),
    received_at: ago(10 + i),
    crash_type: "TypeError",
    crash_message: "x is undefined",
    crash_fingerprint: fp,
    crash_fatal: 1,
    app_version: "1.0.0",
  });
  // Seven crashes of the checkout issue; the other app has an issue only it owns.
  await h.insertEvents([...Array.from({ length: 7 }, (_, i) => crash(i, APP, FP)), crash(0, "app_other", "fp_foreign")]);
}, 120_000);

afterAll(async () => h?.close());

const change = (who: Person | undefined, form: Record<string, string>, issue = FP, app = APP) =>
  run(() => issueStateAction({ request: browserRequest(`/apps/${app}/crashes/${issue}`, { session: who?.session, cookie: `__org=${orgId}`, form }), params: { app, issue }, context: h.context }));

describe("issue states", () => {
  it("resolves, records who did it, and reopens", async () => {
    const res = await change(developer, { intent: "resolve" });
    expect(res.status).toBe(200);
    expect(await bodyOf<{ ok: string }>(res)).toEqual({ ok: expect.stringMatching(/^Resolved/) });
    expect(await issueState(h.db, APP, FP)).toMatchObject({ status: "resolved", resolvedIn: "", resolvedNext: false, changedBy: developer.email });

    expect((await change(owner, { intent: "reopen" })).status).toBe(200);
    expect((await issueState(h.db, APP, FP))?.status).toBe("unresolved");
    const history = await issueHistory(h.db, APP, FP);
    expect(history.slice(0, 2).map((e) => [e.status, e.detail, e.by])).toEqual([
      ["unresolved", "reopened", owner.email],
      ["resolved", "resolved", developer.email],
    ]);
  });

  it("resolves in a named release and in the next release", async () => {
    expect((await change(developer, { intent: "resolve-in", release: "1.1.0" })).status).toBe(200);
    expect(await issueState(h.db, APP, FP)).toMatchObject({ status: "resolved", resolvedIn: "1.1.0", resolvedNext: false });
    expect((await issueHistory(h.db, APP, FP))[0]?.detail).toBe("resolved in 1.1.0");

    expect((await change(developer, { intent: "resolve-next" })).status).toBe(200);
    expect(await issueState(h.db, APP, FP)).toMatchObject({ status: "resolved", resolvedIn: "", resolvedNext: true });
    expect((await issueHistory(h.db, APP, FP))[0]?.detail).toBe("resolved in the next release");
  });

  it("ignores forever, until more events (counted from the issue's total now) and until a date", async () => {
    await change(developer, { intent: "ignore" });
    expect(await issueState(h.db, APP, FP)).toMatchObject({ status: "ignored", ignoreCount: null, ignoreBase: null, ignoreUntil: null });

    await change(developer, { intent: "ignore", until: "count", count: "50" });
    // The issue has 7 crashes: the ignore ends at 57.
    expect(await issueState(h.db, APP, FP)).toMatchObject({ status: "ignored", ignoreCount: 50, ignoreBase: 7, ignoreUntil: null });
    expect((await issueHistory(h.db, APP, FP))[0]?.detail).toBe("ignored until 50 more events");

    const year = new Date().getUTCFullYear() + 1;
    await change(developer, { intent: "ignore", until: "date", date: `${year}-03-01` });
    expect(await issueState(h.db, APP, FP)).toMatchObject({ status: "ignored", ignoreCount: null, ignoreUntil: Date.UTC(year, 2, 1) });
    expect((await issueHistory(h.db, APP, FP))[0]?.detail).toBe(`ignored until ${year}-03-01 00:00 UTC`);
    expect([...(await issueStates(h.db, APP)).keys()]).toEqual([FP]);
  });

  it("explains bad input and changes nothing", async () => {
    const before = await issueState(h.db, APP, FP);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ intent: "resolve-in", release: "" }, /Name the release/],
      [{ intent: "resolve-in", release: "r".repeat(300) }, /at most 256/],
      [{ intent: "ignore", until: "count", count: "0" }, /whole number/],
      [{ intent: "ignore", until: "count", count: "ten" }, /whole number/],
      [{ intent: "ignore", until: "date", date: "2020-01-01" }, /in the future/],
      [{ intent: "ignore", until: "date", date: "2030-02-30" }, /not a date/],
      [{ intent: "ignore", until: "date", date: "soon" }, /YYYY-MM-DD/],
      [{ intent: "ignore", until: "weekly" }, /how long/],
    ];
    for (const [form, message] of cases) {
      const res = await change(developer, form);
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect((await bodyOf<{ error: string }>(res)).error).toMatch(message);
    }
    expect((await change(developer, { intent: "explode" })).status).toBe(400);
    expect(await issueState(h.db, APP, FP)).toEqual(before);
  });

  it("refuses viewers (403) and people signed out, lets developers change", async () => {
    expect((await change(viewer, { intent: "resolve" })).status).toBe(403);
    const signedOut = await change(undefined, { intent: "resolve" });
    expect([302, 403]).toContain(signedOut.status);
    expect((await change(developer, { intent: "reopen" })).status).toBe(200);
    expect((await issueState(h.db, APP, FP))?.status).toBe("unresolved");
  });

  it("refuses a form without this browser's CSRF token or from another site", async () => {
    const forged = new Request(`${ORIGIN}/apps/${APP}/crashes/${FP}`, {
      method: "POST",
      headers: { cookie: `__csrf=${"ef".repeat(24)}; __session=${developer.session}; __org=${orgId}`, origin: ORIGIN },
      body: new URLSearchParams({ csrf: "0".repeat(64), intent: "resolve" }),
    });
    expect((await run(() => issueStateAction({ request: forged, params: { app: APP, issue: FP }, context: h.context }))).status).toBe(403);
    const crossSite = new Request(`${ORIGIN}/apps/${APP}/crashes/${FP}`, {
      method: "POST",
      headers: { cookie: `__csrf=${"ef".repeat(24)}; __session=${developer.session}; __org=${orgId}`, origin: "https://evil.example" },
      body: new URLSearchParams({ intent: "resolve" }),
    });
    expect((await run(() => issueStateAction({ request: crossSite, params: { app: APP, issue: FP }, context: h.context }))).status).toBe(403);
    expect((await issueState(h.db, APP, FP))?.status).toBe("unresolved");
  });

  it("answers 404 for an issue the app has no crashes of, another app's issue, or another organisation's app", async () => {
    expect((await change(developer, { intent: "resolve" }, "fp_nothing")).status).toBe(404);
    expect((await change(developer, { intent: "resolve" }, "fp_foreign")).status).toBe(404);
    const stranger = (await newOrg(h, "Strangers")).owner;
    expect((await change(stranger, { intent: "resolve" }, FP, APP)).status).toBe(404);
    expect(await issueState(h.db, APP, "fp_nothing")).toBeNull();
  });
});

describe("grouping rules", () => {
  const APP_RULES = "app_rules";
  const post = (who: Person, form: Record<string, string>) =>
    run(() => rulesPage.action({ request: browserRequest(`/apps/${APP_RULES}/crashes/rules`, { session: who.session, cookie: `__org=${orgId}`, form }), params: { app: APP_RULES }, context: h.context }));
  const page = async (who: Person) => {
    const res = await run(() => rulesPage.loader({ request: browserRequest(`/apps/${APP_RULES}/crashes/rules`, { session: who.session, cookie: `__org=${orgId}` }), params: { app: APP_RULES }, context: h.context }));
    return { status: res.status, body: res.status === 200 ? await bodyOf<{ rules: Array<{ id: string; action: string; type: string | null; message: string | null; module: string | null; label: string }>; canEdit: boolean }>(res) : null };
  };

  beforeAll(async () => {
    await createApp(h.db, orgId, { id: APP_RULES, name: "Rules" });
  });

  it("adds rules in order, moves and deletes them", async () => {
    const add = (form: Record<string, string>) => post(developer, { intent: "add", action: "merge", type: "", message: "", module: "", label: "", ...form });
    expect((await add({ type: "ChunkLoadError", label: "Chunks" })).status).toBe(200);
    expect((await add({ action: "split", message: "Timeout after * ms" })).status).toBe(200);
    expect((await add({ module: "*/vendor/*" })).status).toBe(200);
    let rules = (await page(viewer)).body?.rules ?? [];
    expect(rules.map((r) => [r.action, r.type, r.message, r.module, r.label])).toEqual([
      ["merge", "ChunkLoadError", null, null, "Chunks"],
      ["split", null, "Timeout after * ms", null, ""],
      ["merge", null, null, "*/vendor/*", ""],
    ]);
    const [first, second, third] = rules.map((r) => r.id);

    expect((await post(developer, { intent: "down", ruleId: first ?? "" })).status).toBe(200);
    expect((await post(developer, { intent: "up", ruleId: third ?? "" })).status).toBe(200);
    rules = (await page(viewer)).body?.rules ?? [];
    expect(rules.map((r) => r.id)).toEqual([second, third, first]);
    expect((await post(developer, { intent: "up", ruleId: second ?? "" })).status).toBe(400);

    expect((await post(developer, { intent: "delete", ruleId: third ?? "" })).status).toBe(200);
    expect((await post(developer, { intent: "delete", ruleId: third ?? "" })).status).toBe(404);
    expect((await page(viewer)).body?.rules.map((r) => r.id)).toEqual([second, first]);
  });

  it("refuses a rule without a matcher, with an unknown action or over-long patterns", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ action: "merge" }, /at least one/],
      [{ action: "merge", message: "*", module: "**" }, /at least one/],
      [{ action: "squash", type: "E" }, /merge or split/],
      [{ action: "merge", message: "m".repeat(513) }, /512/],
      [{ action: "merge", type: "t".repeat(257) }, /256/],
      [{ action: "merge", type: "E", label: "l".repeat(201) }, /label/],
    ];
    const before = (await page(viewer)).body?.rules.length;
    for (const [form, message] of cases) {
      const res = await post(developer, { intent: "add", type: "", message: "", module: "", label: "", ...form });
      expect(res.status).toBe(400);
      expect((await bodyOf<{ error: string }>(res)).error).toMatch(message);
    }
    expect((await page(viewer)).body?.rules.length).toBe(before);
  });

  it("keeps an app to its rule limit", async () => {
    const have = (await listRules(h.db, APP_RULES)).length;
    for (let i = have; i < MAX_CRASH_RULES; i++) expect(await addRule(h.db, APP_RULES, { action: "merge", type: `E${i}`, message: "", module: "", label: "" }, "t")).not.toBe("full");
    const res = await post(developer, { intent: "add", action: "merge", type: "OneTooMany", message: "", module: "", label: "" });
    expect(res.status).toBe(409);
    expect((await bodyOf<{ error: string }>(res)).error).toMatch(`at most ${MAX_CRASH_RULES}`);
    expect(await listRules(h.db, APP_RULES)).toHaveLength(MAX_CRASH_RULES);
    // Rules are per app: another app still has room.
    expect(await addRule(h.db, APP, { action: "merge", type: "E", message: "", module: "", label: "" }, "t")).not.toBe("full");
  });

  it("shows the rules to viewers read-only and refuses their changes", async () => {
    const seen = await page(viewer);
    expect(seen.status).toBe(200);
    expect(seen.body?.canEdit).toBe(false);
    expect((await page(developer)).body?.canEdit).toBe(true);
    expect((await post(viewer, { intent: "add", action: "merge", type: "E", message: "", module: "", label: "" })).status).toBe(403);
    const id = seen.body?.rules[0]?.id ?? "";
    expect((await post(viewer, { intent: "delete", ruleId: id })).status).toBe(403);
    expect((await listRules(h.db, APP_RULES)).some((r) => r.id === id)).toBe(true);
  });
});
