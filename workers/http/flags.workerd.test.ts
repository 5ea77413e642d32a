import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { booleanFlag, type Flag } from "../../schemas";
import { createTestApp, type TestApp } from "../../test/seed";
import { appFlags, RECHECK_MS } from "../flags/serve";
import { saveFlag } from "../flags/store";

const ADMIN = { authorization: "Bearer test-admin-token", "content-type": "application/json" };

function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`https://edge.test/admin/apps${path}`, { method, headers: { ...ADMIN, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
}

const checkout = (over: Partial<Flag> = {}): Flag => booleanFlag("new-checkout", "New checkout", over);

interface Answer {
  sampling: Record<string, number>;
  capture: Record<string, boolean>;
  config: Record<string, unknown>;
  flags: Record<string, { variant: string; value: unknown }>;
  version: number;
}

const config = (app: TestApp, query = "", headers: Record<string, string> = {}) => SELF.fetch(`https://edge.test/v1/config?writeKey=${app.key}${query}`, { headers });

describe("the flags and configuration admin API", () => {
  it("creates, reads, changes, audits, rolls back and deletes a flag", async () => {
    const app = await createTestApp();
    const created = await admin("POST", `/${app.appId}/flags`, checkout());
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ version: 1, flag: { version: 1, updatedBy: "admin", flag: { key: "new-checkout", enabled: true } } });
    expect((await admin("POST", `/${app.appId}/flags`, checkout())).status).toBe(409);

    const changed = await admin("PUT", `/${app.appId}/flags/new-checkout`, checkout({ fallthrough: { variant: "on" } }), { "if-match": "1" });
    expect(await changed.json()).toMatchObject({ version: 2, flag: { flag: { fallthrough: { variant: "on" } } } });
    // A change made from version 1 after someone else's made version 2 is refused, not applied.
    const stale = await admin("PUT", `/${app.appId}/flags/new-checkout`, checkout({ enabled: false }), { "if-match": "1" });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { message: string } }).error.message).toContain("version 2");

    const history = (await (await admin("GET", `/${app.appId}/flags/new-checkout/history`)).json()) as { changes: Array<{ version: number; by: string; before: unknown; after: unknown }> };
    expect(history.changes.map((c) => [c.version, c.by])).toEqual([
      [2, "admin"],
      [1, "admin"],
    ]);
    expect(history.changes[0]).toMatchObject({ before: { fallthrough: { variant: "off" } }, after: { fallthrough: { variant: "on" } } });
    expect(history.changes[1]?.before).toBeNull();

    const rolled = await admin("POST", `/${app.appId}/flags/new-checkout/rollback`, { version: 1 });
    expect(await rolled.json()).toMatchObject({ version: 3, flag: { flag: { fallthrough: { variant: "off" } } } });

    expect(await (await admin("DELETE", `/${app.appId}/flags/new-checkout`)).json()).toEqual({ deleted: "new-checkout", version: 4 });
    expect((await admin("GET", `/${app.appId}/flags/new-checkout`)).status).toBe(404);
    expect(await (await admin("GET", `/${app.appId}/flags`)).json()).toEqual({ flags: [] });
  });

  it("says what is wrong with a flag it refuses, and 404s for an app that does not exist", async () => {
    const app = await createTestApp();
    const bad = await admin("POST", `/${app.appId}/flags`, checkout({ fallthrough: { variant: "blue" }, rules: [{ conditions: [], rollout: 150, serve: { variant: "on" } }] }));
    expect(bad.status).toBe(400);
    const message = ((await bad.json()) as { error: { message: string } }).error.message;
    expect(message).toContain('no variant "blue"');
    expect(message).toContain("rules.0.rollout");
    expect((await admin("POST", `/${app.appId}/flags`, "not json")).status).toBe(400);
    expect((await admin("GET", "/app_nosuchapp00/flags")).status).toBe(404);
    expect((await SELF.fetch(`https://edge.test/admin/apps/${app.appId}/flags`)).status).toBe(401);
  });

  it("versions the configuration with its schema, refuses what the schema rejects, and rolls back", async () => {
    const app = await createTestApp();
    const schema = { type: "object", properties: { maxUpload: { type: "integer", maximum: 50 } }, required: ["maxUpload"] };
    const first = await admin("PUT", `/${app.appId}/config`, { config: { maxUpload: 10, banner: "Hello" }, schema, note: "first" });
    expect(await first.json()).toMatchObject({ version: 1, config: { maxUpload: 10 }, schema, note: "first", by: "admin" });
    const refused = await admin("PUT", `/${app.appId}/config`, { config: { maxUpload: 99 }, schema });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/maxUpload.*50/);
    await admin("PUT", `/${app.appId}/config`, { config: { maxUpload: 20 } });
    const versions = (await (await admin("GET", `/${app.appId}/config/history`)).json()) as { versions: Array<{ version: number }> };
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(await (await admin("POST", `/${app.appId}/config/rollback`, { version: 1 })).json()).toMatchObject({ version: 3, config: { maxUpload: 10, banner: "Hello" }, schema });
  });
});

describe("GET /v1/config and POST /v1/flags", () => {
  it("answers the configuration and each flag evaluated for the caller in the query", async () => {
    const app = await createTestApp();
    await admin("PUT", `/${app.appId}/config`, { config: { banner: "Hello" } });
    await admin(
      "POST",
      `/${app.appId}/flags`,
      checkout({
        rules: [
          { conditions: [{ op: "in", attribute: "user_id", values: ["u-beta"] }], rollout: 100, serve: { variant: "on" } },
          { conditions: [{ op: "semver", attribute: "app_version", range: ">=2.1.0" }, { op: "in", trait: "plan", values: ["pro"] }], rollout: 100, serve: { variant: "on" } },
        ],
      }),
    );
    const answer = async (query: string) => (await (await config(app, query)).json()) as Answer;
    const everyone = await answer("");
    expect(everyone).toMatchObject({ sampling: { network: 1 }, capture: { pageviews: true }, config: { banner: "Hello" }, flags: { "new-checkout": { variant: "off", value: false } }, version: 2 });
    expect((await answer("&userId=u-beta")).flags["new-checkout"]?.value).toBe(true);
    expect((await answer(`&appVersion=2.3.0&traits=${encodeURIComponent(JSON.stringify({ plan: "pro" }))}`)).flags["new-checkout"]?.value).toBe(true);
    expect((await answer(`&appVersion=2.0.9&traits=${encodeURIComponent(JSON.stringify({ plan: "pro" }))}`)).flags["new-checkout"]?.value).toBe(false);

    const posted = await SELF.fetch(`https://edge.test/v1/flags?writeKey=${app.key}`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ appVersion: "2.3.0", traits: { plan: "pro" } }) });
    expect(((await posted.json()) as Answer).flags["new-checkout"]?.value).toBe(true);
  });

  it("gives an unchanged answer an ETag that a revalidation turns into a 304 without a body", async () => {
    const app = await createTestApp();
    await admin("POST", `/${app.appId}/flags`, checkout());
    const first = await config(app, "&userId=u1");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    await first.body?.cancel();
    const again = await config(app, "&userId=u1", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const other = await config(app, "&userId=u-beta", { "if-none-match": `W/${etag}` });
    expect(other.status).toBe(304); // the same answer for another caller is the same ETag
    await other.body?.cancel();
    const stale = await config(app, "&userId=u1", { "if-none-match": '"something-else"' });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
  });

  it("lets a browser read the ETag and revalidate from any page", async () => {
    const app = await createTestApp();
    const res = await config(app, "", { origin: "https://shop.example" });
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("etag");
    await res.body?.cancel();
  });

  it("refuses traits that are not a JSON object, and a caller field that is too long, with 400", async () => {
    const app = await createTestApp();
    for (const query of ["&traits=%7Bnot-json", `&traits=${encodeURIComponent("[1,2]")}`, `&userId=${"x".repeat(300)}`]) {
      const res = await config(app, query);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_body");
    }
    const posted = await SELF.fetch(`https://edge.test/v1/flags?writeKey=${app.key}`, { method: "POST", body: "{oops" });
    expect(posted.status).toBe(400);
    await posted.body?.cancel();
  });
});

/** The Worker's D1 binding with a count of the statements run through it. */
function countingDb(): { db: D1Database; reads: () => number } {
  let n = 0;
  const db = new Proxy(env.DB, {
    get(target, prop, receiver) {
      if (prop === "prepare") {
        return (sql: string) => {
          n++;
          return target.prepare(sql);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db, reads: () => n };
}

describe("the isolate's cache of an app's definitions", () => {
  it("reads nothing from D1 for calls within the recheck interval, one small read after it, and the definitions again only after a change", async () => {
    const app = await createTestApp();
    const { db, reads } = countingDb();
    const t0 = 1_000_000;
    await saveFlag(env.DB, app.appId, checkout(), { by: "test", now: t0 });
    const first = await appFlags(db, app.appId, t0);
    expect(first?.flags.map((f) => f.key)).toEqual(["new-checkout"]);
    const afterLoad = reads();
    for (let i = 0; i < 100; i++) await appFlags(db, app.appId, t0 + (i * (RECHECK_MS - 1)) / 100);
    expect(reads()).toBe(afterLoad);

    await appFlags(db, app.appId, t0 + RECHECK_MS);
    expect(reads()).toBe(afterLoad + 1); // the change count only: nothing changed

    await saveFlag(env.DB, app.appId, checkout({ fallthrough: { variant: "on" } }), { by: "test", now: t0 + RECHECK_MS + 1 });
    const soon = await appFlags(db, app.appId, t0 + RECHECK_MS + 2);
    expect(soon?.flags[0]?.fallthrough).toEqual({ variant: "off" }); // still within the interval
    const later = await appFlags(db, app.appId, t0 + 2 * RECHECK_MS);
    expect(later?.flags[0]?.fallthrough).toEqual({ variant: "on" });
    expect(RECHECK_MS).toBeLessThanOrEqual(10_000);
  });

  it("shares one read among concurrent calls on a cold isolate, and answers null for an app that is gone", async () => {
    const app = await createTestApp();
    const { db, reads } = countingDb();
    const t0 = 5_000_000;
    const all = await Promise.all(Array.from({ length: 20 }, () => appFlags(db, app.appId, t0)));
    expect(new Set(all).size).toBe(1);
    expect(reads()).toBeLessThanOrEqual(3);
    expect(await appFlags(db, "app_gone0000000", t0)).toBeNull();
  });
});
