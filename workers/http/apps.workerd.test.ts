import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTestApp, post, trackEvent } from "../../test/seed";
import { clearWriteKeyCache } from "./write-key";

const admin = { authorization: "Bearer test-admin-token" };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = admin): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

describe("admin: apps and write keys", () => {
  it("creates an app and a key that ingest accepts, lists only the prefix, and revokes it", async () => {
    const id = `app_${crypto.randomUUID().slice(0, 8)}`;
    const created = await call("POST", "/admin/apps", { id, name: "Shop", rateLimit: 0 });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ app: { id, name: "Shop", rateLimit: 0, shardCount: 1, autoShards: true, retentionDays: 90 } });
    const fixed = await call("POST", "/admin/apps", { id: `${id}_fixed`, name: "Fixed", shardCount: 2, autoShards: false });
    expect(await fixed.json()).toMatchObject({ app: { shardCount: 2, shardKey: "device", autoShards: false, previousShardCount: null } });
    expect((await call("POST", "/admin/apps", { id: `${id}_bad`, name: "Bad", autoShards: "yes" })).status).toBe(400);

    const keyRes = await call("POST", `/admin/apps/${id}/keys`, { name: "web" });
    expect(keyRes.status).toBe(201);
    const { key } = await keyRes.json<{ key: { id: string; key: string; prefix: string } }>();
    expect(key.key).toMatch(/^wk_[0-9a-f]{40}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    expect((await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": key.key })).status).toBe(200);

    const listed = await (await call("GET", `/admin/apps/${id}`)).json<{ keys: Array<Record<string, unknown>> }>();
    expect(listed.keys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(key.key);

    const revoked = await call("DELETE", `/admin/apps/${id}/keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect((await revoked.json<{ key: { revokedAt: number | null } }>()).key.revokedAt).toBeGreaterThan(0);
    clearWriteKeyCache();
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": key.key })).status).toBe(401);
  });

  it("seeds idempotently: an existing app is a 409 and a given key already on the app is returned again", async () => {
    const id = `app_${crypto.randomUUID().slice(0, 8)}`;
    expect((await call("POST", "/admin/apps", { id, name: "Demo" })).status).toBe(201);
    expect((await call("POST", "/admin/apps", { id, name: "Demo" })).status).toBe(409);
    const given = `wk_local_${crypto.randomUUID()}`;
    expect((await call("POST", `/admin/apps/${id}/keys`, { key: given })).status).toBe(201);
    expect((await call("POST", `/admin/apps/${id}/keys`, { key: given })).status).toBe(201);
    const other = `app_${crypto.randomUUID().slice(0, 8)}`;
    await call("POST", "/admin/apps", { id: other, name: "Other" });
    expect((await call("POST", `/admin/apps/${other}/keys`, { key: given })).status).toBe(409);
  });

  it("lists each shard of an app with its backlog, counters and SQLite rows", async () => {
    const { appId, key } = await createTestApp({ shardCount: 2 });
    const batch = Array.from({ length: 20 }, () => trackEvent());
    expect((await post("/v1/batch", { batch }, { "x-write-key": key })).status).toBe(200);
    const res = await call("GET", `/admin/apps/${appId}/shards`);
    expect(res.status).toBe(200);
    const { shards } = await res.json<{ shards: Array<{ shard: number; counters: Record<string, number>; storage: { rowsWritten: number; bytes: number } }> }>();
    expect(shards.map((s) => s.shard)).toEqual([0, 1]);
    expect(shards.reduce((n, s) => n + (s.counters.accepted ?? 0), 0)).toBe(20);
    expect(shards.reduce((n, s) => n + s.storage.rowsWritten, 0)).toBeGreaterThanOrEqual(20);
    expect((await call("GET", "/admin/apps/app_nope/shards")).status).toBe(404);
  });

  it("refuses bad input and missing tokens in the error shape", async () => {
    const cases: Array<[Response, number, string]> = [
      [await call("POST", "/admin/apps", { id: "Bad Id!", name: "x" }), 400, "invalid_body"],
      [await call("POST", "/admin/apps", "{nope"), 400, "invalid_json"],
      [await call("POST", "/admin/apps", { id: "app_ok", name: "x", redactionPolicy: { action: "shred" } }), 400, "invalid_body"],
      [await call("POST", "/admin/apps/app_missing/keys", {}), 404, "not_found"],
      [await call("DELETE", "/admin/apps/app_missing/keys/key_x"), 404, "not_found"],
      [await call("DELETE", "/admin/apps/app_missing"), 404, "not_found"],
      [await call("DELETE", "/admin/apps/Bad%20Id!"), 404, "not_found"],
      [await call("DELETE", "/admin/apps/app_missing", undefined, {}), 401, "unauthorized"],
      [await call("GET", "/admin/apps", undefined, {}), 401, "unauthorized"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe(code);
    }
  });
});
