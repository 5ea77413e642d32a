// A deleted app through the Worker: its key stops at once on every edge (the edge's key cache
// is left warm on purpose), its id is never given out again, in any organisation, and its rows
// leave ClickHouse, also when ClickHouse was down at the time or rows land late.
import { createExecutionContext, createScheduledController, env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp, inOrg } from "../workers/apps/store";
import { AppsService } from "../workers/apps/service";
import { PURGE_CRON } from "../workers/cron";
import worker from "../workers/index";
import { chHeaders, chQuery, post, setClickHouse, trackEvent } from "./seed";

const admin = { authorization: "Bearer test-admin-token", "content-type": "application/json" };

function adminCall(method: string, path: string, body?: unknown): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, { method, headers: admin, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

/** Every ClickHouse table that holds an app's rows, with how many rows each holds of `appId`. */
async function rowsEverywhere(appId: string): Promise<Record<string, number>> {
  const tables = await chQuery<{ table: string }>(
    `SELECT DISTINCT c.table AS table FROM system.columns AS c
     JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
     WHERE c.database = currentDatabase() AND c.name = 'app_id' AND t.engine LIKE '%MergeTree' AND c.table != 'ingest_batches'`,
  );
  const counts: Record<string, number> = {};
  for (const { table } of tables) {
    const [row] = await chQuery<{ n: string }>("SELECT count() AS n FROM {t:Identifier} WHERE app_id = {app:String}", { t: table, app: appId });
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

async function newAppWithKey(id: string): Promise<string> {
  expect((await adminCall("POST", "/admin/apps", { id, name: "Temporary", rateLimit: 0, shardCount: 3 })).status).toBe(201);
  const res = await adminCall("POST", `/admin/apps/${id}/keys`, { name: "web" });
  expect(res.status).toBe(201);
  return (await res.json<{ key: { key: string } }>()).key.key;
}

async function sendAndLand(id: string, key: string, n: number): Promise<void> {
  const batch = Array.from({ length: n }, (_, i) => trackEvent({ anonymousId: `u-${i}`, context: { sessionId: `s-${i % 3}` } }));
  expect((await post("/v1/batch", { batch }, { "x-write-key": key })).status).toBe(200);
  await vi.waitUntil(async () => ((await rowsEverywhere(id)).events ?? 0) >= n, { timeout: 20_000, interval: 200 });
}

afterEach(async () => {
  await setClickHouse("up");
});

describe("deleting an app", () => {
  it("stops its key at once, keeps its id taken and removes its rows from every ClickHouse table", async () => {
    const id = `app_tmp_${crypto.randomUUID().slice(0, 8)}`;
    const key = await newAppWithKey(id);
    await sendAndLand(id, key, 12);
    // Rollups, sessions and profiles fill in the insert of the events; the pipeline counters
    // arrive in their own message a little later: wait until every kind holds the app's rows.
    const tablesWithRows = async (): Promise<number> => Object.values(await rowsEverywhere(id)).filter((n) => n > 0).length;
    await vi.waitUntil(async () => (await tablesWithRows()) >= 6, { timeout: 20_000, interval: 200 });
    expect(await rowsEverywhere(id)).toMatchObject({ events: 12 });

    const deleted = await adminCall("DELETE", `/admin/apps/${id}`);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ app: { id }, purged: true });

    // The key is still in this edge's cache (it authenticated a moment ago): the app's batchers refuse it.
    const late = await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": key });
    expect(late.status).toBe(401);
    expect(total(await rowsEverywhere(id))).toBe(0);

    expect((await adminCall("GET", `/admin/apps/${id}`)).status).toBe(404);
    expect((await adminCall("DELETE", `/admin/apps/${id}`)).status).toBe(404);
    const listed = await (await adminCall("GET", "/admin/apps")).json<{ apps: Array<{ id: string }> }>();
    expect(listed.apps.map((a) => a.id)).not.toContain(id);
    expect((await adminCall("POST", `/admin/apps/${id}/keys`, { name: "again" })).status).toBe(404);

    const again = await adminCall("POST", "/admin/apps", { id, name: "Reused" });
    expect(again.status).toBe(409);
    const { error } = await again.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe("conflict");
    expect(error.message).not.toContain(id);
  });

  it("removes its source maps, grouping rules, issue states, flags, configuration and dashboard cards' results with it", async () => {
    const id = `app_tmp_${crypto.randomUUID().slice(0, 8)}`;
    await newAppWithKey(id);
    const map = { version: 3, sources: ["src/a.ts"], names: [], mappings: "AAAA" };
    for (const release of ["1.0.0", "1.1.0"]) {
      const put = await SELF.fetch(`https://edge.test/admin/apps/${id}/releases/${release}/sourcemaps/app.js`, { method: "PUT", headers: admin, body: JSON.stringify(map) });
      expect(put.status).toBe(201);
    }
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO crash_rules (id, app_id, position, action, match_type, created_at) VALUES (?, ?, 0, 'merge', 'ChunkLoadError', ?)").bind(`r-${id}`, id, now),
      env.DB.prepare("INSERT INTO crash_issue_states (app_id, fingerprint, status, changed_at) VALUES (?, 'fp1', 'resolved', ?)").bind(id, now),
      env.DB.prepare("INSERT INTO crash_issue_history (app_id, fingerprint, status, at) VALUES (?, 'fp1', 'resolved', ?)").bind(id, now),
      env.DB.prepare("INSERT INTO flags (app_id, key, definition, version, updated_at, updated_by) VALUES (?, 'checkout', '{}', 1, ?, 'dev')").bind(id, now),
      env.DB.prepare("INSERT INTO flag_changes (app_id, key, version, before, after, at, by) VALUES (?, 'checkout', 1, NULL, '{}', ?, 'dev')").bind(id, now),
      env.DB.prepare("INSERT INTO app_config_versions (app_id, version, config, at, by) VALUES (?, 1, '{}', ?, 'dev')").bind(id, now),
      env.DB.prepare("INSERT OR IGNORE INTO orgs (id, name, created_at) VALUES ('org_tenancy_cards', 'Cards', ?)").bind(now),
      env.DB.prepare("INSERT INTO card_results (key, org_id, app_id, span, computed_at, value) VALUES (?, 'org_tenancy_cards', ?, '', ?, '{}')").bind(`card-${id}`, id, now),
    ]);
    expect((await env.ARCHIVE.list({ prefix: `sourcemaps/${id}/` })).objects).toHaveLength(2);

    const deleted = await adminCall("DELETE", `/admin/apps/${id}`);
    expect(await deleted.json()).toMatchObject({ purged: true });

    expect((await env.ARCHIVE.list({ prefix: `sourcemaps/${id}/` })).objects).toHaveLength(0);
    for (const table of ["crash_rules", "crash_issue_states", "crash_issue_history", "flags", "flag_changes", "app_config_versions", "card_results"]) {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE app_id = ?`).bind(id).first<{ n: number }>();
      expect({ table, n: row?.n }).toEqual({ table, n: 0 });
    }
  });

  it("gives a deleted id to no organisation, and answers a taken id the same whoever holds it", async () => {
    const id = `app_tmp_${crypto.randomUUID().slice(0, 8)}`;
    const taken = `app_taken_${crypto.randomUUID().slice(0, 8)}`;
    const orgA = `org_a_${crypto.randomUUID().slice(0, 8)}`;
    const orgB = `org_b_${crypto.randomUUID().slice(0, 8)}`;
    for (const org of [orgA, orgB]) await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)").bind(org, org, Date.now()).run();
    expect(await createApp(env.DB, inOrg(orgA), { id, name: "A's" })).not.toBe("unavailable");
    expect(await createApp(env.DB, inOrg(orgA), { id: taken, name: "A's other" })).not.toBe("unavailable");

    const service = new AppsService(createExecutionContext(), env);
    // Another organisation cannot delete it, nor learn that it exists.
    expect(await service.deleteApp(orgB, id)).toEqual({ deleted: false, purged: false });
    expect(await service.deleteApp(orgA, id)).toEqual({ deleted: true, purged: true });

    for (const org of [orgA, orgB]) {
      expect(await createApp(env.DB, inOrg(org), { id, name: "again" })).toBe("unavailable");
      expect(await createApp(env.DB, inOrg(org), { id: taken, name: "again" })).toBe("unavailable");
    }
    const viaAdmin = await Promise.all([id, taken].map(async (x) => (await adminCall("POST", "/admin/apps", { id: x, name: "x" })).json<{ error: { message: string } }>()));
    expect(viaAdmin[0]?.error.message).toBe(viaAdmin[1]?.error.message);
  });

  it("finishes the purge from the cron when ClickHouse was down, and again for rows that land late", async () => {
    const id = `app_tmp_${crypto.randomUUID().slice(0, 8)}`;
    const key = await newAppWithKey(id);
    await sendAndLand(id, key, 5);

    await setClickHouse("down");
    const deleted = await adminCall("DELETE", `/admin/apps/${id}`);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ purged: false });
    // The tombstone and the revoked key do not wait for ClickHouse.
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": key })).status).toBe(401);
    const keys = await env.DB.prepare("SELECT revoked_at FROM write_keys WHERE app_id = ?").bind(id).all<{ revoked_at: number | null }>();
    expect(keys.results.every((k) => k.revoked_at !== null)).toBe(true);
    expect((await rowsEverywhere(id)).events).toBe(5);

    await setClickHouse("up");
    const runCron = async (at: number): Promise<void> => {
      await worker.scheduled(createScheduledController({ scheduledTime: at, cron: PURGE_CRON }), env);
    };
    await runCron(Date.now());
    expect(total(await rowsEverywhere(id))).toBe(0);

    // A batch still queued at the time of the delete lands afterwards: the next runs remove it.
    const now = new Date().toISOString();
    const late = { app_id: id, type: "track", event: "Late", message_id: "late-1", anonymous_id: "u", timestamp: now, received_at: now };
    const res = await fetch(`${env.CLICKHOUSE_DIRECT_URL}/?query=${encodeURIComponent("INSERT INTO events FORMAT JSONEachRow")}&date_time_input_format=best_effort`, {
      method: "POST",
      headers: chHeaders(),
      body: JSON.stringify(late),
    });
    expect(res.ok).toBe(true);
    await res.text();
    expect((await rowsEverywhere(id)).events).toBe(1);
    await runCron(Date.now() + 60 * 60 * 1000);
    expect(total(await rowsEverywhere(id))).toBe(0);
  });
});
