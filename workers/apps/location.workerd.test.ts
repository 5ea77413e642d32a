// Per-app data location in workerd: an EU app is created and shown as such by the admin API,
// its batchers are made from the EU jurisdiction (seen through a recording namespace, since
// workerd itself has no jurisdictions), and its source maps and dead letters land in the EU
// bucket and leave with the app.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AppBatcher } from "../../durable-objects/app-batcher";
import { encodeSinkMessage } from "../../schemas";
import { deliver } from "../../test/queue-delivery";
import { basicAuth, blankRow, trackEvent } from "../../test/seed";
import worker from "../index";
import { handleDeadLetterBatch } from "../queue/dead-letters";
import { deleteApp } from "./delete";
import { withDeletionDeps } from "./service";
import { OPERATOR } from "./store";

const admin = { authorization: "Bearer test-admin-token", "content-type": "application/json" };
const MAP = JSON.stringify({ version: 3, file: "app.js", sources: ["src/app.ts"], names: [], mappings: "AAAA" });

/** The APP_BATCHER binding, recording the names of the ids made from its EU jurisdiction and from itself. */
function recordingBatchers(real: DurableObjectNamespace<AppBatcher>): { ns: DurableObjectNamespace<AppBatcher>; eu: string[]; plain: string[] } {
  const eu: string[] = [];
  const plain: string[] = [];
  const recording = (names: string[], jurisdiction: boolean): DurableObjectNamespace<AppBatcher> =>
    new Proxy(real, {
      get(target, prop) {
        if (prop === "jurisdiction") return (j: string) => (j === "eu" && jurisdiction ? recording(eu, false) : Reflect.get(target, prop));
        if (prop === "idFromName")
          return (name: string) => {
            names.push(name);
            return target.idFromName(name);
          };
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { ns: recording(plain, true), eu, plain };
}

async function call(method: string, path: string, body?: string, testEnv: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://edge.test${path}`, { method, headers: admin, ...(body === undefined ? {} : { body }) }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function newApp(location?: "eu" | "default"): Promise<{ id: string; key: string }> {
  const id = `app_loc_${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
  const created = await call("POST", "/admin/apps", JSON.stringify({ id, name: "Located", rateLimit: 0, ...(location ? { location } : {}) }));
  expect(created.status).toBe(201);
  const key = await (await call("POST", `/admin/apps/${id}/keys`, JSON.stringify({ name: "web" }))).json<{ key: { key: string } }>();
  return { id, key: key.key.key };
}

const keysIn = async (bucket: R2Bucket, prefix: string): Promise<string[]> => (await bucket.list({ prefix })).objects.map((o) => o.key);

describe("per-app data location", () => {
  it("is chosen at creation, shown by the admin API, and refused when unknown", async () => {
    const eu = await newApp("eu");
    const plain = await newApp();
    expect(await (await call("GET", `/admin/apps/${eu.id}`)).json()).toMatchObject({ app: { id: eu.id, location: "eu" } });
    expect(await (await call("GET", `/admin/apps/${plain.id}`)).json()).toMatchObject({ app: { id: plain.id, location: "default" } });

    const bad = await call("POST", "/admin/apps", JSON.stringify({ id: "app_loc_mars", name: "Mars", location: "mars" }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("location");
    // Raw events cannot outlive the events table's 90-day TTL, so a longer retention is refused.
    const long = await call("POST", "/admin/apps", JSON.stringify({ id: "app_loc_long", name: "Long", retentionDays: 365 }));
    expect(long.status).toBe(400);
  });

  it("buffers an EU app's events in batchers of the EU jurisdiction, and other apps' outside it", async () => {
    const eu = await newApp("eu");
    const plain = await newApp();
    const batchers = recordingBatchers(env.APP_BATCHER);
    const send = async (key: string): Promise<Response> => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request("https://edge.test/v1/batch", { method: "POST", headers: { "content-type": "application/json", authorization: basicAuth(key) }, body: JSON.stringify({ batch: [trackEvent()] }) }),
        { ...env, APP_BATCHER: batchers.ns },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect(await (await send(eu.key)).json()).toMatchObject({ accepted: 1 });
    expect(await (await send(plain.key)).json()).toMatchObject({ accepted: 1 });
    expect(batchers.eu).toEqual([`${eu.id}:0`]);
    expect(batchers.plain).toEqual([`${plain.id}:0`]);

    // Without the recording stand-in, workerd runs the EU app's batchers locally and ingest works.
    const ctx = createExecutionContext();
    const local = await worker.fetch(
      new Request("https://edge.test/v1/batch", { method: "POST", headers: { "content-type": "application/json", authorization: basicAuth(eu.key) }, body: JSON.stringify({ batch: [trackEvent()] }) }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(local.status).toBe(200);
  });

  it("keeps an EU app's source maps and dead letters in the EU bucket, and removes them with the app", async () => {
    const eu = await newApp("eu");
    const plain = await newApp();
    for (const app of [eu, plain]) expect((await call("PUT", `/admin/apps/${app.id}/releases/1.0.0/sourcemaps/app.js`, MAP)).status).toBe(201);
    expect(await keysIn(env.ARCHIVE_EU, `sourcemaps/${eu.id}/`)).toEqual([`sourcemaps/${eu.id}/1.0.0/app.js.map`]);
    expect(await keysIn(env.ARCHIVE, `sourcemaps/${eu.id}/`)).toEqual([]);
    expect(await keysIn(env.ARCHIVE, `sourcemaps/${plain.id}/`)).toEqual([`sourcemaps/${plain.id}/1.0.0/app.js.map`]);
    expect(await (await call("GET", `/admin/apps/${eu.id}/releases/1.0.0/sourcemaps`)).json()).toMatchObject({ sourceMaps: [{ file: "app.js" }] });

    const letter = (appId: string) => encodeSinkMessage(`${appId}:0:1`, appId, [JSON.stringify(blankRow(appId, `${appId}-dead`, "2026-11-20 10:00:00.000"))]);
    expect((await deliver(handleDeadLetterBatch, "telemetry-events-dlq", [letter(eu.id), letter(plain.id)])).acked).toHaveLength(2);
    const euLetters = (await keysIn(env.ARCHIVE_EU, "dead-letters/")).filter((k) => k.includes(eu.id));
    expect(euLetters).toHaveLength(1);
    expect((await keysIn(env.ARCHIVE, "dead-letters/")).filter((k) => k.includes(eu.id))).toEqual([]);
    expect((await keysIn(env.ARCHIVE, "dead-letters/")).filter((k) => k.includes(plain.id))).toHaveLength(1);
    // The operator's listing spans both buckets and says where each letter is.
    const listed = await (await call("GET", "/admin/dead-letters")).json<{ deadLetters: Array<{ key: string; location: string }> }>();
    expect(listed.deadLetters.filter((d) => d.key.includes(eu.id)).map((d) => d.location)).toEqual(["eu"]);

    const batchers = recordingBatchers(env.APP_BATCHER);
    const result = await withDeletionDeps({ ...env, APP_BATCHER: batchers.ns }, (deps) => deleteApp(deps, OPERATOR, eu.id));
    expect(result).toEqual({ deleted: true, purged: true });
    // Every shard it may have used is retired where it lives.
    expect(batchers.eu).toHaveLength(64);
    expect(batchers.plain).toEqual([]);
    expect(await keysIn(env.ARCHIVE_EU, `sourcemaps/${eu.id}/`)).toEqual([]);
  });
});
