// The data lake against the real local ClickHouse and local R2: the hourly cron writes each
// finished stored hour of an app as Parquet under Hive-style partitions with manifests (an EU
// app's in the EU bucket); a day of it replayed into an empty ClickHouse, read by the engine's
// Parquet reader, gives the same rows, counts and rollups, and replaying again stores nothing twice;
// once the day is over, the cron compacts its hourly files into one with the same rows; a person's
// deletion reaches the lake's files after ClickHouse.
import { createScheduledController, env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { chInsert, chQuery } from "../../test/seed";
import { config } from "../../schemas";
import type { LakeReplayResult } from "../../schemas/lake";
import { createApp, OPERATOR } from "../apps/store";
import { MINUTE_CRON, PURGE_CRON } from "../cron/index";
import worker from "../index";
import { clickhouseClient, insertFile } from "../lib/clickhouse";
import { archiveApp } from "./archive";
import { floorHour, HOUR_MS, readAppManifest, readDayManifest } from "./manifest";
import { replayLake } from "./replay";
import { withReplayDeps } from "./service";

const NOW = Date.now();
const DAY_START = Math.floor((NOW - 2 * 24 * HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS;
const DAY = new Date(DAY_START).toISOString().slice(0, 10);
const at = (hour: number, minute: number): string => new Date(DAY_START + hour * HOUR_MS + minute * 60_000).toISOString();
const suffix = crypto.randomUUID().replace(/-/g, "").slice(0, 8);
const SHOP = `app_lake_${suffix}`;
const EU = `app_lake_eu_${suffix}`;
const REPLAY_DB = "lake_replay";

// `inserted_at` is when ClickHouse stored a row: the hour the lake files it under. Message ids
// are the same every run because an hour is split into files by their hash: m-1 … m-5 fall into
// both halves of a two-file hour.
const row = (app: string, n: number, type: string, event: string, timestamp: string, insertedAt: string) => ({
  app_id: app,
  type,
  event,
  message_id: `m-${n}`,
  anonymous_id: `anon-${n % 3}`,
  timestamp,
  received_at: timestamp,
  inserted_at: insertedAt,
  properties: JSON.stringify({ total: n }),
});

beforeAll(async () => {
  for (const [id, location] of [[SHOP, "default"], [EU, "eu"]] as const) {
    if ((await createApp(env.DB, OPERATOR, { id, name: id, location })) === "unavailable") throw new Error(`${id} taken`);
  }
  await chInsert("events", [
    ...[1, 2, 3].map((n) => row(SHOP, n, "track", "Order Completed", at(3, n), at(3, n + 1))),
    ...[4, 5].map((n) => row(SHOP, n, "page", "", at(3, n), at(3, 10))),
    ...[6, 7].map((n) => row(SHOP, n, "screen", "Home", at(4, n), at(4, 30))),
    // Sent late: its own time is the evening before, but it was stored in the 04:00 hour.
    row(SHOP, 8, "track", "Order Completed", at(-2, 0), at(4, 31)),
    row(SHOP, 9, "track", "Signed Up", at(9, 15), at(9, 16)),
    // The hour now going on is not final: the lake leaves it for a later run.
    row(SHOP, 10, "track", "Not Final", new Date(NOW).toISOString(), new Date(NOW).toISOString()),
    ...[1, 2].map((n) => row(EU, n, "track", "Kauf", at(3, n), at(3, n))),
  ]);
});

async function keys(bucket: R2Bucket, app: string): Promise<string[]> {
  return (await bucket.list({ prefix: `lake/app=${app}/` })).objects.map((o) => o.key).sort();
}

async function replayAll(app: string, bucket: R2Bucket, database: string): Promise<{ calls: number; results: LakeReplayResult[] }> {
  const results: LakeReplayResult[] = [];
  let cursor: string | undefined;
  do {
    const page = await withReplayDeps({ ...config(env).clickhouse, database }, bucket, (deps) => replayLake(deps, app, { from: `${DAY}T00:00:00Z`, to: new Date(DAY_START + 24 * HOUR_MS).toISOString(), limit: 2, ...(cursor ? { cursor } : {}) }));
    results.push(page);
    cursor = page.cursor ?? undefined;
  } while (cursor !== undefined);
  return { calls: results.length, results };
}

const allRows = (db: string) => chQuery<Record<string, unknown>>(`SELECT * FROM ${db}.events WHERE app_id = {app:String} AND event != 'Not Final' ORDER BY message_id`, { app: SHOP });
const rollup = (db: string) =>
  chQuery<Record<string, unknown>>(`SELECT hour, type, event, sum(events) AS n FROM ${db}.events_hourly WHERE app_id = {app:String} AND event != 'Not Final' GROUP BY hour, type, event ORDER BY hour, type, event`, { app: SHOP });

describe("data lake", () => {
  it("archives each finished stored hour as Parquet files under its partition, listed by the manifests", async () => {
    const client = clickhouseClient(config(env).clickhouse);
    try {
      const result = await archiveApp({ client, buckets: env, rowsPerFile: 3 }, { id: SHOP, location: "default" }, NOW);
      expect(result).toMatchObject({ hours: 3, rows: 9, archivedThrough: new Date(floorHour(NOW - 30 * 60_000)).toISOString() });
    } finally {
      await client.close();
    }
    const stored = await keys(env.ARCHIVE, SHOP);
    const prefix = `lake/app=${SHOP}/date=${DAY}/`;
    expect(stored).toEqual(
      expect.arrayContaining([`lake/app=${SHOP}/manifest.json`, `${prefix}manifest.json`, `${prefix}hour=03/part-0001-of-0002.parquet`, `${prefix}hour=04/part-0001-of-0001.parquet`, `${prefix}hour=09/part-0001-of-0001.parquet`]),
    );
    const day = await readDayManifest(env.ARCHIVE, SHOP, DAY);
    const rowsByHour = (h: string) => (day?.files ?? []).filter((f) => f.hour.slice(11, 13) === h).reduce((n, f) => n + f.rows, 0);
    expect([rowsByHour("03"), rowsByHour("04"), rowsByHour("09")]).toEqual([5, 3, 1]);
    // An hour bigger than a file is split; the late event is filed under the hour it was stored in.
    expect(day?.files.filter((f) => f.hour.slice(11, 13) === "03").map((f) => f.parts)).toEqual([2, 2]);
    expect(day?.files.find((f) => f.hour.slice(11, 13) === "04")?.minTimestamp).toBe(at(-2, 0));
    for (const f of day?.files ?? []) {
      const object = await env.ARCHIVE.get(f.key);
      const bytes = new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0));
      expect(bytes.byteLength).toBe(f.bytes);
      expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe("PAR1");
    }
    expect(Object.values(day?.schemas ?? {})[0]).toEqual(expect.arrayContaining([{ name: "inserted_at", type: "DateTime64(3, 'UTC')" }]));
    expect(await readAppManifest(env.ARCHIVE, SHOP)).toMatchObject({ days: [{ date: DAY, files: day?.files.length, rows: 9 }] });
  });

  it("replays a day into an empty ClickHouse with the same rows, counts and rollups, and a second replay stores nothing twice", async () => {
    expect(await allRows(REPLAY_DB)).toEqual([]);
    const first = await replayAll(SHOP, env.ARCHIVE, REPLAY_DB);
    // Four files, two a request.
    expect(first.calls).toBe(2);
    expect(first.results.flatMap((r) => r.files.map((f) => f.outcome))).toEqual(["inserted", "inserted", "inserted", "inserted"]);
    expect(first.results.reduce((n, r) => n + r.rowsInserted, 0)).toBe(9);

    const original = await allRows("default");
    expect(original).toHaveLength(9);
    expect(await allRows(REPLAY_DB)).toEqual(original);
    const counts = (db: string) =>
      chQuery(`SELECT toStartOfHour(timestamp) AS hour, type, event, count() AS n FROM ${db}.events WHERE app_id = {app:String} AND event != 'Not Final' GROUP BY hour, type, event ORDER BY hour, type, event`, { app: SHOP });
    expect(await counts(REPLAY_DB)).toEqual(await counts("default"));
    expect(await rollup(REPLAY_DB)).toEqual(await rollup("default"));

    const again = await replayAll(SHOP, env.ARCHIVE, REPLAY_DB);
    expect(again.results.flatMap((r) => r.files.map((f) => f.outcome))).toEqual(["present", "present", "present", "present"]);
    expect(await allRows(REPLAY_DB)).toEqual(original);
    expect(await rollup(REPLAY_DB)).toEqual(await rollup("default"));
  });

  it("the cron archives every app (an EU app's in the EU bucket) and compacts a finished day of small hours into one file with the same rows, which replays to the same counts; a second run does nothing", async () => {
    await worker.scheduled(createScheduledController({ cron: PURGE_CRON, scheduledTime: NOW }), env);
    expect(await keys(env.ARCHIVE, EU)).toEqual([]);
    // One file of two rows: nothing to compact.
    expect(await keys(env.ARCHIVE_EU, EU)).toEqual([`lake/app=${EU}/date=${DAY}/hour=03/part-0001-of-0001.parquet`, `lake/app=${EU}/date=${DAY}/manifest.json`, `lake/app=${EU}/manifest.json`]);
    expect((await readDayManifest(env.ARCHIVE_EU, EU, DAY))?.files.map((f) => f.rows)).toEqual([2]);

    const compacted = `lake/app=${SHOP}/date=${DAY}/hour=all/part-0001-of-0001.parquet`;
    const stored = await keys(env.ARCHIVE, SHOP);
    expect(stored).toEqual([compacted, `lake/app=${SHOP}/date=${DAY}/manifest.json`, `lake/app=${SHOP}/manifest.json`]);
    const day = await readDayManifest(env.ARCHIVE, SHOP, DAY);
    expect(day?.files).toMatchObject([{ key: compacted, hour: `${DAY}T00:00:00.000Z`, hours: 24, part: 1, parts: 1, rows: 9, minTimestamp: at(-2, 0), maxTimestamp: at(9, 15) }]);
    expect(await readAppManifest(env.ARCHIVE, SHOP)).toMatchObject({ days: [{ date: DAY, files: 1, rows: 9 }] });
    const cfg = { ...config(env).clickhouse, database: REPLAY_DB };
    const client = clickhouseClient(cfg);
    try {
      await client.command({ query: "CREATE TABLE lake_compacted AS events ENGINE = Memory" });
      const object = await env.ARCHIVE.get(compacted);
      if (object === null) throw new Error("the compacted file is missing");
      await insertFile(cfg, { table: "lake_compacted", format: "Parquet", body: object.body });
      expect(await chQuery(`SELECT * FROM ${REPLAY_DB}.lake_compacted ORDER BY message_id`)).toEqual(await allRows("default"));
      // Replayed into an empty ClickHouse, the day gives the same counts.
      await client.command({ query: "TRUNCATE TABLE events" });
    } finally {
      await client.close();
    }
    const replayed = await replayAll(SHOP, env.ARCHIVE, REPLAY_DB);
    expect(replayed.results.flatMap((r) => r.files.map((f) => [f.key, f.outcome]))).toEqual([[compacted, "inserted"]]);
    expect(await allRows(REPLAY_DB)).toEqual(await allRows("default"));

    await worker.scheduled(createScheduledController({ cron: PURGE_CRON, scheduledTime: NOW }), env);
    expect(await keys(env.ARCHIVE, SHOP)).toEqual(stored);
    expect(await readDayManifest(env.ARCHIVE, SHOP, DAY)).toEqual(day);
  });

  it("answers the admin API: the manifest, a replay, 400 for a bad range and 404 for no app; a deleted app's lake goes with it", async () => {
    const admin = (path: string, body?: unknown) =>
      SELF.fetch(`https://edge.test/admin/apps/${path}`, { method: body === undefined ? "GET" : "POST", headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const manifest = await admin(`${EU}/lake`);
    expect(await manifest.json()).toMatchObject({ location: "eu", manifest: { app: EU, days: [{ date: DAY, rows: 2 }] } });

    const range = { from: `${DAY}T00:00:00Z`, to: `${DAY}T23:59:59Z` };
    for (const bad of [{ ...range, from: "yesterday" }, { from: range.to, to: range.from }, { ...range, limit: 0 }, { ...range, extra: 1 }]) {
      const res = await admin(`${EU}/lake/replay`, bad);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_body" } });
    }
    expect((await admin(`app_nope_${suffix}/lake/replay`, range)).status).toBe(404);
    // The Worker's own ClickHouse still holds these rows: nothing is inserted again.
    const replayed = await admin(`${EU}/lake/replay`, range);
    expect(await replayed.json()).toEqual({ files: [{ key: `lake/app=${EU}/date=${DAY}/hour=03/part-0001-of-0001.parquet`, rows: 2, outcome: "present" }], rowsInserted: 0, cursor: null });

    const deleted = await SELF.fetch(`https://edge.test/admin/apps/${EU}`, { method: "DELETE", headers: { authorization: "Bearer test-admin-token" } });
    expect(deleted.status).toBe(200);
    await deleted.text();
    expect(await keys(env.ARCHIVE_EU, EU)).toEqual([]);
  });

  it("rewrites the files holding a deleted person's events without them once ClickHouse is done with the deletion", async () => {
    const headers = { authorization: "Bearer test-admin-token", "content-type": "application/json" };
    const asked = await SELF.fetch(`https://edge.test/admin/apps/${SHOP}/privacy/deletions`, { method: "POST", headers, body: JSON.stringify({ anonymousId: "anon-1" }) });
    expect(asked.status).toBe(202);
    const { request } = await asked.json<{ request: { id: string; requestedAt: number } }>();
    // The privacy job deletes the rows from ClickHouse once the edge has stopped taking the person's events.
    for (const minutes of [1, 10]) await worker.scheduled(createScheduledController({ cron: MINUTE_CRON, scheduledTime: request.requestedAt + minutes * 60_000 }), env);
    expect(await chQuery("SELECT count() AS n FROM events WHERE app_id = {app:String} AND anonymous_id = 'anon-1'", { app: SHOP })).toEqual([{ n: "0" }]);

    await worker.scheduled(createScheduledController({ cron: PURGE_CRON, scheduledTime: NOW }), env);
    const day = await readDayManifest(env.ARCHIVE, SHOP, DAY);
    expect(day?.files.reduce((n, f) => n + f.rows, 0)).toBe(6);
    // Every file read back by the engine: the lake holds what ClickHouse holds.
    const cfg = { ...config(env).clickhouse, database: REPLAY_DB };
    const client = clickhouseClient(cfg);
    try {
      await client.command({ query: "CREATE TABLE lake_check AS events ENGINE = Memory" });
    } finally {
      await client.close();
    }
    for (const f of day?.files ?? []) {
      const object = await env.ARCHIVE.get(f.key);
      if (object === null) throw new Error(`${f.key} is listed but missing`);
      await insertFile(cfg, { table: "lake_check", format: "Parquet", body: object.body });
    }
    expect(await chQuery(`SELECT * FROM ${REPLAY_DB}.lake_check ORDER BY message_id`)).toEqual(await allRows("default"));
    expect(await env.DB.prepare("SELECT lake_done_at FROM privacy_requests WHERE id = ?1").bind(request.id).first<{ lake_done_at: number }>()).toEqual({ lake_done_at: NOW });
  });
});
