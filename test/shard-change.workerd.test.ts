// Changing an app's shard count while traffic flows: events already accepted are still
// duplicates when resent after the change, whichever shard the new count sends them to (and
// whether the app placed them by messageId before, or by device); the new count waits a minute
// for every edge to read it; and it cannot change again within a day.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { batcherStub } from "../workers/apps/location";
import { shardOfEvent, SHARD_SWITCH_DELAY_MS, type Routing } from "../workers/apps/shards";
import { OPERATOR, raiseShardsAutomatically, updateAppSettings } from "../workers/apps/store";
import type { AppBatcher } from "../durable-objects/app-batcher";
import type { Config } from "../schemas";
import { clearWriteKeyCache } from "../workers/http/write-key";
import { createTestApp, post, trackEvent } from "./seed";

const settings = (shardCount: number) => ({ rateLimit: 0, shardCount, autoShards: true, retentionDays: 90, redactionPolicy: null });

async function totals(appId: string, shards: number): Promise<{ accepted: number; duplicates: number; buffered: number }> {
  const all = await Promise.all(Array.from({ length: shards }, (_, s) => batcherStub(env, "default", appId, s).stats()));
  return {
    accepted: all.reduce((n, s) => n + (s.counters.accepted ?? 0), 0),
    duplicates: all.reduce((n, s) => n + (s.counters.deduplicated ?? 0), 0),
    buffered: all.reduce((n, s) => n + s.bufferedRows, 0),
  };
}

async function send(key: string, batch: Array<Record<string, unknown>>): Promise<void> {
  const res = await post("/v1/batch", { batch }, { "x-write-key": key });
  expect(res.status).toBe(200);
}

/** `n` events from `devices` devices, the first events each from a device of its own. */
const fromDevices = (n: number, devices: number, tag = "d") => Array.from({ length: n }, (_, i) => trackEvent({ anonymousId: `${tag}-${i % devices}` }));

const shardUnder = (e: Record<string, unknown>, routing: Routing) => shardOfEvent({ messageId: String(e.messageId), anonymousId: String(e.anonymousId), userId: "" }, routing);

/** An app as it was before events were placed by device: several shards, by messageId. */
async function placedById(appId: string): Promise<void> {
  await env.DB.prepare("UPDATE apps SET shard_key = 'id' WHERE id = ?").bind(appId).run();
  clearWriteKeyCache();
}

// The change "a minute ago", as if the switch delay had passed.
async function switchNow(appId: string, ago = 1000): Promise<void> {
  await env.DB.prepare("UPDATE apps SET shards_from = ? WHERE id = ?").bind(Date.now() - ago, appId).run();
  clearWriteKeyCache();
}

describe("a shard count changed while traffic flows", () => {
  it("accepts each event once, resent before, at and after a switch from 2 shards by messageId to 4 by device", async () => {
    const { appId, key } = await createTestApp({ shardCount: 2 });
    await placedById(appId);
    const first = fromDevices(120, 120);
    await send(key, first);

    const saved = await updateAppSettings(env.DB, OPERATOR, appId, settings(4));
    expect(saved).toMatchObject({ status: "saved", shardChange: { from: 2, to: 4 } });
    expect(saved.status === "saved" && saved.shardChange ? saved.shardChange.at - Date.now() : 0).toBeGreaterThan(SHARD_SWITCH_DELAY_MS - 5_000);
    // Until the switch every edge still routes by 2, whether it read the change or not.
    clearWriteKeyCache();
    const beforeSwitch = fromDevices(40, 40, "b");
    await Promise.all([send(key, first.slice(0, 30)), send(key, beforeSwitch)]);
    expect(await totals(appId, 4)).toMatchObject({ accepted: 160, duplicates: 30 });
    expect(await routingRow(appId)).toEqual({ shard_key: "device", previous_shard_key: "id" });

    await switchNow(appId);
    // Most ids now belong to another shard, which never saw them: it asks the one that did.
    const moved = first.filter((e) => shardUnder(e, { count: 4, key: "device" }) !== shardUnder(e, { count: 2, key: "id" }));
    expect(moved.length).toBeGreaterThan(30);
    const after = fromDevices(60, 60, "a");
    // Sent at once, each copy twice: the resends and the new events meet in flight.
    await Promise.all([send(key, [...first, ...beforeSwitch]), send(key, after), send(key, after), send(key, first.slice(60))]);
    const t = await totals(appId, 4);
    expect(t.accepted).toBe(120 + 40 + 60);
    expect(t.duplicates).toBe(30 + 160 + 60 + 60);
  });

  it("accepts each event once across a change of a device-placed app from 2 to 4 shards, and keeps a device's events on one shard", async () => {
    const { appId, key } = await createTestApp({ shardCount: 2 });
    const first = fromDevices(200, 25);
    await send(key, first);
    expect((await updateAppSettings(env.DB, OPERATOR, appId, settings(4))).status).toBe("saved");
    expect(await routingRow(appId)).toEqual({ shard_key: "device", previous_shard_key: "device" });
    await switchNow(appId);
    expect(first.some((e) => shardUnder(e, { count: 4, key: "device" }) !== shardUnder(e, { count: 2, key: "device" }))).toBe(true);
    const after = fromDevices(100, 25, "a");
    await Promise.all([send(key, first), send(key, after), send(key, after.slice(0, 50)), send(key, first.slice(100))]);
    const t = await totals(appId, 4);
    expect(t.accepted).toBe(200 + 100);
    expect(t.duplicates).toBe(200 + 50 + 100);
  });

  it("cannot change again within a day of the switch; the same count saves freely", async () => {
    const { appId } = await createTestApp({ shardCount: 1 });
    expect((await updateAppSettings(env.DB, OPERATOR, appId, settings(3))).status).toBe("saved");
    const locked = await updateAppSettings(env.DB, OPERATOR, appId, settings(5));
    expect(locked.status).toBe("shards_locked");
    expect(locked.status === "shards_locked" ? locked.until - Date.now() : 0).toBeGreaterThan(24 * 3600_000);
    expect(await updateAppSettings(env.DB, OPERATOR, appId, { ...settings(3), rateLimit: 50 })).toEqual({ status: "saved", shardChange: null });
    await switchNow(appId, 24 * 3600_000 + 1000);
    expect(await updateAppSettings(env.DB, OPERATOR, appId, settings(5))).toMatchObject({ status: "saved", shardChange: { from: 3, to: 5 } });
    expect((await updateAppSettings(env.DB, OPERATOR, "app_nope", settings(2))).status).toBe("missing");
  });
});

interface ShardRow {
  shard_count: number;
  previous_shard_count: number | null;
  shards_from: number | null;
}

const routingRow = (appId: string) => env.DB.prepare("SELECT shard_key, previous_shard_key FROM apps WHERE id = ?").bind(appId).first<{ shard_key: string; previous_shard_key: string }>();

const shardRow = (appId: string) => env.DB.prepare("SELECT shard_count, previous_shard_count, shards_from FROM apps WHERE id = ?").bind(appId).first<ShardRow>();

const HOUR = 3_600_000;

/**
 * Makes a shard busy past `perHour` events (and, if given, `callsPerHour` calls from one device
 * each) in an hour's window, and holds its flushes. The test judges the window itself (judge) as
 * if the hour had passed: what is decided follows from the events sent alone, and no alarm of
 * the object's own judges it first, however slow the machine.
 */
async function busyAt(appId: string, perHour: number, callsPerHour = 0): Promise<DurableObjectStub<AppBatcher>> {
  const stub = batcherStub(env, "default", appId, 0);
  await runInDurableObject(stub, (instance: AppBatcher) => {
    const held = instance as unknown as { cfg: Config };
    const hotShard = { eventsPerSecond: perHour / 3600, deviceCallsPerSecond: callsPerHour / 3600, windowMs: HOUR };
    held.cfg = { ...held.cfg, flush: { maxRows: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 3_600_000 }, hotShard };
  });
  return stub;
}

interface Judged {
  load: { since: number; events: number; deviceCalls: number };
  considerShards(now: number): Promise<void>;
}

/** Judges the shard's window as if `ms` had passed since its first event: the events it had counted, and when it judged. */
const judgeAt = (stub: DurableObjectStub<AppBatcher>, ms: number) =>
  runInDurableObject(stub, async (instance: AppBatcher) => {
    const shard = instance as unknown as Judged;
    const events = shard.load.events;
    const at = shard.load.since + ms;
    await shard.considerShards(at);
    return { events, at };
  });
const judge = async (stub: DurableObjectStub<AppBatcher>, ms: number) => (await judgeAt(stub, ms)).events;

describe("automatic sharding", () => {
  it("raises a busy app's shard count once, and the new shards take its events with each accepted once", async () => {
    const { appId, key } = await createTestApp({ shardCount: 1 });
    const stub = await busyAt(appId, 200);
    const first = Array.from({ length: 150 }, () => trackEvent());
    await send(key, first);
    // 150 events in the hour: not busy. The next window starts afresh.
    expect(await judge(stub, HOUR)).toBe(150);
    expect(await shardRow(appId)).toEqual({ shard_count: 1, previous_shard_count: null, shards_from: null });
    // A window that has not passed is not judged.
    const more = Array.from({ length: 250 }, () => trackEvent());
    await send(key, more);
    await judge(stub, HOUR - 1);
    expect(await shardRow(appId)).toEqual({ shard_count: 1, previous_shard_count: null, shards_from: null });

    // 250 events in the hour: busy. Each of 3 shards then takes ~83, under half the mark.
    const judged = await judgeAt(stub, HOUR);
    expect(judged.events).toBe(250);
    const raised = await shardRow(appId);
    expect(raised).toEqual({ shard_count: 3, previous_shard_count: 1, shards_from: judged.at + SHARD_SWITCH_DELAY_MS });

    // Still busy, but the change stands for its dedup window: nothing changes again.
    await send(key, Array.from({ length: 500 }, () => trackEvent()));
    expect(await judge(stub, HOUR)).toBe(500);
    expect(await shardRow(appId)).toEqual(raised);

    await switchNow(appId);
    const after = fromDevices(90, 30);
    await Promise.all([send(key, [...first, ...more]), send(key, after), send(key, after)]);
    const t = await totals(appId, 3);
    expect(t.accepted).toBe(150 + 250 + 500 + 90);
    expect(t.duplicates).toBe(400 + 90);
    // The new shards took the new events.
    const onNew = await Promise.all([1, 2].map((s) => batcherStub(env, "default", appId, s).stats()));
    expect(onNew.every((s) => (s.counters.accepted ?? 0) > 0)).toBe(true);
  });

  it("counts the events a full shard turns away as its load", async () => {
    const { appId, key } = await createTestApp({ shardCount: 1 });
    const stub = await busyAt(appId, 4000);
    await send(key, Array.from({ length: 2500 }, () => trackEvent()));
    // Past the buffer the tests give a shard (BUFFER_MAX_ROWS 3000), with its flushes held.
    const full = await post("/v1/batch", { batch: Array.from({ length: 2500 }, () => trackEvent()) }, { "x-write-key": key });
    expect(full.status).toBe(503);
    // The admin API's view of each shard shows the window's load.
    expect((await stub.stats()).load).toEqual({ events: 5000, deviceCalls: 2, since: expect.any(Number) });
    expect(await judge(stub, HOUR)).toBe(5000);
    expect(await shardRow(appId)).toMatchObject({ shard_count: 3, previous_shard_count: 1 });
  });

  it("raises an app whose shard is busy with small requests from single devices, and not for calls that carry several devices", async () => {
    // Server requests, each of several users: a raise would not spread them, so they never count.
    const servers = await createTestApp({ shardCount: 1 });
    const serverShard = await busyAt(servers.appId, 1_000_000, 30);
    for (let i = 0; i < 40; i++) await send(servers.key, fromDevices(2, 2, `s${i}`));
    expect((await serverShard.stats()).load).toEqual({ events: 80, deviceCalls: 0, since: expect.any(Number) });
    expect(await judge(serverShard, HOUR)).toBe(80);
    expect(await shardRow(servers.appId)).toEqual({ shard_count: 1, previous_shard_count: null, shards_from: null });

    // 40 requests of one event or two, each from one device: far under the events mark, past
    // 30 calls an hour. 3 shards leave each at 13, under half the mark.
    const { appId, key } = await createTestApp({ shardCount: 1 });
    const stub = await busyAt(appId, 1_000_000, 30);
    const small = Array.from({ length: 40 }, (_, i) => fromDevices(1 + (i % 2), 1, `p${i}`));
    for (const batch of small) await send(key, batch);
    expect((await stub.stats()).load).toEqual({ events: 60, deviceCalls: 40, since: expect.any(Number) });
    const judged = await judgeAt(stub, HOUR);
    expect(judged.events).toBe(60);
    expect(await shardRow(appId)).toEqual({ shard_count: 3, previous_shard_count: 1, shards_from: judged.at + SHARD_SWITCH_DELAY_MS });

    // The new shards take the devices' next requests, each one call, and the resends are duplicates.
    await switchNow(appId);
    for (const batch of small) await send(key, batch);
    const next = Array.from({ length: 30 }, (_, i) => fromDevices(1, 1, `n${i}`));
    for (const batch of next) await send(key, batch);
    const shards = await Promise.all([0, 1, 2].map((s) => batcherStub(env, "default", appId, s).stats()));
    expect(shards.every((s) => (s.counters.accepted ?? 0) > 0)).toBe(true);
    expect(await totals(appId, 3)).toMatchObject({ accepted: 60 + 30, duplicates: 60 });
  });

  it("leaves the count alone for an app that turned it off, or while a saved change stands", async () => {
    const off = await createTestApp({ shardCount: 1, autoShards: false });
    const stub = await busyAt(off.appId, 100);
    await send(off.key, Array.from({ length: 300 }, () => trackEvent()));
    expect(await judge(stub, HOUR)).toBe(300);
    expect(await shardRow(off.appId)).toEqual({ shard_count: 1, previous_shard_count: null, shards_from: null });

    const saved = await createTestApp({ shardCount: 1 });
    expect((await updateAppSettings(env.DB, OPERATOR, saved.appId, settings(2))).status).toBe("saved");
    expect(await raiseShardsAutomatically(env.DB, saved.appId, 2, 4)).toBeNull();
    // A shard still routed by the count before a change does not undo it.
    expect(await raiseShardsAutomatically(env.DB, saved.appId, 1, 4)).toBeNull();
    expect(await shardRow(saved.appId)).toMatchObject({ shard_count: 2, previous_shard_count: 1 });
    // Past the window it may: from the count in effect only.
    await switchNow(saved.appId, 24 * 3600_000 + 1000);
    expect(await raiseShardsAutomatically(env.DB, saved.appId, 1, 4)).toBeNull();
    expect(await raiseShardsAutomatically(env.DB, saved.appId, 2, 4)).not.toBeNull();
    expect(await shardRow(saved.appId)).toMatchObject({ shard_count: 4, previous_shard_count: 2 });
  });
});
