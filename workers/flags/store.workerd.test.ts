// Flags and configuration in the real local D1: versions counted per flag, every change audited
// with its before and after, a conflict instead of a lost update, rollback to any version as a
// new one, and the app's change count the edge caches under.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { booleanFlag, type Flag } from "../../schemas";
import { createApp, inOrg } from "../apps/store";
import { configHistory, deleteFlag, flagHistory, flagsVersion, getConfig, getFlag, listFlags, rollbackConfig, rollbackFlag, saveConfig, saveFlag } from "./store";

const T0 = Date.UTC(2026, 11, 1, 8);

async function newApp(): Promise<string> {
  const org = `org_${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(org, T0).run();
  const app = `app_fl_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, inOrg(org), { id: app, name: app })).not.toBe("unavailable");
  return app;
}

const checkout = (rollout: number): Flag => booleanFlag("new-checkout", "New checkout", { rules: [{ conditions: [{ op: "in", attribute: "country", values: ["DE"] }], rollout, serve: { variant: "on" } }] });

describe("flags", () => {
  it("keeps each change with its version, author, before and after, and counts the app's changes", async () => {
    const app = await newApp();
    expect(await flagsVersion(env.DB, app)).toBe(0);
    expect(await saveFlag(env.DB, app, checkout(10), { by: "ana@example.com", now: T0 })).toEqual({ status: "saved", version: 1 });
    expect(await saveFlag(env.DB, app, checkout(50), { by: "bo@example.com", now: T0 + 1000, expected: 1 })).toEqual({ status: "saved", version: 2 });
    expect((await getFlag(env.DB, app, "new-checkout"))?.flag.rules[0]?.rollout).toBe(50);
    const history = await flagHistory(env.DB, app, "new-checkout");
    expect(history.map((c) => [c.version, c.by, c.before?.rules[0]?.rollout ?? null, c.after?.rules[0]?.rollout ?? null])).toEqual([
      [2, "bo@example.com", 10, 50],
      [1, "ana@example.com", null, 10],
    ]);
    expect(await flagsVersion(env.DB, app)).toBe(2);
  });

  it("refuses a change made from an older version instead of overwriting the one in between", async () => {
    const app = await newApp();
    await saveFlag(env.DB, app, checkout(10), { by: "ana", now: T0 });
    await saveFlag(env.DB, app, checkout(20), { by: "bo", now: T0 + 1, expected: 1 });
    expect(await saveFlag(env.DB, app, checkout(90), { by: "cy", now: T0 + 2, expected: 1 })).toEqual({ status: "conflict", version: 2 });
    expect((await getFlag(env.DB, app, "new-checkout"))?.flag.rules[0]?.rollout).toBe(20);
    expect(await flagHistory(env.DB, app, "new-checkout")).toHaveLength(2);
  });

  it("rolls back to a version as a new one, and a deleted flag comes back with its history", async () => {
    const app = await newApp();
    await saveFlag(env.DB, app, checkout(10), { by: "ana", now: T0 });
    await saveFlag(env.DB, app, checkout(80), { by: "ana", now: T0 + 1 });
    expect(await rollbackFlag(env.DB, app, "new-checkout", 1, { by: "bo", now: T0 + 2 })).toEqual({ status: "saved", version: 3 });
    expect((await getFlag(env.DB, app, "new-checkout"))?.flag.rules[0]?.rollout).toBe(10);
    expect(await deleteFlag(env.DB, app, "new-checkout", { by: "bo", now: T0 + 3 })).toEqual({ status: "saved", version: 4 });
    expect(await listFlags(env.DB, app)).toEqual([]);
    expect(await rollbackFlag(env.DB, app, "new-checkout", 2, { by: "cy", now: T0 + 4 })).toEqual({ status: "saved", version: 5 });
    expect((await getFlag(env.DB, app, "new-checkout"))?.flag.rules[0]?.rollout).toBe(80);
    expect((await flagHistory(env.DB, app, "new-checkout")).map((c) => [c.version, c.after === null])).toEqual([
      [5, false],
      [4, true],
      [3, false],
      [2, false],
      [1, false],
    ]);
    expect(await rollbackFlag(env.DB, app, "new-checkout", 9, { by: "cy", now: T0 + 5 })).toEqual({ status: "missing" });
    expect(await deleteFlag(env.DB, app, "nothing", { by: "cy", now: T0 + 5 })).toEqual({ status: "missing" });
  });

  it("keeps one app's flags from another's", async () => {
    const a = await newApp();
    const b = await newApp();
    await saveFlag(env.DB, a, checkout(10), { by: "ana", now: T0 });
    expect(await listFlags(env.DB, b)).toEqual([]);
    expect(await getFlag(env.DB, b, "new-checkout")).toBeNull();
    expect(await flagsVersion(env.DB, b)).toBe(0);
  });
});

describe("configuration", () => {
  it("versions the configuration, guards against lost updates and rolls back as a new version", async () => {
    const app = await newApp();
    expect(await getConfig(env.DB, app)).toMatchObject({ version: 0, config: {} });
    const schema = { type: "object", properties: { maxUpload: { type: "integer", maximum: 50 } }, required: ["maxUpload"] };
    expect(await saveConfig(env.DB, app, { config: { maxUpload: 10, banner: "Hello" }, schema }, { by: "ana", now: T0 })).toEqual({ status: "saved", version: 1 });
    expect(await saveConfig(env.DB, app, { config: { maxUpload: 20, banner: "Hi" } }, { by: "bo", now: T0 + 1, expected: 1 })).toEqual({ status: "saved", version: 2 });
    expect(await saveConfig(env.DB, app, { config: { maxUpload: 99 } }, { by: "cy", now: T0 + 2, expected: 1 })).toEqual({ status: "conflict", version: 2 });
    expect(await rollbackConfig(env.DB, app, 1, { by: "cy", now: T0 + 3 })).toEqual({ status: "saved", version: 3 });
    expect(await getConfig(env.DB, app)).toMatchObject({ version: 3, config: { maxUpload: 10, banner: "Hello" }, schema, by: "cy", note: "rollback to version 1" });
    expect((await configHistory(env.DB, app)).map((v) => v.version)).toEqual([3, 2, 1]);
    expect(await flagsVersion(env.DB, app)).toBe(3);
  });

  it("refuses a version its schema rejects, and a schema or configuration that is not an object, saving nothing", async () => {
    const app = await newApp();
    const schema = { type: "object", properties: { maxUpload: { type: "integer", maximum: 50 } }, required: ["maxUpload"] };
    const refused = await saveConfig(env.DB, app, { config: { maxUpload: 99 }, schema }, { by: "ana", now: T0 });
    expect(refused).toEqual({ status: "invalid", errors: [expect.stringMatching(/^\/maxUpload: .*50/)] });
    expect(await saveConfig(env.DB, app, { config: { banner: "x" }, schema }, { by: "ana", now: T0 })).toEqual({ status: "invalid", errors: [expect.stringContaining("maxUpload")] });
    expect(await saveConfig(env.DB, app, { config: [1, 2] }, { by: "ana", now: T0 })).toEqual({ status: "invalid", errors: ["the configuration must be a JSON object"] });
    expect(await saveConfig(env.DB, app, { config: {}, schema: "object" }, { by: "ana", now: T0 })).toMatchObject({ status: "invalid" });
    expect(await saveConfig(env.DB, app, { config: { big: "x".repeat(70_000) } }, { by: "ana", now: T0 })).toMatchObject({ status: "invalid", errors: [expect.stringContaining("bytes")] });
    expect(await getConfig(env.DB, app)).toMatchObject({ version: 0 });
    expect(await flagsVersion(env.DB, app)).toBe(0);
  });
});
