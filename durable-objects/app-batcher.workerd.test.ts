import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { decodeQueueMessage, decodeSinkMessage, encodeEventRow, LIMITS, utf8Length, type Config, type SinkMessage, type TallyMessage } from "../schemas";
import { DEAD_LETTER_PREFIX } from "../workers/queue/dead-letters";
import { packText, queueBodyText } from "../workers/queue/packed";
import { eventsQueue } from "../workers/queue/route";
import { appOfMessage } from "../test/queue-delivery";
import { basicAuth, blankRow, createTestApp, noise, post, restart, trackEvent } from "../test/seed";
import type { AppBatcher, BufferedEvent, IngestResult, IngestTarget } from "./app-batcher";
import type { CallGroup, GroupPart } from "./call-group";
import { Outbox, type OutgoingRow } from "./outbox";
import type { Tallies } from "./tallies";

function events(n: number, prefix = crypto.randomUUID(), pad = 400): BufferedEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const row = encodeEventRow({ ...blankRow("app", `${prefix}-${i}`, "2026-11-20 10:00:00.000"), properties: { pad: "x".repeat(pad) } });
    return { messageId: `${prefix}-${i}`, row, bytes: utf8Length(row) };
  });
}

// Events whose rows each carry about `pad` characters of noise: they reach the queue's packed
// limit before its text limit.
function noisy(n: number, prefix = crypto.randomUUID(), pad = 3_000): BufferedEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const row = encodeEventRow({ ...blankRow("app", `${prefix}-${i}`, "2026-11-20 10:00:00.000"), properties: { pad: noise(pad) } });
    return { messageId: `${prefix}-${i}`, row, bytes: utf8Length(row) };
  });
}

// A row as the edge wrote it, without the batch id its chunk gave it.
const bare = (row: string): string => row.replace(/,"[^"]*"\]$/, ',""]');

// Events as the outbox stores them, none marked for the sink to check.
const outgoing = (list: readonly BufferedEvent[]): OutgoingRow[] => list.map((e) => ({ row: e.row, bytes: e.bytes, id: e.messageId, check: false }));

function batcher(name = crypto.randomUUID()): { stub: DurableObjectStub<AppBatcher>; target: IngestTarget } {
  return { stub: env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${name}:0`)), target: { appId: name, shard: 0, shardCount: 1, rateLimit: 0 } };
}

/**
 * Gives the object an hour's flush age instead of the second it is configured with, for a test
 * that runs the flush itself (runDurableObjectAlarm) and watches what it sends: the alarm an
 * ingest sets can then not fire on its own before the test is watching, however slow the machine.
 */
async function holdFlushes(stub: DurableObjectStub<AppBatcher>): Promise<void> {
  await runInDurableObject(stub, (instance: AppBatcher) => {
    const held = instance as unknown as { cfg: Config };
    held.cfg = { ...held.cfg, flush: { ...held.cfg.flush, maxAgeMs: 3_600_000 } };
  });
}

/** An event message as the shard sent it: its packed body unpacked. */
const sinkOf = async (body: unknown): Promise<SinkMessage | null> => decodeSinkMessage(queueBodyText(body));

function tallyOf(body: unknown): TallyMessage | null {
  const m = decodeQueueMessage(body);
  return m?.kind === "tallies" ? m : null;
}

/** The messages of `appId` among those sent. */
function ownMessages(msgs: Iterable<MessageSendRequest>, appId: string): MessageSendRequest[] {
  return [...msgs].filter((m) => appOfMessage(m.body) === appId);
}

// The object's own bindings, to watch what it sends to the queue.
function queueOf(instance: AppBatcher, appId: string): Queue {
  return eventsQueue((instance as unknown as { env: Env }).env, appId);
}

// Collects into `sent` the counter messages of `appId` the object sends, and still sends them.
function watchTallies(instance: AppBatcher, appId: string, sent: TallyMessage[]): void {
  const queue = queueOf(instance, appId);
  const original = queue.send.bind(queue);
  vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
    // Other batchers share the queue binding and may ship their own counters meanwhile.
    const m = tallyOf(body);
    if (m?.appId === appId) sent.push(m);
    return original(body, opts);
  });
}

describe("AppBatcher", () => {
  it("stores events and drops a messageId it saw in the last 24 hours", async () => {
    const { stub, target } = batcher();
    const batch = events(10);
    expect(await stub.ingest(batch, target)).toEqual({ status: "ok", accepted: 10, duplicates: 0 });
    expect(await stub.ingest([...batch.slice(0, 4), ...events(2)], target)).toEqual({ status: "ok", accepted: 6, duplicates: 4 });
    // A messageId twice in one request is stored once.
    const [twin] = events(1);
    if (twin) expect(await stub.ingest([twin, twin], target)).toEqual({ status: "ok", accepted: 2, duplicates: 1 });
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(13);
    expect(stats.counters).toMatchObject({ accepted: 13, deduplicated: 5 });
  });

  it("reports the SQLite rows it read and wrote and its database size, which the cost benchmark bills", async () => {
    const { stub, target } = batcher();
    await stub.ingest(events(10), target);
    const before = (await stub.stats()).storage;
    await stub.ingest(events(10), target);
    const after = (await stub.stats()).storage;
    // A request's rows and ids are one chunk row, its counters one more: no row per messageId.
    expect(after.rowsWritten - before.rowsWritten).toBeGreaterThan(0);
    expect(after.rowsWritten - before.rowsWritten).toBeLessThanOrEqual(3);
    expect(after.rowsRead).toBeGreaterThan(before.rowsRead);
    expect(after.bytes).toBeGreaterThan(0);
  });

  it("compares messageIds as sent: a lone surrogate and U+FFFD are different ids, and each is a duplicate of itself", async () => {
    const { stub, target } = batcher();
    const event = (id: string): BufferedEvent => {
      const row = JSON.stringify({ message_id: id });
      return { messageId: id, row, bytes: row.length };
    };
    const ok = (accepted: number, duplicates: number) => ({ status: "ok", accepted, duplicates });
    expect(await stub.ingest([event("x\ud801")], target)).toEqual(ok(1, 0));
    expect(await stub.ingest([event("x\ufffd")], target)).toEqual(ok(1, 0));
    // The JSON text of the first id, sent as an id of its own.
    expect(await stub.ingest([event('"x\\ud801"')], target)).toEqual(ok(1, 0));
    expect(await stub.ingest([event("x\ud801"), event("x\ufffd"), event('"x\\ud801"'), event("\udc00")], target)).toEqual(ok(4, 3));
    expect((await stub.stats()).bufferedRows).toBe(4);
  });

  it("flushes on its alarm into queue messages under 128 KB packed and a megabyte of text that carry every row once", async () => {
    const { stub, target } = batcher();
    await holdFlushes(stub);
    await stub.ingest(events(1_200), target);
    await stub.ingest(events(1_200), target);
    const sent: unknown[] = [];
    await runInDurableObject(stub, (instance: AppBatcher) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.sendBatch.bind(queue);
      vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
        for (const m of ownMessages(msgs, target.appId)) sent.push(m.body);
        return original(msgs);
      });
    });
    const logged = vi.spyOn(console, "log").mockImplementation(() => undefined);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // One line for the flush, with what it sent and what is left.
    const flushes = logged.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>).filter((l) => l.event === "batcher.flush" && l.app === target.appId);
    expect(flushes).toEqual([expect.objectContaining({ level: "info", shard: 0, events: 2_400, messages: sent.length, chunks: expect.any(Number), backlog: 0, ms: expect.any(Number) })]);
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(0);
    expect(stats.counters.flushed).toBe(2_400);
    const texts = sent.map(queueBodyText);
    const textBytes = texts.map((t) => new TextEncoder().encode(t ?? "").byteLength);
    // Planned by their packed size, messages fill up to their text limit: about 2 MB of rows in a
    // few messages, where planning by a 120 KB text took about twenty.
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.length).toBeLessThanOrEqual(4);
    sent.forEach((body, i) => {
      expect(body).toBeInstanceOf(Uint8Array);
      const packed = body instanceof Uint8Array ? body.byteLength : Infinity;
      expect(textBytes[i]).toBeLessThanOrEqual(LIMITS.maxQueueMessageTextBytes);
      expect(packed).toBeLessThan((textBytes[i] ?? 0) / 4);
    });
    const rows = texts.flatMap((b) => decodeSinkMessage(b)?.rows ?? []);
    expect(rows).toHaveLength(2_400);
    expect(new Set(rows).size).toBe(2_400);
    await runInDurableObject(stub, () => vi.restoreAllMocks());
  });

  it("keeps rows when a send fails and resends them later under the same batch ids", async () => {
    const { stub, target } = batcher();
    await stub.ingest(events(50), target);
    const attempts: string[][] = [];
    await runInDurableObject(stub, async (instance: AppBatcher) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.sendBatch.bind(queue);
      const spy = vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
        const own = ownMessages(msgs, target.appId);
        if (own.length === 0) return original(msgs);
        attempts.push(await Promise.all(own.map(async (m) => (await sinkOf(m.body))?.batchId ?? "")));
        throw new Error("queue unavailable");
      });
      await expect(instance.flush()).rejects.toThrow("queue unavailable");
      expect((await instance.stats()).bufferedRows).toBe(50);
      // New events after the failure must not change the batch that is resent.
      await instance.ingest(events(5), target);
      spy.mockImplementation(async (msgs) => {
        const own = ownMessages(msgs, target.appId);
        if (own.length > 0) attempts.push(await Promise.all(own.map(async (m) => (await sinkOf(m.body))?.batchId ?? "")));
        return original(msgs);
      });
      await instance.flush();
      vi.restoreAllMocks();
    });
    expect(attempts[0]).toEqual(attempts[1]);
    expect((await stub.stats()).bufferedRows).toBe(0);
  });

  it("keeps buffered events across a restart and flushes them afterwards", async () => {
    const { stub, target } = batcher();
    await stub.ingest(events(25), target);
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect((await again.stats()).bufferedRows).toBe(25);
    expect(await runDurableObjectAlarm(again)).toBe(true);
    expect((await again.stats()).bufferedRows).toBe(0);
  });

  it("counts its backlog's bytes as stored: what it holds before a flush, and none after it", async () => {
    const { stub, target } = batcher();
    await holdFlushes(stub);
    const batch = events(30);
    await stub.ingest(batch, target);
    const held = await stub.stats();
    // The rows as stored in chunks, unpacked: each row, and a newline between two rows of one chunk.
    const chunks = await runInDurableObject(stub, (_i: AppBatcher, state) => state.storage.sql.exec<{ seq: number; data: ArrayBuffer }>("SELECT seq, data FROM chunks ORDER BY seq").toArray());
    const texts = chunks.map((c) => (queueBodyText(c.data) ?? "").slice(1));
    expect(held.bufferedBytes).toBe(new TextEncoder().encode(texts.join("")).byteLength);
    expect(texts.join("\n").split("\n").map(bare)).toEqual(batch.map((e) => e.row));
    // Each row carries its chunk's batch id, the id of a message that starts with the chunk.
    chunks.forEach((c, i) => {
      for (const row of texts[i]?.split("\n") ?? []) expect(row.endsWith(`,"${target.appId}:0:${c.seq}"]`)).toBe(true);
    });
    // Packed: SQLite writes a fraction of the rows' pages.
    expect(chunks.reduce((n, c) => n + c.data.byteLength, 0)).toBeLessThan(held.bufferedBytes / 3);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.stats()).toMatchObject({ bufferedRows: 0, bufferedBytes: 0 });
  });

  it("stores a request's rows in one chunk while they fit a message packed, a few when not, and takes over rows stored one per event by older versions", async () => {
    const { stub, target } = batcher();
    const chunkRows = (): Promise<Array<{ rows: number; packed: number }>> =>
      runInDurableObject(stub, (_i: AppBatcher, state) => state.storage.sql.exec<{ rows: number; packed: number }>("SELECT rows, length(data) AS packed FROM chunks ORDER BY seq").toArray());
    // 300 rows of about 900 bytes: a quarter megabyte of text, one SQLite row.
    await stub.ingest(events(300), target);
    expect((await chunkRows()).map((c) => c.rows)).toEqual([300]);
    // Rows that barely pack are parted so that each chunk still fits a queue message alone.
    await stub.ingest(noisy(200), target);
    const parted = (await chunkRows()).slice(1);
    expect(parted.length).toBeGreaterThan(1);
    expect(parted.length).toBeLessThan(10);
    expect(parted.reduce((n, c) => n + c.rows, 0)).toBe(200);
    for (const c of parted) expect(c.packed).toBeLessThanOrEqual(96_000);
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      state.storage.sql.exec("CREATE TABLE buffer (seq INTEGER PRIMARY KEY AUTOINCREMENT, bytes INTEGER NOT NULL, row TEXT NOT NULL)");
      state.storage.sql.exec("INSERT INTO buffer(seq, bytes, row) VALUES (1000, 5, '{\"a\"}'), (1001, 5, '{\"b\"}')");
    });
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect((await again.stats()).bufferedRows).toBe(502);
  });

  it("takes over the messages older versions planned a row each, and resends them under their batch ids", async () => {
    const { stub, target } = batcher();
    // Stored without a call, so no alarm flushes them before the older row is in place.
    const batchId = await runInDurableObject(stub, (_i: AppBatcher, state) => {
      const sql = state.storage.sql;
      sql.exec("INSERT INTO meta(key, value) VALUES ('app', ?), ('shard', '0')", target.appId);
      new Outbox(state.storage).store(`${target.appId}:0`, outgoing(events(30)), Date.now());
      const chunks = sql.exec<{ seq: number; rows: number; bytes: number }>("SELECT seq, rows, bytes FROM chunks ORDER BY seq").toArray();
      const first = chunks[0]?.seq ?? 0;
      const last = chunks[chunks.length - 1]?.seq ?? 0;
      sql.exec("CREATE TABLE outbox (batch_id TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL)");
      // An id no plan made today: only the older row can have given it.
      const id = `${target.appId}:0:older-${first}`;
      sql.exec("INSERT INTO outbox VALUES (?, ?, ?, ?, ?)", id, first, last, 30, chunks.reduce((n, c) => n + c.bytes, 0));
      return id;
    });
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect((await again.stats()).pendingMessages).toBe(1);
    const sent: string[] = [];
    await runInDurableObject(again, async (instance: AppBatcher, state) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.sendBatch.bind(queue);
      vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
        for (const m of msgs) {
          const sink = await sinkOf(m.body);
          if (sink?.appId === target.appId) sent.push(sink.batchId);
        }
        return original(msgs);
      });
      await instance.flush();
      vi.restoreAllMocks();
      expect(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'outbox'").one().n).toBe(0);
    });
    expect(sent).toEqual([batchId]);
    expect((await again.stats()).bufferedRows).toBe(0);
  });

  it("numbers chunks on from the highest number an older, AUTOINCREMENT table gave, so no batch id comes back", async () => {
    const { stub, target } = batcher();
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      state.storage.sql.exec(`
        DROP TABLE chunks;
        CREATE TABLE chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, rows INTEGER NOT NULL, bytes INTEGER NOT NULL, data TEXT NOT NULL, at INTEGER);
        INSERT INTO chunks(seq, rows, bytes, data, at) VALUES (500, 1, 5, '{"a"}', 0);
        DELETE FROM chunks;
      `);
    });
    // The batch ids the shard sends from now on, whether its alarm or the test flushes.
    const sentIds = async (shard: DurableObjectStub<AppBatcher>, n: number): Promise<string[]> => {
      const sent: string[] = [];
      await runInDurableObject(shard, (instance: AppBatcher) => {
        const queue = queueOf(instance, target.appId);
        const original = queue.sendBatch.bind(queue);
        vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
          for (const m of msgs) {
            const sink = await sinkOf(m.body);
            if (sink?.appId === target.appId) sent.push(sink.batchId);
          }
          return original(msgs);
        });
      });
      await shard.ingest(events(n), target);
      await runInDurableObject(shard, async (instance: AppBatcher) => {
        await instance.flush();
        vi.restoreAllMocks();
      });
      return sent;
    };
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect(await sentIds(again, 3)).toEqual([`${target.appId}:0:501`]);
    const table = await runInDurableObject(again, (_i: AppBatcher, state) => state.storage.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'chunks'").one().sql);
    expect(table).not.toMatch(/AUTOINCREMENT/i);
    // Sent and gone, the chunks leave their highest number behind for the next start.
    await restart(again);
    const third = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect(await sentIds(third, 2)).toEqual([`${target.appId}:0:502`]);
  });

  it("builds an older chunks table again with the rows after the small columns, keeping what it held", async () => {
    const { stub, target } = batcher();
    const batch = events(3);
    await stub.ingest(batch, target);
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      state.storage.sql.exec(`
        CREATE TABLE chunks_old (seq INTEGER PRIMARY KEY, rows INTEGER NOT NULL, bytes INTEGER NOT NULL, data TEXT NOT NULL, at INTEGER, ids TEXT, checks TEXT, tally TEXT);
        INSERT INTO chunks_old(seq, rows, bytes, data, at, ids, checks, tally) SELECT seq, rows, bytes, data, at, ids, checks, tally FROM chunks;
        DROP TABLE chunks;
        ALTER TABLE chunks_old RENAME TO chunks;
      `);
    });
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect((await again.stats()).bufferedRows).toBe(3);
    expect(await again.ingest(batch, target)).toEqual({ status: "ok", accepted: 3, duplicates: 3 });
    const columns = await runInDurableObject(again, (_i: AppBatcher, state) => state.storage.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('chunks') ORDER BY cid").toArray().map((c) => c.name));
    expect(columns.at(-1)).toBe("data");
  });

  it("counts since it started in memory, and drops the counters table older versions wrote on every request", async () => {
    const { stub, target } = batcher();
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      state.storage.sql.exec("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
      state.storage.sql.exec("INSERT INTO counters(name, value) VALUES ('accepted', 7)");
    });
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    const batch = events(10);
    await again.ingest(batch, target);
    await again.ingest(batch.slice(0, 3), target);
    expect((await again.stats()).counters).toEqual({ accepted: 10, deduplicated: 3 });
    const tables = await runInDurableObject(again, (_i: AppBatcher, state) => state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((r) => r.name));
    expect(tables).not.toContain("counters");
  });

  it("answers full with a wait once its backlog passes the cap, and keeps what it holds", async () => {
    const { stub, target } = batcher();
    // A queue that takes nothing from this app keeps the backlog whenever the alarm runs.
    await runInDurableObject(stub, (instance: AppBatcher) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.sendBatch.bind(queue);
      vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
        if ((await Promise.all([...msgs].map((m) => sinkOf(m.body)))).some((sink) => sink?.appId === target.appId)) throw new Error("queue unavailable");
        return original(msgs);
      });
    });
    // The test project caps a shard at 3,000 rows.
    expect(await stub.ingest(events(2500), target)).toMatchObject({ status: "ok", accepted: 2500 });
    const full = await stub.ingest(events(600), target);
    expect(full).toEqual({ status: "full", retryAfter: expect.any(Number) });
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(2500);
    expect(stats.counters).toMatchObject({ accepted: 2500, "rejected/buffer_full": 600 });
    await runInDurableObject(stub, () => vi.restoreAllMocks());
  });

  it("counts refusals when nothing was accepted and ships them on an alarm it sets itself", async () => {
    const { stub, target } = batcher();
    await holdFlushes(stub);
    await stub.refuse(target, { rejected: { invalid_event: 3 }, refused: "invalid_json" });
    expect(await runInDurableObject(stub, (_i: AppBatcher, state) => state.storage.getAlarm())).not.toBeNull();
    const sent: TallyMessage[] = [];
    const points: AnalyticsEngineDataPoint[] = [];
    await runInDurableObject(stub, (instance: AppBatcher) => {
      watchTallies(instance, target.appId, sent);
      // Miniflare's dataset drops what it is given: the object's own binding is watched instead.
      vi.spyOn((instance as unknown as { env: Env }).env.PIPELINE_METRICS, "writeDataPoint").mockImplementation((p) => void (p && points.push(p)));
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.appId).toBe(target.appId);
    expect(sent[0]?.tallies.map((t) => [t.stage, t.reason, t.n])).toEqual([
      ["rejected", "invalid_event", 3],
      ["refused", "invalid_json", 1],
    ]);
    // The same counters go to Analytics Engine as they leave, one data point each.
    expect(points).toEqual([
      { blobs: ["rejected", "invalid_event", target.appId], doubles: [3], indexes: [target.appId] },
      { blobs: ["refused", "invalid_json", target.appId], doubles: [1], indexes: [target.appId] },
    ]);
    await runInDurableObject(stub, () => vi.restoreAllMocks());
  });

  it("takes over the counters older versions kept a row each, and numbers their batch on from the older sequence", async () => {
    const { stub, target } = batcher();
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      const sql = state.storage.sql;
      sql.exec("INSERT INTO meta(key, value) VALUES ('app', ?), ('shard', '0'), ('tally_seq', '7')", target.appId);
      sql.exec("CREATE TABLE tallies (minute INTEGER NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, UNIQUE (minute, stage, reason))");
      sql.exec("INSERT INTO tallies VALUES (1764500400, 'accepted', '', 40), (1764500400, 'rejected', 'invalid_event', 2)");
    });
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    const sent: TallyMessage[] = [];
    await runInDurableObject(again, async (instance: AppBatcher, state) => {
      watchTallies(instance, target.appId, sent);
      expect(await instance.shipTallies()).toBe(1);
      vi.restoreAllMocks();
      expect(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'tallies'").one().n).toBe(0);
    });
    expect(sent.map((m) => [m.batchId, m.tallies.map((t) => [t.minute, t.stage, t.reason, t.n])])).toEqual([
      [
        `${target.appId}:0:t8`,
        [
          [1764500400, "accepted", "", 40],
          [1764500400, "rejected", "invalid_event", 2],
        ],
      ],
    ]);
  });

  it("keeps its counters when their send fails and resends them under the same batch id", async () => {
    const { stub, target } = batcher();
    const batch = events(5);
    await stub.ingest(batch, target);
    await stub.ingest(batch.slice(0, 2), target);
    const attempts: Array<TallyMessage | null> = [];
    await runInDurableObject(stub, async (instance: AppBatcher) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.send.bind(queue);
      // Other batchers share the queue binding: only this object's messages are refused or watched.
      const ours = (body: unknown): TallyMessage | null => {
        const m = tallyOf(body);
        return m?.appId === target.appId ? m : null;
      };
      const spy = vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
        const m = ours(body);
        if (!m) return original(body, opts);
        attempts.push(m);
        throw new Error("queue unavailable");
      });
      await expect(instance.shipTallies()).rejects.toThrow("queue unavailable");
      // Counted after the failure: they wait for the next message instead of changing this one.
      await instance.ingest(events(1), target);
      spy.mockImplementation(async (body, opts) => {
        const m = ours(body);
        if (m) attempts.push(m);
        return original(body, opts);
      });
      expect(await instance.shipTallies()).toBe(1);
      vi.restoreAllMocks();
    });
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toEqual(attempts[0]);
    // In any order: the sink adds them up.
    expect(attempts[0]?.tallies.map((t) => [t.stage, t.n]).sort()).toEqual([
      ["accepted", 5],
      ["deduplicated", 2],
    ]);
  });

  it("rate-limits per app across its shards", async () => {
    const app = await createTestApp({ rateLimit: 100, shardCount: 64 });
    const auth = { "x-write-key": app.key };
    const started = Date.now();
    let accepted = 0;
    let limited = 0;
    for (let i = 0; i < 12; i++) {
      const batch = Array.from({ length: 2500 }, (_, j) => ({ type: "track", event: "e", anonymousId: `device-${j}`, messageId: `rl-${i}-${j}` }));
      const res = await post("/v1/batch", { batch }, auth);
      if (res.status === 200) accepted += batch.length;
      else {
        expect(res.status).toBe(429);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        limited++;
      }
    }
    // Whatever its 64 shards hold, the app gets its burst of one full batch (plus what one
    // request may overdraw) and its rate over the time taken.
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(accepted).toBeLessThanOrEqual(2 * 2500 + 100 * seconds);
    expect(limited).toBeGreaterThan(0);
  });

  it("accepts a batch larger than one shard's share of the burst once the shards have refilled", async () => {
    const app = await createTestApp({ rateLimit: 1000, shardCount: 64 });
    const auth = { "x-write-key": app.key };
    // From many devices, so each shard takes its share of the batch.
    const batch = (tag: string) => Array.from({ length: 2500 }, (_, j) => ({ type: "track", event: "e", anonymousId: `device-${j}`, messageId: `${tag}-${j}` }));
    expect((await post("/v1/batch", { batch: batch("first") }, auth)).status).toBe(200);
    const second = batch("second");
    const over = await post("/v1/batch", { batch: second }, auth);
    expect(over.status).toBe(429);
    // A client that resends after each wait gets through; the parts stored by an earlier try
    // come back as duplicates and cost nothing again.
    let answer: { accepted?: number; duplicates?: number } = {};
    await vi.waitUntil(
      async () => {
        const res = await post("/v1/batch", { batch: second }, auth);
        if (res.status === 200) answer = await res.json();
        else await res.body?.cancel();
        return res.status === 200;
      },
      { timeout: 25_000, interval: 500 },
    );
    expect(answer.accepted).toBe(2500);
  });
});

describe("AppBatcher call groups", () => {
  // A window far longer than any test, so a group is stored when it is full or settled, never
  // by its timer: what the test sees does not depend on the machine's speed.
  async function grouping(stub: DurableObjectStub<AppBatcher>, maxCalls: number): Promise<void> {
    await runInDurableObject(stub, (instance: AppBatcher) => {
      const held = instance as unknown as { group: CallGroup<GroupPart> };
      held.group.configure({ windowMs: 3_600_000, maxCalls, maxRows: 100_000 });
    });
  }
  const written = async (stub: DurableObjectStub<AppBatcher>): Promise<number> => (await stub.stats()).storage.rowsWritten;

  it("stores calls that come together in one chunk row, and counts a copy in a later call of the group as a duplicate", async () => {
    const rowsFor = async (maxCalls: number): Promise<{ rows: number; results: IngestResult[]; buffered: number; stores: unknown }> => {
      const { stub, target } = batcher();
      await grouping(stub, maxCalls);
      // No flush may write rows between the two readings, however slow the machine.
      await holdFlushes(stub);
      await stub.ingest(events(5), target);
      const before = await written(stub);
      const b = events(10);
      const results = await Promise.all([stub.ingest(b, target), stub.ingest(events(10), target), stub.ingest([b[3] as BufferedEvent, ...events(9)], target)]);
      const stats = await stub.stats();
      return { rows: stats.storage.rowsWritten - before, results, buffered: stats.bufferedRows, stores: stats.stores };
    };
    // Concurrent calls reach the shard's check in no fixed order: whichever of the two copies
    // comes second is the duplicate, and the call without a copy has none.
    const ok = (duplicates: number): IngestResult => ({ status: "ok", accepted: 10, duplicates });
    const expectAnswered = ([first, other, third]: readonly IngestResult[]): void => {
      expect(other).toEqual(ok(0));
      expect([first, third]).toEqual(expect.arrayContaining([ok(0), ok(1)]));
    };
    const together = await rowsFor(3);
    expectAnswered(together.results);
    expect(together.buffered).toBe(5 + 29);
    expect(together.rows).toBe(1);
    expect(together.stores).toEqual({ calls: 4, groups: 2, chunks: 2 });
    // The same calls stored one by one: a chunk row each.
    const alone = await rowsFor(1);
    expectAnswered(alone.results);
    expect(alone.rows).toBe(3);
    expect(alone.stores).toEqual({ calls: 4, groups: 4, chunks: 4 });
  });

  it("sends a group's rows once each, and keeps them across a restart", async () => {
    const { stub, target } = batcher();
    await grouping(stub, 2);
    await holdFlushes(stub);
    const first = events(1);
    await stub.ingest(first, target);
    const calls = [events(20), events(20)];
    await Promise.all(calls.map((c) => stub.ingest(c, target)));
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect((await again.stats()).bufferedRows).toBe(41);
    const sent: string[] = [];
    await runInDurableObject(again, (instance: AppBatcher) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.sendBatch.bind(queue);
      vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
        for (const m of ownMessages(msgs, target.appId)) sent.push(...(decodeSinkMessage(queueBodyText(m.body))?.rows ?? []).map((r) => String((JSON.parse(r) as unknown[])[4])));
        return original(msgs);
      });
    });
    expect(await runDurableObjectAlarm(again)).toBe(true);
    await runInDurableObject(again, () => vi.restoreAllMocks());
    expect(sent.sort()).toEqual([first, ...calls].flat().map((e) => e.messageId).sort());
  });

  it("fails every call of a group whose store fails, and stores them once when they are sent again", async () => {
    const { stub, target } = batcher();
    await grouping(stub, 3);
    await holdFlushes(stub);
    await stub.ingest(events(1), target);
    const calls = [events(10), events(10), events(10)];
    await runInDurableObject(stub, (instance: AppBatcher) => {
      const outbox = (instance as unknown as { outbox: Outbox }).outbox;
      vi.spyOn(outbox, "store").mockImplementationOnce(() => {
        throw new Error("SQLITE_FULL: database or disk is full");
      });
    });
    const failed = await Promise.allSettled(calls.map((c) => stub.ingest(c, target)));
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect((await stub.stats()).bufferedRows).toBe(1);
    // The clients send the same calls again: nothing of them was held, so nothing is a duplicate.
    const resent = await Promise.all(calls.map((c) => stub.ingest(c, target)));
    expect(resent).toEqual(calls.map(() => ({ status: "ok", accepted: 10, duplicates: 0 })));
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(31);
    expect(stats.counters).toMatchObject({ accepted: 31 });
  });

  it("stores a waiting call before it answers another shard's question, so its ids are held", async () => {
    const { stub, target } = batcher();
    await grouping(stub, 32);
    await stub.ingest(events(1), target);
    const waiting = events(5);
    const call = stub.ingest(waiting, target);
    // Calls on one stub are not delivered in a fixed order: the question waits until the call is in the group.
    const waitingInGroup = (): Promise<boolean> => runInDurableObject(stub, (instance: AppBatcher) => (instance as unknown as { group: CallGroup<GroupPart> }).group.size === 1);
    await vi.waitUntil(waitingInGroup, { timeout: 20_000, interval: 20 });
    const asked = await stub.holds(waiting.map((e) => e.messageId));
    expect(asked.held.sort()).toEqual(waiting.map((e) => e.messageId).sort());
    expect(await call).toEqual({ status: "ok", accepted: 5, duplicates: 0 });
  });
});

describe("Outbox", () => {
  it("gives the rows of chunks stored by versions before their chunk's batch id when it sends them", async () => {
    const { stub } = batcher();
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      const outbox = new Outbox(state.storage);
      outbox.migrate();
      const [older, packedOlder, current] = [events(3), events(2), events(2)];
      const text = (list: readonly BufferedEvent[]): string => list.map((e) => e.row).join("\n");
      // Text (before rows were packed), and packed without a batch id (before 0034).
      state.storage.sql.exec("INSERT INTO chunks(seq, rows, bytes, at, data) VALUES (1, 3, ?, ?, ?)", utf8Length(text(older)), Date.now(), text(older));
      state.storage.sql.exec("INSERT INTO chunks(seq, rows, bytes, at, data) VALUES (2, 2, ?, ?, ?)", utf8Length(text(packedOlder)), Date.now(), packText(`\n${text(packedOlder)}`).slice().buffer);
      outbox.migrate();
      outbox.store("app:0", outgoing(current), Date.now());
      outbox.plan("app:0");
      const [m] = outbox.pending();
      if (!m) throw new Error("nothing planned");
      expect(m).toMatchObject({ batchId: "app:0:1", firstSeq: 1, lastSeq: 3, rows: 7 });
      const message = decodeSinkMessage(queueBodyText(outbox.encode(m, "app", { shard: 0 }).packed));
      expect(message?.chunks).toEqual(["app:0:1", "app:0:2", "app:0:3"]);
      const named = (list: readonly BufferedEvent[], seq: number): string[] => list.map((e) => e.row.replace(/,""\]$/, `,"app:0:${seq}"]`));
      expect(message?.rows).toEqual([...named(older, 1), ...named(packedOlder, 2), ...named(current, 3)]);
    });
  });

  it("stores rows in chunks, plans them under stable batch ids, and gives back a sent message's stored bytes", async () => {
    const { stub } = batcher();
    await runInDurableObject(stub, (_i: AppBatcher, state) => {
      const outbox = new Outbox(state.storage);
      outbox.migrate();
      // Rows that barely pack: the queue's packed limit parts them into several chunks and messages.
      const first = noisy(300);
      const at = Date.now();
      const { bytes: stored, chunks } = outbox.store("app:0", outgoing(first), at);
      expect(chunks.flatMap((c) => c.ids)).toEqual(first.map((e) => e.messageId));
      // Rows in a chunk are separated by one newline each.
      expect(stored).toBeGreaterThan(first.reduce((n, e) => n + e.bytes, 0));
      expect(outbox.backlog()).toEqual({ rows: 300, bytes: stored });
      expect(outbox.oldestAt()).toBe(at);

      outbox.plan("app:0");
      const planned = outbox.pending();
      expect(planned.length).toBeGreaterThan(1);
      expect(outbox.pendingCount()).toBe(planned.length);
      expect(planned.reduce((n, m) => n + m.rows, 0)).toBe(300);
      for (const m of planned) expect(m.batchId).toBe(`app:0:${m.firstSeq}`);
      // Planning again adds nothing: every stored row is in a message already.
      outbox.plan("app:0");
      expect(outbox.pending()).toEqual(planned);

      const [head, ...rest] = planned;
      if (!head) throw new Error("nothing planned");
      const encoded = outbox.encode(head, "app", { shard: 0 });
      const text = queueBodyText(encoded.packed);
      expect(encoded.bytes).toBe(new TextEncoder().encode(text ?? "").byteLength);
      const message = decodeSinkMessage(text);
      const ids = Array.from({ length: head.lastSeq - head.firstSeq + 1 }, (_, i) => `app:0:${head.firstSeq + i}`);
      expect(message).toMatchObject({ batchId: head.batchId, appId: "app", shard: 0, chunks: ids, count: head.rows });
      expect(message?.rows.map(bare)).toEqual(first.slice(0, head.rows).map((e) => e.row));
      const dropped = outbox.drop([head]);
      expect(outbox.backlog()).toEqual({ rows: 300 - head.rows, bytes: stored - dropped.bytes });
      // The rows it carried are handed on as accepted, once.
      expect(dropped.tallies.reduce((n, t) => n + t.accepted, 0)).toBe(head.rows);
      expect(outbox.takeTallies().reduce((n, t) => n + t.accepted, 0)).toBe(300 - head.rows);
      expect(outbox.takeTallies()).toEqual([]);
      expect(outbox.pending()).toEqual(rest);

      // Rows stored later go into new messages; the messages planned before keep their ids.
      outbox.store("app:0", outgoing(events(10)), at + 1000);
      outbox.plan("app:0");
      const now = outbox.pending();
      expect(now.slice(0, rest.length)).toEqual(rest);
      expect(now.slice(rest.length).reduce((n, m) => n + m.rows, 0)).toBe(10);

      outbox.clear();
      expect(outbox.backlog()).toEqual({ rows: 0, bytes: 0 });
      expect(outbox.oldestAt()).toBeNull();
      expect(outbox.pendingCount()).toBe(0);
    });
  });
});

describe("AppBatcher.retire", () => {
  it("drops what it holds and refuses, records and sends nothing afterwards", async () => {
    const { stub, target } = batcher();
    const batch = events(20);
    await stub.ingest(batch, target);
    await stub.refuse(target, { rejected: { invalid_event: 2 } });
    await stub.retire();
    const stored = await runInDurableObject(stub, (_i: AppBatcher, state) => {
      const count = (table: string): number => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
      return { chunks: count("chunks"), outbox: JSON.parse(state.storage.sql.exec<{ plan: string }>("SELECT plan FROM outbox_plan").one().plan).length, dedup: count("dedup_sent") + count("dedup_levels") + count("dedup_filters"), tallies: (JSON.parse(state.storage.sql.exec<{ state: string }>("SELECT state FROM tally_state").one().state) as { counts: unknown[] }).counts.length + count("crash_drops") + count("tally_outbox") };
    });
    expect(stored).toEqual({ chunks: 0, outbox: 0, dedup: 0, tallies: 0 });
    expect((await stub.stats()).bufferedRows).toBe(0);

    expect(await stub.ingest(events(3), target)).toEqual({ status: "gone" });
    await stub.refuse(target, { rejected: { invalid_event: 1 } });
    // Still retired after a restart: the mark is in storage, not only in memory.
    await restart(stub);
    const again = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${target.appId}:0`));
    expect(await again.ingest(batch.slice(0, 2), target)).toEqual({ status: "gone" });
    // The queue binding is shared by every batcher of the isolate: an earlier test's shards may
    // still be flushing their own apps' counters through it meanwhile. Only this app's count.
    const sends: unknown[] = [];
    const ours = (body: unknown): boolean => JSON.stringify(body).includes(target.appId);
    await runInDurableObject(again, (instance: AppBatcher, state) => {
      const queue = queueOf(instance, target.appId);
      const [send, sendBatch] = [queue.send.bind(queue), queue.sendBatch.bind(queue)];
      vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
        if (ours(body)) sends.push(body);
        return send(body, opts);
      });
      vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
        const list = [...msgs];
        sends.push(...list.filter(ours));
        return sendBatch(list);
      });
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(again);
    expect(sends).toEqual([]);
    expect((await again.stats()).bufferedRows).toBe(0);
    await runInDurableObject(again, () => vi.restoreAllMocks());
  });

  it("makes the Worker answer a retired app's writes as an unknown key", async () => {
    const app = await createTestApp({ shardCount: 2 });
    for (const shard of [0, 1]) await env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:${shard}`)).retire();
    const res = await post("/v1/batch", { batch: [trackEvent(), trackEvent(), trackEvent()] }, { authorization: basicAuth(app.key) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "unknown or revoked write key" } });
  });
});

/** The dead letters archived in R2 for an app, by key, with their text. */
async function deadLettersOf(appId: string): Promise<Map<string, { text: string; meta: Record<string, string> }>> {
  const out = new Map<string, { text: string; meta: Record<string, string> }>();
  const listing = await env.ARCHIVE.list({ prefix: DEAD_LETTER_PREFIX });
  for (const o of listing.objects) {
    if (!o.key.includes(`/${appId}:`)) continue;
    const body = await env.ARCHIVE.get(o.key);
    out.set(o.key, { text: (await body?.text()) ?? "", meta: body?.customMetadata ?? {} });
  }
  return out;
}

/** Records what the object sends; `refuse` decides which sendBatch calls fail. */
// The queue binding is shared by every batcher of the isolate, and earlier tests' batchers may
// still be shipping their counters: only this app's messages are watched or refused.
async function watchQueue(stub: DurableObjectStub<AppBatcher>, appId: string, refuse: (bodies: string[]) => boolean): Promise<{ rows: string[]; tallies: TallyMessage[] }> {
  const seen = { rows: [] as string[], tallies: [] as TallyMessage[] };
  const ours = (body: string): boolean => decodeQueueMessage(body)?.appId === appId;
  await runInDurableObject(stub, (instance: AppBatcher) => {
    const queue = queueOf(instance, appId);
    const [send, sendBatch] = [queue.send.bind(queue), queue.sendBatch.bind(queue)];
    vi.spyOn(queue, "sendBatch").mockImplementation(async (msgs) => {
      const bodies = [...msgs].map((m) => queueBodyText(m.body)).filter((b): b is string => b !== null && ours(b));
      if (bodies.length > 0 && refuse(bodies)) throw new Error("Unknown Internal Error (15000)");
      for (const b of bodies) seen.rows.push(...(decodeSinkMessage(b)?.rows ?? []));
      return sendBatch(msgs);
    });
    vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
      const t = tallyOf(body);
      if (t && t.appId === appId) seen.tallies.push(t);
      return send(body, opts);
    });
  });
  return seen;
}

const deadLettered = (tallies: readonly TallyMessage[]): Array<[string, number]> =>
  tallies.flatMap((t) => t.tallies.filter((x) => x.stage === "dead_lettered").map((x): [string, number] => [x.reason, x.n]));

describe("AppBatcher with a message the queue cannot take", () => {
  it("plans counter messages that fit a queue message however long their reasons", async () => {
    const { stub, target } = batcher();
    await stub.refuse(target, { rejected: { invalid_event: 1 } });
    // Counters with the longest reasons and counts a queue message could carry.
    await runInDurableObject(stub, (instance: AppBatcher) => {
      const tallies = (instance as unknown as { tallies: Tallies }).tallies;
      tallies.batch(() => {
        for (let i = 0; i < 3000; i++) tallies.record("dead_lettered", `${i}`.padEnd(64, "r"), 2147483647, (1_764_000_000 - (i % 500) * 60) * 1000);
      });
    });
    const bodies: string[] = [];
    await runInDurableObject(stub, async (instance: AppBatcher) => {
      const queue = queueOf(instance, target.appId);
      const original = queue.send.bind(queue);
      vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
        if (tallyOf(body)?.appId !== target.appId) return original(body, opts);
        bodies.push(String(body));
        return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } } } as unknown as QueueSendResponse;
      });
      while ((await instance.shipTallies()) > 0) (instance as unknown as { lastTallyShip: number }).lastTallyShip = 0;
      vi.restoreAllMocks();
    });
    expect(bodies.length).toBeGreaterThan(2);
    for (const body of bodies) expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(LIMITS.maxQueueMessageBytes);
  });

  it("archives a message over the queue's size limit to R2 unchanged, counts it, and sends the rows behind it", async () => {
    const { stub, target } = batcher();
    await holdFlushes(stub);
    // A row stored before rows were limited: packed, far over what one queue message may hold.
    const [poison] = noisy(1, "poison", 240_000);
    if (!poison) throw new Error("no row");
    const poisonRow = poison.row;
    await stub.ingest([poison], target);
    const behind = events(30);
    await stub.ingest(behind, target);
    const seen = await watchQueue(stub, target.appId, () => false);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(new Set(seen.rows.map(bare))).toEqual(new Set(behind.map((e) => e.row)));
    const dead = [...(await deadLettersOf(target.appId)).values()];
    expect(dead).toHaveLength(1);
    expect(decodeSinkMessage(dead[0]?.text)?.rows.map(bare)).toEqual([poisonRow]);
    expect(dead[0]?.meta).toMatchObject({ app: target.appId, kind: "events", rows: "1" });
    const stats = await stub.stats();
    expect(stats).toMatchObject({ bufferedRows: 0, pendingMessages: 0 });
    expect(stats.counters).toMatchObject({ flushed: 30, "dead_lettered/unsendable": 1 });
    expect(deadLettered(seen.tallies)).toEqual([["unsendable", 1]]);
    await runInDurableObject(stub, () => vi.restoreAllMocks());
  });

  it("archives a message the queue refuses alone while the others go through", async () => {
    const { stub, target } = batcher();
    await holdFlushes(stub);
    // Rows that barely pack, so that each side fills several messages.
    const before = noisy(150);
    const odd = events(1, "odd");
    const after = noisy(150);
    await stub.ingest(before, target);
    await stub.ingest(odd, target);
    await stub.ingest(after, target);
    const seen = await watchQueue(stub, target.appId, (bodies) => bodies.some((b) => b.includes(odd[0]?.messageId ?? "?")));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const dead = [...(await deadLettersOf(target.appId)).values()];
    expect(dead).toHaveLength(1);
    const deadRows = (decodeSinkMessage(dead[0]?.text)?.rows ?? []).map(bare);
    expect(deadRows).toContain(odd[0]?.row);
    // Only the refused message is set aside; every other row was sent once.
    expect(seen.rows.length + deadRows.length).toBe(301);
    expect(new Set([...seen.rows.map(bare), ...deadRows]).size).toBe(301);
    expect((await stub.stats()).bufferedRows).toBe(0);
    expect(deadLettered(seen.tallies)).toEqual([["unsendable", deadRows.length]]);
    await runInDurableObject(stub, () => vi.restoreAllMocks());
  });

  it("dead-letters nothing while the queue refuses every message, keeps the rows and still ships its counters", async () => {
    const { stub, target } = batcher();
    await holdFlushes(stub);
    await stub.ingest(events(300), target);
    await stub.ingest(events(300), target);
    const seen = await watchQueue(stub, target.appId, () => true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await deadLettersOf(target.appId)).toEqual(new Map());
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(600);
    expect(stats.flushFailures).toBe(1);
    expect(seen.tallies.flatMap((t) => t.tallies.map((x) => [x.stage, x.n]))).toEqual([["accepted", 600]]);
    await runInDurableObject(stub, () => vi.restoreAllMocks());
  });
});

// The test project runs with the default caps: 60 crashes per fingerprint and 1,000 per app a minute.
const ISSUE_CAP = 60;
const APP_CAP = 1000;

function crashes(n: number, fingerprint: string, prefix = crypto.randomUUID()): BufferedEvent[] {
  return events(n, prefix).map((e) => ({ ...e, fingerprint }));
}

/** Ships the object's counters now and returns its capped crashes as `reason/fingerprint` → count. */
async function shippedCaps(stub: DurableObjectStub<AppBatcher>, appId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  await runInDurableObject(stub, async (instance: AppBatcher) => {
    const queue = queueOf(instance, appId);
    const original = queue.send.bind(queue);
    vi.spyOn(queue, "send").mockImplementation(async (body, opts) => {
      const tally = tallyOf(body);
      // Other batchers share the queue binding: only this object's app counts.
      for (const t of tally && tally.appId === appId ? tally.tallies : []) {
        if (t.stage !== "capped") continue;
        const key = `${t.reason}/${t.fingerprint ?? ""}`;
        out[key] = (out[key] ?? 0) + t.n;
      }
      return original(body, opts);
    });
    (instance as unknown as { lastTallyShip: number }).lastTallyShip = 0;
    await instance.shipTallies();
    vi.restoreAllMocks();
  });
  return out;
}

// Runs `ingest` inside the object with its clock at `now`, to step through minutes.
async function ingestAt(stub: DurableObjectStub<AppBatcher>, now: number, batch: BufferedEvent[], target: IngestTarget): Promise<unknown> {
  return runInDurableObject(stub, async (instance: AppBatcher) => {
    vi.spyOn(Date, "now").mockReturnValue(now);
    try {
      return await instance.ingest(batch, target);
    } finally {
      vi.restoreAllMocks();
    }
  });
}

describe("AppBatcher crash caps", () => {
  it("keeps a crash loop's first crashes of the minute, answers the rest as accepted and counts them for their issue", async () => {
    const { stub, target } = batcher();
    expect(await stub.ingest(crashes(250, "loop"), target)).toEqual({ status: "ok", accepted: 250, duplicates: 0 });
    // Another issue, and events that are not crashes, are not held back by the loop.
    expect(await stub.ingest([...crashes(5, "other"), ...events(300)], target)).toEqual({ status: "ok", accepted: 305, duplicates: 0 });
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(ISSUE_CAP + 5 + 300);
    expect(stats.counters).toMatchObject({ accepted: ISSUE_CAP + 305, "capped/issue_cap": 250 - ISSUE_CAP });
    expect(await shippedCaps(stub, target.appId)).toEqual({ "issue_cap/loop": 250 - ISSUE_CAP });
  });

  it("drops duplicates before the caps count, so a resent request does not use up an issue's budget", async () => {
    // Caps are per minute of the clock: a run that straddles a minute's end starts on a fresh
    // budget half-way, so it is run again on a new object (two straddles in a row cannot happen).
    const minute = () => Math.floor(Date.now() / 60_000);
    for (;;) {
      const started = minute();
      const { stub, target } = batcher();
      const first = crashes(40, "loop");
      await stub.ingest(first, target);
      const resent = await stub.ingest([...first, ...crashes(20, "loop")], target);
      const afterResend = (await stub.stats()).counters;
      // The budget is spent now: the next new crash of the loop is capped, and a resend of it is a duplicate.
      const late = crashes(1, "loop");
      await stub.ingest(late, target);
      const lateResent = await stub.ingest(late, target);
      const atEnd = (await stub.stats()).counters;
      if (minute() !== started) continue;
      expect(resent).toEqual({ status: "ok", accepted: 60, duplicates: 40 });
      expect(afterResend).toMatchObject({ accepted: 60, deduplicated: 40 });
      expect(afterResend["capped/issue_cap"]).toBeUndefined();
      expect(lateResent).toEqual({ status: "ok", accepted: 1, duplicates: 1 });
      expect(atEnd).toMatchObject({ accepted: 60, "capped/issue_cap": 1, deduplicated: 41 });
      return;
    }
  });

  it("keeps at most the app's cap of crashes a minute across its issues", async () => {
    const { stub, target } = batcher();
    // 25 issues of 44 crashes each: every issue under its own cap, 1,100 crashes in all.
    const batch = Array.from({ length: 25 }, (_, i) => crashes(44, `issue-${i}`)).flat();
    expect(await stub.ingest(batch, target)).toMatchObject({ status: "ok", accepted: 1100 });
    expect(await stub.ingest(events(50), target)).toMatchObject({ status: "ok", accepted: 50 });
    expect((await stub.stats()).bufferedRows).toBe(APP_CAP + 50);
    const caps = await shippedCaps(stub, target.appId);
    expect(Object.keys(caps).every((k) => k.startsWith("app_cap/"))).toBe(true);
    expect(Object.values(caps).reduce((a, b) => a + b, 0)).toBe(1100 - APP_CAP);
    expect((await stub.stats()).counters).toMatchObject({ accepted: APP_CAP + 50, "capped/app_cap": 1100 - APP_CAP });
  });

  it("counts every capped issue when an app's cap keeps out crashes of hundreds of fingerprints", async () => {
    const { stub, target } = batcher();
    const now = Date.now();
    await ingestAt(stub, now, Array.from({ length: 25 }, (_, i) => crashes(40, `issue-${i}`)).flat(), target);
    const many = Array.from({ length: 250 }, (_, i) => crashes(1, `rare-${i}`)).flat();
    expect(await ingestAt(stub, now, [...many, ...events(5)], target)).toMatchObject({ status: "ok", accepted: 255 });
    await runInDurableObject(stub, (instance: AppBatcher) => instance.flush());
    const caps = await shippedCaps(stub, target.appId);
    expect(Object.keys(caps)).toHaveLength(250);
    expect(Object.entries(caps).every(([k, n]) => k.startsWith("app_cap/rare-") && n === 1)).toBe(true);
  });

  it("splits the caps across the app's shards", async () => {
    const name = crypto.randomUUID();
    const shards = Array.from({ length: 4 }, (_, shard) => ({
      stub: env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${name}:${shard}`)),
      target: { appId: name, shard, shardCount: 4, rateLimit: 0 },
    }));
    let kept = 0;
    for (const { stub, target } of shards) {
      await stub.ingest(crashes(40, "loop"), target);
      kept += (await stub.stats()).bufferedRows;
    }
    expect(kept).toBe(ISSUE_CAP);
  });

  it("writes no more SQLite rows for a request of capped crashes than for one of ordinary events", async () => {
    const { stub, target } = batcher();
    // One clock for every call: the caps' budget is per minute.
    const now = Date.now();
    await ingestAt(stub, now, crashes(ISSUE_CAP, "loop"), target);
    const rowsWritten = (batch: BufferedEvent[]): Promise<number> =>
      runInDurableObject(stub, async (instance: AppBatcher, state) => {
        vi.spyOn(Date, "now").mockReturnValue(now);
        const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
        const exec = state.storage.sql.exec.bind(state.storage.sql);
        vi.spyOn(state.storage.sql, "exec").mockImplementation((query, ...bindings) => {
          const cursor = exec(query, ...bindings);
          cursors.push(cursor);
          return cursor;
        });
        try {
          await instance.ingest(batch, target);
        } finally {
          vi.restoreAllMocks();
        }
        return cursors.reduce((sum, c) => sum + c.rowsWritten, 0);
      });
    const capped = await rowsWritten(crashes(500, "loop"));
    const ordinary = await rowsWritten(events(500));
    expect((await stub.stats()).counters["capped/issue_cap"]).toBe(500);
    // 500 capped crashes: a row holding their ids and one for the counters, as 500 stored events
    // take a chunk row and the counters' in the chunk; never a row per crash.
    expect(capped).toBeLessThanOrEqual(ordinary + 1);
    expect(capped).toBeLessThanOrEqual(2);
    // A crash loop's capped crashes amid other events cost no row of their own: their counts
    // ride in the call's chunk row, and reach the counters when the chunk is sent.
    const mixed = await rowsWritten([...crashes(100, "loop"), ...crashes(100, "loop-2"), ...events(20)]);
    const plain = await rowsWritten(events(60));
    expect(mixed).toBeLessThanOrEqual(plain);
    await runInDurableObject(stub, (instance: AppBatcher) => instance.flush());
    expect(await shippedCaps(stub, target.appId)).toEqual({ "issue_cap/loop": 600, "issue_cap/loop-2": 40 });
  });

  it("starts each minute with a fresh budget", async () => {
    const { stub, target } = batcher();
    const start = Date.now();
    await ingestAt(stub, start, crashes(80, "loop"), target);
    expect((await stub.stats()).bufferedRows).toBe(ISSUE_CAP);
    await ingestAt(stub, start + 60_000, crashes(80, "loop"), target);
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(2 * ISSUE_CAP);
    expect(stats.counters).toMatchObject({ accepted: 2 * ISSUE_CAP, "capped/issue_cap": 2 * (80 - ISSUE_CAP) });
  });
});
