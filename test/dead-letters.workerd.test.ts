import { env, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { encodeSinkMessage, type EventRow } from "../schemas";
import { handleDeadLetterBatch } from "../workers/queue/dead-letters";
import { handleSinkBatch } from "../workers/queue/sink";
import { deliver } from "./queue-delivery";
import { blankRow, chHeaders, chQuery, createTestApp } from "./seed";

function row(appId: string, messageId: string, overrides: Partial<Record<keyof EventRow, unknown>> = {}): string {
  const base: EventRow = { ...blankRow(appId, messageId, "2026-11-20 10:00:00.000"), event: "Replayed" };
  return JSON.stringify({ ...base, ...overrides });
}

async function countOf(appId: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>("SELECT count() AS n FROM events WHERE app_id = {app:String}", { app: appId });
  return Number(r?.n ?? 0);
}

async function deadLetterKeys(batchId: string): Promise<string[]> {
  const listing = await env.ARCHIVE.list({ prefix: "dead-letters/" });
  return listing.objects.map((o) => o.key).filter((k) => k.includes(batchId.replace(/[^A-Za-z0-9_.:-]/g, "_")));
}

/** Runs a statement on the local ClickHouse directly, as an operator would. */
async function chCommand(query: string): Promise<void> {
  const res = await fetch(`${env.CLICKHOUSE_DIRECT_URL}/`, { method: "POST", headers: chHeaders(), body: query });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
}

/** One delivery of `body` to the sink: how many messages it acknowledged and handed back. */
async function deliverToSink(body: string, attempts: number): Promise<{ acked: number; retried: number }> {
  const r = await deliver(handleSinkBatch, "telemetry-events", [body], { attempts });
  return { acked: r.acked.length, retried: r.retried.length };
}

describe("transient ClickHouse errors", () => {
  it("retries a batch refused with TOO_MANY_PARTS instead of dead-lettering it, and stores it once merges catch up", async () => {
    const app = await createTestApp();
    const batchId = `${app.appId}:0:20`;
    const body = encodeSinkMessage(batchId, app.appId, [row(app.appId, "parts-1"), row(app.appId, "parts-2")]);
    // The real engine's answer under merge pressure: any table with a part refuses more inserts.
    await chCommand(`INSERT INTO events (app_id, batch_id, message_id, timestamp) VALUES ('${app.appId}_other', 'x', 'x', now())`);
    await chCommand("ALTER TABLE events MODIFY SETTING parts_to_throw_insert = 1, parts_to_delay_insert = 1");
    try {
      // Neither stored nor dead-lettered (which would acknowledge it): handed back to the queue.
      expect(await deliverToSink(body, 1)).toEqual({ acked: 0, retried: 1 });
    } finally {
      await chCommand("ALTER TABLE events RESET SETTING parts_to_throw_insert, parts_to_delay_insert");
    }
    expect(await deliverToSink(body, 2)).toEqual({ acked: 1, retried: 0 });
    expect(await countOf(app.appId)).toBe(2);
    expect(await deadLetterKeys(batchId)).toEqual([]);
  });
});

/** The R2 bucket, refusing writes while `state.down`, as during an R2 outage. */
function failingArchive(real: R2Bucket, state: { down: boolean }): R2Bucket {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "put" && state.down) return () => Promise.reject(new Error("put: We encountered an internal error. Please try again. (10001)"));
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function archiveFailures(appId: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>("SELECT sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} AND stage = 'archive_failed'", { app: appId });
  return Number(r?.n ?? 0);
}

const DLQ = "telemetry-events-dlq";

describe("the dead-letter queue's consumer", () => {
  it("keeps a dead letter through an R2 outage, retrying later each time and counting each failure, and archives it unchanged once R2 is back", async () => {
    const app = await createTestApp();
    const batchId = `${app.appId}:0:30`;
    const text = encodeSinkMessage(batchId, app.appId, [row(app.appId, "kept-1"), row(app.appId, "kept-2")]);
    const r2 = { down: true };
    const outage = { ...env, ARCHIVE: failingArchive(env.ARCHIVE, r2) };

    const delays: number[] = [];
    for (const attempts of [1, 2, 3, 6, 12]) {
      const r = await deliver(handleDeadLetterBatch, DLQ, [text], { attempts, env: outage });
      expect(r.acked, "acknowledged before it was archived").toEqual([]);
      expect(r.retried).toHaveLength(1);
      delays.push(r.retried[0]?.delaySeconds ?? 0);
    }
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays[0]).toBeLessThanOrEqual(30);
    // Up to an hour, so a message lasts days of outage on 100 retries (Queues allow delays up to 12 h).
    expect(delays[4]).toBeGreaterThanOrEqual(1800);
    expect(delays[4]).toBeLessThanOrEqual(3600);
    expect(await deadLetterKeys(batchId)).toEqual([]);
    expect(await archiveFailures(app.appId)).toBe(5);

    r2.down = false;
    expect((await deliver(handleDeadLetterBatch, DLQ, [text], { attempts: 13, env: outage })).acked).toHaveLength(1);
    const [key] = await deadLetterKeys(batchId);
    expect(await (await env.ARCHIVE.get(key ?? ""))?.text()).toBe(text);
  });

  it("sends a dead letter R2 still refuses near the end of its retries or of the queue's retention back into the queue, where it is archived later", async () => {
    const app = await createTestApp();
    const late = encodeSinkMessage(`${app.appId}:0:40`, app.appId, [row(app.appId, "late-1")]);
    const old = encodeSinkMessage(`${app.appId}:0:41`, app.appId, [row(app.appId, "old-1")]);
    const outage = { ...env, ARCHIVE: failingArchive(env.ARCHIVE, { down: true }) };

    // Queues deliver a message at most max_retries + 1 times (100 here) and keep it 4 days by default.
    expect(await deliver(handleDeadLetterBatch, DLQ, [late], { attempts: 95, env: outage })).toMatchObject({ acked: [expect.any(String)], retried: [] });
    const fourDaysOld = new Date(Date.now() - 3.5 * 24 * 3600_000);
    expect(await deliver(handleDeadLetterBatch, DLQ, [old], { attempts: 2, env: outage, timestamp: fourDaysOld })).toMatchObject({ acked: [expect.any(String)], retried: [] });

    // The copies went to the real dead-letter queue, whose consumer writes to the real R2.
    await vi.waitUntil(async () => (await deadLetterKeys(`${app.appId}:0:40`)).length === 1 && (await deadLetterKeys(`${app.appId}:0:41`)).length === 1, { timeout: 20_000, interval: 200 });
    const [key] = await deadLetterKeys(`${app.appId}:0:40`);
    expect(await (await env.ARCHIVE.get(key ?? ""))?.text()).toBe(late);
  });
});

describe("dead letters", () => {
  it("sends a batch ClickHouse refuses to R2 and still stores the good batches beside it", async () => {
    const app = await createTestApp();
    const good = encodeSinkMessage(`${app.appId}:0:1`, app.appId, [row(app.appId, "good-1"), row(app.appId, "good-2")]);
    const poisonId = `${app.appId}:0:3`;
    const poison = encodeSinkMessage(poisonId, app.appId, [row(app.appId, "bad-1", { timestamp: "not a time at all" })]);
    await env.EVENTS_QUEUE.sendBatch([
      { body: good, contentType: "text" },
      { body: poison, contentType: "text" },
    ]);
    await vi.waitUntil(async () => (await countOf(app.appId)) === 2, { timeout: 20_000, interval: 200 });
    await vi.waitUntil(async () => (await deadLetterKeys(poisonId)).length === 1, { timeout: 20_000, interval: 200 });
    const [key] = await deadLetterKeys(poisonId);
    const archived = await env.ARCHIVE.get(key ?? "");
    expect(await archived?.text()).toBe(poison);
  });

  it("replays archived batches into ClickHouse with the admin command, once", async () => {
    const app = await createTestApp();
    const batchId = `${app.appId}:0:10`;
    const text = encodeSinkMessage(batchId, app.appId, [row(app.appId, "r-1"), row(app.appId, "r-2"), row(app.appId, "r-3")]);
    await env.ARCHIVE.put(`dead-letters/2026-11-20/${batchId.replace(/[^A-Za-z0-9_.:-]/g, "_")}.ndjson`, text);

    const denied = await SELF.fetch("https://edge.test/admin/dead-letters/replay", { method: "POST", headers: { authorization: "Bearer wrong" } });
    expect(denied.status).toBe(401);

    await replayed(`2026-11-20/${batchId}`, 3, app.appId, batchId);

    // A batch replayed after it did land after all is skipped, not doubled.
    expect(await deliverToSink(text, 1)).toEqual({ acked: 1, retried: 0 });
    expect(await countOf(app.appId)).toBe(3);
  });

  it("replays an archived batch whose text is many times what a queue message may hold", async () => {
    const app = await createTestApp();
    const batchId = `${app.appId}:0:20`;
    // A message's rows may unpack to a megabyte (decision record 0037): the replay sends them packed.
    const rows = Array.from({ length: 1_000 }, (_, i) => row(app.appId, `big-${i}`, { properties: { note: "a".repeat(600) } }));
    const text = encodeSinkMessage(batchId, app.appId, rows);
    expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(600_000);
    await env.ARCHIVE.put(`dead-letters/2026-11-21/${batchId}.ndjson`, text);
    await replayed(`2026-11-21/${batchId}`, 1_000, app.appId, batchId);
  });
});

// Replays the archive under `prefix` with the admin command: one batch of `rows` rows, stored, its archive gone.
async function replayed(prefix: string, rows: number, appId: string, batchId: string): Promise<void> {
  const res = await SELF.fetch(`https://edge.test/admin/dead-letters/replay?prefix=${encodeURIComponent(prefix)}`, { method: "POST", headers: { authorization: "Bearer test-admin-token" } });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ replayed: 1, rows });
  await vi.waitUntil(async () => (await countOf(appId)) === rows, { timeout: 20_000, interval: 200 });
  expect(await deadLetterKeys(batchId)).toHaveLength(0);
}
