// Dedup without a SQLite row per event (decision record 0021), in the AppBatcher itself: ids are
// held exactly until ClickHouse confirmed their batch, then only Bloom filters remember them, and
// what they cannot rule out travels marked for the sink to settle.
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeQueueMessage, encodeEventRow, messageIdOfRow, utf8Length, type SinkMessage } from "../schemas";
import { queueBodyText } from "../workers/queue/packed";
import { eventsQueue } from "../workers/queue/route";
import type { AppBatcher, BufferedEvent, IngestTarget } from "./app-batcher";
import { BlockedBloom, DEFAULT_WINDOW, LEGACY_BITS_PER_ID } from "./dedup/bloom";
import { fingerprint } from "./dedup/fingerprint";
import { filterPageKey } from "./dedup/tiers";
import { appOfMessage } from "../test/queue-delivery";
import { blankRow, restart } from "../test/seed";

// Rows as the edge writes them; `time` is the client's event time.
function events(n: number, prefix = crypto.randomUUID(), time = "2026-11-30 12:00:00.000"): BufferedEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const row = encodeEventRow(blankRow("app", `${prefix}-${i}`, time));
    return { messageId: `${prefix}-${i}`, row, bytes: utf8Length(row) };
  });
}

function batcher(): { stub: DurableObjectStub<AppBatcher>; target: IngestTarget } {
  const name = crypto.randomUUID();
  return { stub: env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${name}:0`)), target: { appId: name, shard: 0, shardCount: 1, rateLimit: 0 } };
}

/**
 * Catches `appId`'s queue sends instead of delivering them while `run` runs, and hands its event
 * messages to `onEvents`. Other apps' messages go through untouched (`appOfMessage`).
 */
function catchSends(queue: Queue, appId: string, onEvents: (messages: SinkMessage[]) => Promise<void> | void): void {
  const [send, sendBatch] = [queue.send.bind(queue), queue.sendBatch.bind(queue)];
  const ours = (body: unknown): SinkMessage | null => {
    const m = decodeQueueMessage(queueBodyText(body));
    return m?.kind === "events" && m.appId === appId ? m : null;
  };
  vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
    const own = [...msgs].flatMap((m) => ours(m.body) ?? []);
    if (own.length === 0) return sendBatch(msgs);
    await onEvents(own);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendBatchResponse;
  });
  vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
    if (appOfMessage(body) !== appId) return send(body, opts);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendResponse;
  });
}

/** Runs the shard's alarm with its queue sends caught instead of delivered; returns the event messages sent. */
async function flushCaught(stub: DurableObjectStub<AppBatcher>, appId: string): Promise<SinkMessage[]> {
  const sent: SinkMessage[] = [];
  await runInDurableObject(stub, async (instance: AppBatcher) => {
    catchSends(eventsQueue((instance as unknown as { env: Env }).env, appId), appId, (messages) => {
      sent.push(...messages);
    });
    await instance.alarm();
  });
  return sent;
}

// The ids of a message's rows the sink is asked to check.
const checked = (m: SinkMessage): string[] => (m.check ?? []).map((i) => messageIdOfRow(m.rows[i] ?? "") ?? "");

afterEach(() => {
  vi.restoreAllMocks();
});

describe("AppBatcher dedup", () => {
  it("holds an id exactly until ClickHouse confirmed its batch, then marks a resend for the sink to settle", async () => {
    const { stub, target } = batcher();
    const batch = events(10);
    expect(await stub.ingest(batch, target)).toEqual({ status: "ok", accepted: 10, duplicates: 0 });
    const [first] = await flushCaught(stub, target.appId);
    expect(first?.rows).toHaveLength(10);
    expect(first?.check).toBeUndefined();
    expect(first?.shard).toBe(0);
    // Sent, not yet confirmed: still exact.
    expect(await stub.ingest(batch.slice(0, 3), target)).toEqual({ status: "ok", accepted: 3, duplicates: 3 });
    expect((await stub.stats()).dedup.heldIds).toBe(10);

    await stub.stored([first?.batchId ?? ""]);
    await flushCaught(stub, target.appId);
    expect((await stub.stats()).dedup.heldIds).toBe(0);

    // Now only the filter remembers them: a resend is accepted and marked, a new id is not.
    const fresh = events(1);
    expect(await stub.ingest([...batch.slice(0, 2), ...fresh], target)).toEqual({ status: "ok", accepted: 3, duplicates: 0 });
    const [second] = await flushCaught(stub, target.appId);
    expect(second?.rows).toHaveLength(3);
    expect(checked(second ?? { batchId: "", appId: "", rows: [] }).sort()).toEqual([batch[0]?.messageId, batch[1]?.messageId].sort());
    // Marked or not, a second copy within tier 1 is still a duplicate.
    expect(await stub.ingest(batch.slice(0, 2), target)).toEqual({ status: "ok", accepted: 2, duplicates: 2 });
  });

  it("marks a resend whose client time changed once tier 1 let the id go: the filters answer for an id whatever its time", async () => {
    const { stub, target } = batcher();
    const batch = events(6);
    await stub.ingest(batch, target);
    const [first] = await flushCaught(stub, target.appId);
    await stub.stored([first?.batchId ?? ""]);
    await flushCaught(stub, target.appId);
    expect((await stub.stats()).dedup).toMatchObject({ heldIds: 0, filterIds: 6 });
    // A client that stamps a retry anew, or reuses an id, sends the same id at another time.
    const restamped = events(6, batch[0]?.messageId.replace(/-0$/, ""), "2026-11-30 19:00:00.000");
    expect(restamped.map((e) => e.messageId)).toEqual(batch.map((e) => e.messageId));
    expect(await stub.ingest(restamped, target)).toEqual({ status: "ok", accepted: 6, duplicates: 0 });
    const [second] = await flushCaught(stub, target.appId);
    expect(checked(second ?? { batchId: "", appId: "", rows: [] }).sort()).toEqual(batch.map((e) => e.messageId).sort());
  });

  it("lets ids go when ClickHouse confirms their batch before the queue's answer to the send came back", async () => {
    const { stub, target } = batcher();
    await stub.ingest(events(5), target);
    await runInDurableObject(stub, async (instance: AppBatcher) => {
      // The sink stored the batch and told the shard while the send was still in flight.
      catchSends(eventsQueue((instance as unknown as { env: Env }).env, target.appId), target.appId, (messages) => instance.stored(messages.map((m) => m.batchId)));
      await instance.alarm();
      await instance.alarm();
    });
    expect((await stub.stats()).dedup).toMatchObject({ heldIds: 0, filterIds: 5 });
  });

  it("brings its alarm forward for new rows when one was set later, to move ids to the filters", async () => {
    const { stub, target } = batcher();
    // What the end of an alarm leaves when only ids wait for their move: an alarm a minute on.
    await runInDurableObject(stub, (_i: AppBatcher, state) => state.storage.setAlarm(Date.now() + 60_000));
    const before = Date.now();
    await stub.ingest(events(3), target);
    const alarm = await runInDurableObject(stub, (_i: AppBatcher, state) => state.storage.getAlarm());
    // The flush age of the test project (wrangler.toml): a second, not the minute.
    expect(alarm).not.toBeNull();
    expect((alarm ?? Infinity) - before).toBeLessThanOrEqual(1_000 + (Date.now() - before));
  });

  it("stays exact across restarts: tier 1 comes back from its rows, the filters from their pages", async () => {
    const { stub, target } = batcher();
    const batch = events(6);
    await stub.ingest(batch, target);
    const [first] = await flushCaught(stub, target.appId);
    // Sent, not confirmed, when the object goes away.
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect(await again.ingest(batch.slice(0, 2), target)).toEqual({ status: "ok", accepted: 2, duplicates: 2 });
    expect((await again.stats()).dedup.heldIds).toBe(6);
    await again.stored([first?.batchId ?? ""]);
    await flushCaught(again, target.appId);
    expect((await again.stats()).dedup).toMatchObject({ heldIds: 0, filterIds: 6 });
    await restart(again);
    const third = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    await third.ingest(batch.slice(0, 1), target);
    const [second] = await flushCaught(third, target.appId);
    expect(checked(second ?? { batchId: "", appId: "", rows: [] })).toEqual([batch[0]?.messageId]);
  });

  it("reads the filters an older version wrote at ten bits an id, with no bits column, after it is upgraded", async () => {
    const { stub, target } = batcher();
    const batch = events(6);
    const bloom = new BlockedBloom(4_096, LEGACY_BITS_PER_ID);
    for (const e of batch) bloom.add(fingerprint(e.messageId));
    const part = Math.floor(Date.now() / DEFAULT_WINDOW.partMs);
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      state.storage.sql.exec(`
        DROP TABLE dedup_levels;
        CREATE TABLE dedup_levels (part INTEGER NOT NULL, level INTEGER NOT NULL, capacity INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (part, level));
      `);
      state.storage.sql.exec("INSERT INTO dedup_levels(part, level, capacity, count) VALUES (?, 0, 4096, 6)", part);
      state.storage.sql.exec("INSERT INTO dedup_filters(key, bits) VALUES (?, ?)", filterPageKey(part, 0, 0), bloom.bits.slice().buffer);
    });
    await restart(stub);
    const upgraded = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    const fresh = events(2);
    expect(await upgraded.ingest([...batch, ...fresh], target)).toEqual({ status: "ok", accepted: 8, duplicates: 0 });
    const [sent] = await flushCaught(upgraded, target.appId);
    expect(checked(sent ?? { batchId: "", appId: "", rows: [] }).sort()).toEqual(batch.map((e) => e.messageId).sort());
  });

  it("writes a row per call and a few per flush, and later calls write over the sent chunks' rows instead of adding rows", async () => {
    const { stub, target } = batcher();
    const written = async (): Promise<number> => (await stub.stats()).storage.rowsWritten;
    const chunkRows = (): Promise<number> => runInDurableObject(stub, (_i: AppBatcher, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM chunks").one().n);
    await stub.ingest(events(5), target);
    const start = await written();
    for (let call = 0; call < 40; call++) await stub.ingest(events(40), target);
    expect((await written()) - start).toBe(40);
    const before = await written();
    const sent = await flushCaught(stub, target.appId);
    expect(sent.flatMap((m) => m.chunks ?? [])).toHaveLength(41);
    // No chunk deleted: the plan written when made and when sent, one sent row, the counters
    // recorded in one row and shipped in the same alarm: the same few rows however many chunks.
    expect((await written()) - before).toBeLessThanOrEqual(9);
    expect((await stub.stats()).bufferedRows).toBe(0);
    const held = await chunkRows();
    const again = await written();
    const next = events(40 * 30);
    for (let call = 0; call < 30; call++) expect(await stub.ingest(next.slice(call * 40, call * 40 + 40), target)).toMatchObject({ accepted: 40, duplicates: 0 });
    expect((await written()) - again).toBe(30);
    expect(await chunkRows()).toBe(held);
    // After a restart the rows written over hold the new events, each once, and the sent ones are duplicates still.
    await restart(stub);
    const restarted = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect((await restarted.stats()).bufferedRows).toBe(1200);
    expect(await restarted.ingest([...next.slice(0, 40), ...events(1)], target)).toMatchObject({ accepted: 41, duplicates: 40 });
    const resent = await flushCaught(restarted, target.appId);
    expect(resent.flatMap((m) => m.rows)).toHaveLength(1201);
    expect(new Set(resent.flatMap((m) => m.rows).map(messageIdOfRow)).size).toBe(1201);
  });

  it("writes no SQLite row per id: a call costs the same rows whether it holds 10 events or 40", async () => {
    const rowsFor = async (perCall: number): Promise<number> => {
      const { stub, target } = batcher();
      const before = (await stub.stats()).storage.rowsWritten;
      for (let call = 0; call < 10; call++) await stub.ingest(events(perCall), target);
      await stub.stored((await flushCaught(stub, target.appId)).map((m) => m.batchId));
      await flushCaught(stub, target.appId);
      expect((await stub.stats()).dedup.heldIds).toBe(0);
      return (await stub.stats()).storage.rowsWritten - before;
    };
    const small = await rowsFor(10);
    const large = await rowsFor(40);
    // Four times the ids: a few more queue messages planned and sent, never a row per id.
    expect(large - small).toBeLessThanOrEqual(6);
    expect(large / 400).toBeLessThan(0.2);
  });
});
