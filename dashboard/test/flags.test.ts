// The feature flags and remote config pages against a real D1: flags created from the list's
// form and switched off there, a whole flag saved from the editor's JSON (a stale version refused,
// a definition the schema refuses named field by field), its history with what each change did,
// restored and deleted; "Test a user" answering with the variant and the reason; the
// configuration refused by its own JSON Schema, saved, diffed and restored; and readers who read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app/db/apps.server";
import * as configPage from "../app/routes/apps.$app.config";
import * as list from "../app/routes/apps.$app.flags._index";
import * as page from "../app/routes/apps.$app.flags.$key";
import type { Flag } from "../../schemas/flags";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let owner: Person;
let viewer: Person;
const APP = "app_flags";

const listAction = (who: Person, form: Record<string, string>) =>
  run(() => list.action({ request: browserRequest(`/apps/${APP}/flags`, { session: who.session, form }), params: { app: APP }, context: h.context }));
const flagAction = (who: Person, key: string, form: Record<string, string>) =>
  run(() => page.action({ request: browserRequest(`/apps/${APP}/flags/${key}`, { session: who.session, form }), params: { app: APP, key }, context: h.context }));
const configAction = (who: Person, form: Record<string, string>) =>
  run(() => configPage.action({ request: browserRequest(`/apps/${APP}/config`, { session: who.session, form }), params: { app: APP }, context: h.context }));

interface Listed {
  flags: Array<{ key: string; name: string; enabled: boolean; summary: string; version: number; updatedBy: string }>;
  canEdit: boolean;
}
interface FlagPage {
  flag: Flag;
  summary: string;
  version: number;
  history: Array<{ version: number; by: string; what?: string; diff: Array<{ path: string; before: string | null; after: string | null }>; current: boolean; restorable: boolean }>;
  canEdit: boolean;
}
interface ConfigPage {
  version: number;
  config: string;
  schema: string;
  versions: Array<{ version: number; by: string; note: string; diff: Array<{ path: string; before: string | null; after: string | null }>; current: boolean }>;
  canEdit: boolean;
}

const listed = async (who = owner) =>
  bodyOf<Listed>(await run(() => list.loader({ request: browserRequest(`/apps/${APP}/flags`, { session: who.session }), params: { app: APP }, context: h.context })));
const flagPage = (who: Person, key: string) => run(() => page.loader({ request: browserRequest(`/apps/${APP}/flags/${key}`, { session: who.session }), params: { app: APP, key }, context: h.context }));
const opened = async (key: string, who = owner) => bodyOf<FlagPage>(await flagPage(who, key));
const configured = async (who = owner) =>
  bodyOf<ConfigPage>(await run(() => configPage.loader({ request: browserRequest(`/apps/${APP}/config`, { session: who.session }), params: { app: APP }, context: h.context })));

async function created(key: string, name = key): Promise<void> {
  const res = await listAction(owner, { intent: "create", key, name, kind: "boolean" });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The editor's post: the whole flag as JSON, over the version it was opened at. */
const save = (key: string, flag: unknown, version: number, who = owner) => flagAction(who, key, { intent: "save", flag: JSON.stringify(flag), version: String(version) });

beforeAll(async () => {
  h = await startHarness();
  const org = await newOrg(h, "Flags");
  owner = org.owner;
  viewer = await newMember(h, org.orgId, "viewer");
  await createApp(h.db, org.orgId, { id: APP, name: "Shop" });
}, 180_000);

afterAll(async () => h?.close());

describe("the flags list", () => {
  it("creates an on/off flag, off for everyone, and refuses the same key twice", async () => {
    await created("new-checkout", "New checkout");
    const row = (await listed()).flags.find((f) => f.key === "new-checkout");
    expect(row).toMatchObject({ name: "New checkout", enabled: true, summary: "everyone → off", version: 1, updatedBy: owner.email });
    const again = await listAction(owner, { intent: "create", key: "new-checkout", name: "Again", kind: "boolean" });
    expect(again.status).toBe(409);
    expect((await bodyOf<{ error: string }>(again)).error).toContain("exists already");
    expect((await opened("new-checkout")).flag.name).toBe("New checkout");
  });

  it("creates a multivariate flag from `key = JSON` lines, and names a line that is not JSON", async () => {
    const res = await listAction(owner, { intent: "create", key: "button-color", name: "Button colour", kind: "multivariate", variants: 'blue = "#00f"\ngreen = {"hex": "#0f0"}' });
    expect(res.status).toBe(200);
    const flag = (await opened("button-color")).flag;
    expect(flag.variants).toEqual([
      { key: "blue", value: "#00f" },
      { key: "green", value: { hex: "#0f0" } },
    ]);
    expect(flag.fallthrough).toEqual({ variant: "blue" });

    const bad = await listAction(owner, { intent: "create", key: "broken", name: "Broken", kind: "multivariate", variants: "blue = #00f" });
    expect(bad.status).toBe(400);
    const body = await bodyOf<{ errors: string[]; values: { variants: string } }>(bad);
    expect(body.errors.join()).toContain("variant 1 (blue) is not valid JSON");
    expect(body.values.variants).toBe("blue = #00f");
    const badKey = await bodyOf<{ errors: string[] }>(await listAction(owner, { intent: "create", key: "Has Spaces", name: "x", kind: "boolean" }));
    expect(badKey.errors.join()).toContain("key:");
    expect((await listed()).flags.map((f) => f.key)).not.toContain("broken");
  });

  it("switches a flag off and on with its kill switch, refusing a switch made on a stale page", async () => {
    await created("kill-me");
    const off = await listAction(owner, { intent: "toggle", key: "kill-me", enabled: "false", version: "1" });
    expect(off.status).toBe(200);
    expect((await listed()).flags.find((f) => f.key === "kill-me")).toMatchObject({ enabled: false, summary: "switched off: everyone → off", version: 2 });
    const stale = await listAction(owner, { intent: "toggle", key: "kill-me", enabled: "true", version: "1" });
    expect(stale.status).toBe(409);
    expect((await bodyOf<{ error: string }>(stale)).error).toContain("now version 2");
    expect((await listAction(owner, { intent: "toggle", key: "kill-me", enabled: "true", version: "2" })).status).toBe(200);
    expect((await listed()).flags.find((f) => f.key === "kill-me")?.enabled).toBe(true);
  });
});

describe("a flag's page", () => {
  const rollout = (flag: Flag, percent: number): Flag => ({
    ...flag,
    rules: [{ conditions: [{ op: "in", trait: "plan", values: ["pro"] }], rollout: percent, serve: { variant: "on" } }],
  });

  it("saves the editor's flag over the version it opened, and refuses to overwrite a change made meanwhile", async () => {
    await created("beta");
    const { flag, version } = await opened("beta");
    const res = await save("beta", rollout(flag, 20), version);
    expect(res.status).toBe(200);
    expect((await bodyOf<{ ok: string }>(res)).ok).toContain("version 2");
    expect((await listed()).flags.find((f) => f.key === "beta")?.summary).toBe("20 % of users with plan in pro → on; else off");

    // Someone else, who opened it at version 1 too, saves later: nothing of theirs lands.
    const late = await save("beta", rollout(flag, 90), version);
    expect(late.status).toBe(409);
    expect((await bodyOf<{ error: string }>(late)).error).toContain("Someone else changed this flag");
    expect((await opened("beta")).flag.rules[0]?.rollout).toBe(20);
  });

  it("refuses a definition the schema refuses, naming each problem by its place, and saves nothing", async () => {
    const { flag, version } = await opened("beta");
    const res = await save("beta", { ...flag, rules: [{ conditions: [], rollout: 120, serve: { variant: "maybe" } }] }, version);
    expect(res.status).toBe(400);
    const body = await bodyOf<{ problems: string[]; posted: string }>(res);
    expect(body.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^rules\.0\.rollout: /), 'rules.0.serve: no variant "maybe"']));
    expect(JSON.parse(body.posted)).toMatchObject({ rules: [{ rollout: 120 }] });
    expect((await opened("beta")).version).toBe(version);
    const notJson = await flagAction(owner, "beta", { intent: "save", flag: "{nope", version: String(version) });
    expect(notJson.status).toBe(400);
  });

  it("keeps the flag's key whatever the posted definition says", async () => {
    const { flag, version } = await opened("beta");
    expect((await save("beta", { ...flag, key: "other-key", name: "Beta features" }, version)).status).toBe(200);
    expect((await opened("beta")).flag).toMatchObject({ key: "beta", name: "Beta features" });
    expect((await listed()).flags.map((f) => f.key)).not.toContain("other-key");
  });

  it("shows each change with what it did, and restores an earlier version as a new one", async () => {
    const before = await opened("beta");
    expect(before.history.map((c) => [c.version, c.what ?? "changed", c.by])).toEqual([
      [3, "changed", owner.email],
      [2, "changed", owner.email],
      [1, "created", owner.email],
    ]);
    expect(before.history[0]?.diff).toEqual([{ path: "name", before: '"beta"', after: '"Beta features"' }]);
    expect(before.history[1]?.diff).toEqual(expect.arrayContaining([{ path: "rules.0.rollout", before: null, after: "20" }]));
    expect(before.history.map((c) => c.current)).toEqual([true, false, false]);

    const res = await flagAction(owner, "beta", { intent: "rollback", to: "1" });
    expect((await bodyOf<{ ok: string }>(res)).ok).toBe("Version 1 restored as version 4.");
    const after = await opened("beta");
    expect(after.flag).toMatchObject({ name: "beta", rules: [] });
    expect(after.history[0]?.diff).toEqual(expect.arrayContaining([{ path: "rules.0.rollout", before: "20", after: null }]));
    expect((await flagAction(owner, "beta", { intent: "rollback", to: "99" })).status).toBe(404);
  });

  it("tests a user: the variant served and why, for a rule, the fallthrough and the kill switch", async () => {
    await created("pro-only");
    const { flag, version } = await opened("pro-only");
    expect((await save("pro-only", rollout(flag, 100), version)).status).toBe(200);
    type Answer = { answer: { variant: string; value: string; reason: string } };
    const test = async (form: Record<string, string>) => (await bodyOf<Answer>(await flagAction(viewer, "pro-only", { intent: "test", ...form }))).answer;
    expect(await test({ userId: "u1", traits: '{"plan": "pro"}' })).toEqual({ variant: "on", value: "true", reason: "rule 1: users with plan in pro → on" });
    expect(await test({ userId: "u1", traits: '{"plan": "free"}', platform: "ios" })).toEqual({ variant: "off", value: "false", reason: "no rule served this user, so it got the fallthrough" });
    const bad = await flagAction(viewer, "pro-only", { intent: "test", traits: "[1]" });
    expect(bad.status).toBe(400);
    expect(await bodyOf<{ error: string; test: { traits: string } }>(bad)).toMatchObject({ error: expect.stringContaining("JSON object"), test: { traits: "[1]" } });

    expect((await listAction(owner, { intent: "toggle", key: "pro-only", enabled: "false", version: "2" })).status).toBe(200);
    expect((await test({ userId: "u1", traits: '{"plan": "pro"}' })).reason).toContain("switched off");
  });

  it("deletes a flag: its page is gone, the list no longer has it", async () => {
    await created("doomed");
    const res = await flagAction(owner, "doomed", { intent: "delete" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`/apps/${APP}/flags`);
    expect((await flagPage(owner, "doomed")).status).toBe(404);
    expect((await listed()).flags.map((f) => f.key)).not.toContain("doomed");
    expect((await flagAction(owner, "doomed", { intent: "delete" })).status).toBe(404);
  });

  it("lets a viewer read and test, but not change", async () => {
    expect((await listed(viewer)).canEdit).toBe(false);
    const seen = await opened("beta", viewer);
    expect(seen.canEdit).toBe(false);
    expect((await save("beta", seen.flag, seen.version, viewer)).status).toBe(403);
    expect((await listAction(viewer, { intent: "create", key: "nope", name: "Nope", kind: "boolean" })).status).toBe(403);
    expect((await configAction(viewer, { intent: "save", config: "{}", schema: "", version: "0" })).status).toBe(403);
  });
});

describe("the remote config page", () => {
  const SCHEMA = JSON.stringify({ type: "object", required: ["checkout"], properties: { checkout: { type: "object", properties: { v: { type: "integer" } } } } });

  it("saves a configuration with its schema, refuses one the schema refuses, diffs versions and restores one", async () => {
    expect(await configured()).toMatchObject({ version: 0, config: "{}", schema: "", versions: [] });
    const first = await configAction(owner, { intent: "save", config: '{"checkout": {"v": 2}}', schema: SCHEMA, note: "checkout v2", version: "0" });
    expect(first.status).toBe(200);

    const refused = await configAction(owner, { intent: "save", config: '{"checkout": {"v": "three"}}', schema: SCHEMA, note: "typo", version: "1" });
    expect(refused.status).toBe(400);
    const body = await bodyOf<{ errors: string[]; values: { config: string; note: string } }>(refused);
    expect(body.errors.join()).toMatch(/checkout\/v/);
    expect(body.values).toMatchObject({ config: '{"checkout": {"v": "three"}}', note: "typo" });
    expect((await bodyOf<{ errors: string[] }>(await configAction(owner, { intent: "save", config: "{oops", schema: "", version: "1" }))).errors.join()).toContain("not valid JSON");
    expect((await configured()).version).toBe(1);

    expect((await configAction(owner, { intent: "save", config: '{"checkout": {"v": 3}, "banner": "Sale"}', schema: SCHEMA, note: "v3", version: "1" })).status).toBe(200);
    const stale = await configAction(owner, { intent: "save", config: '{"checkout": {"v": 4}}', schema: SCHEMA, version: "1" });
    expect(stale.status).toBe(409);

    const seen = await configured();
    expect(seen.versions.map((v) => [v.version, v.note, v.by, v.current])).toEqual([
      [2, "v3", owner.email, true],
      [1, "checkout v2", owner.email, false],
    ]);
    expect(seen.versions[0]?.diff).toEqual([
      { path: "config.checkout.v", before: "2", after: "3" },
      { path: "config.banner", before: null, after: '"Sale"' },
    ]);

    expect((await bodyOf<{ ok: string }>(await configAction(owner, { intent: "rollback", to: "1" }))).ok).toBe("Version 1 restored as version 3.");
    const restored = await configured();
    expect(JSON.parse(restored.config)).toEqual({ checkout: { v: 2 } });
    expect(JSON.parse(restored.schema)).toMatchObject({ required: ["checkout"] });
    expect(restored.versions[0]).toMatchObject({ note: "rollback to version 1", diff: expect.arrayContaining([{ path: "config.banner", before: '"Sale"', after: null }]) });

    expect(await configured(viewer)).toMatchObject({ version: 3, canEdit: false });
  });
});
