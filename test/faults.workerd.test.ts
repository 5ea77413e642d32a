// Faults along the pipeline: a consumer that fails mid-delivery and gets the same messages
// again, inserts whose answers are lost, an AppBatcher that restarts or cannot send, a full
// buffer, and ClickHouse going away under concurrent load. Whatever fails and whatever is
// repeated, an event answered as accepted lands in ClickHouse exactly once. Each test uses its
// own app, so rows never mix.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppBatcher } from "../durable-objects/app-batcher";
import { decodeSinkMessage, encodeEventRow, encodeSinkMessage, withBatchId, type EventRow } from "../schemas";
import { eventsQueue } from "../workers/queue/route";
import { handleSinkBatch } from "../workers/queue/sink";
import { appOfMessage, deliver as deliverTo } from "./queue-delivery";
import { blankRow, chQuery, createTestApp, noise, post, restart, setClickHouse, trackEvent, type TestApp } from "./seed";

afterEach(async () => {
  vi.restoreAllMocks();
  await setClickHouse("up");
});

/** How often each messageId of an app is in ClickHouse. */
async function copiesOf(appId: string): Promise<Map<string, number>> {
  const rows = await chQuery<{ message_id: string; n: string }>("SELECT message_id, count() AS n FROM events WHERE app_id = {app:String} GROUP BY message_id", { app: appId });
  return new Map(rows.map((r) => [r.message_id, Number(r.n)]));
}

/**
 * Waits until every id in `ids` is stored, gives a late second copy time to show up, then
 * expects each id exactly once and nothing else.
 */
async function expectStoredOnce(appId: string, ids: readonly string[], timeout = 30_000): Promise<void> {
  await vi
    .waitUntil(async () => (await copiesOf(appId)).size >= ids.length, { timeout, interval: 250 })
    .catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1500));
  const copies = await copiesOf(appId);
  expect([...copies.keys()].sort()).toEqual([...ids].sort());
  expect([...copies.values()].filter((n) => n !== 1), "ids stored more than once").toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// The queue consumer, driven directly with the batches the queue would deliver.

function row(appId: string, messageId: string, overrides: Partial<EventRow> = {}): string {
  const at = new Date().toISOString().replace("T", " ").slice(0, 23);
  const base: EventRow = { ...blankRow(appId, messageId, at), event: "Sink Test" };
  return encodeEventRow({ ...base, ...overrides });
}

/** A sink message as an AppBatcher sends it: a batch id and a few rows, with their messageIds. */
function sinkMessage(app: TestApp, seq: number, rows: number): { batchId: string; body: string; ids: string[] } {
  const batchId = `${app.appId}:0:${seq}`;
  const ids = Array.from({ length: rows }, (_, i) => `m-${seq}-${i}`);
  return { batchId, body: encodeSinkMessage(batchId, app.appId, ids.map((id) => row(app.appId, id))), ids };
}

/** Runs the consumer on one delivery of `bodies`, as the queue would, and says what it acked and retried. */
async function deliver(bodies: readonly string[], attempts = 1): Promise<{ acked: number; retried: number }> {
  const result = await deliverTo(handleSinkBatch, "telemetry-events", bodies, { attempts });
  return { acked: result.acked.length, retried: result.retried.length };
}

describe("the queue consumer under failure and redelivery", () => {
  it("retries a delivery ClickHouse fails, and stores it once however often it comes again", async () => {
    const app = await createTestApp();
    const messages = [sinkMessage(app, 1, 4), sinkMessage(app, 5, 3), sinkMessage(app, 8, 5)];
    const bodies = messages.map((m) => m.body);

    await setClickHouse("error");
    expect(await deliver(bodies, 1)).toEqual({ acked: 0, retried: 3 });
    await setClickHouse("down");
    expect(await deliver(bodies, 2)).toEqual({ acked: 0, retried: 3 });
    expect((await copiesOf(app.appId)).size).toBe(0);

    await setClickHouse("up");
    expect(await deliver(bodies, 3)).toEqual({ acked: 3, retried: 0 });
    // Its ack was lost: the queue delivers the same messages again, twice.
    expect(await deliver(bodies, 4)).toEqual({ acked: 3, retried: 0 });
    expect(await deliver(bodies, 5)).toEqual({ acked: 3, retried: 0 });
    // Regrouped with a new message, as a queue may: the stored one is skipped, the new one lands.
    const next = sinkMessage(app, 13, 2);
    const [second] = bodies.slice(1, 2);
    expect(await deliver([second ?? "", next.body], 6)).toEqual({ acked: 2, retried: 0 });
    await expectStoredOnce(app.appId, [...messages, next].flatMap((m) => m.ids));
  });

  it("stores a batch once when its insert landed but the answer was lost", async () => {
    const app = await createTestApp();
    const message = sinkMessage(app, 1, 6);
    // The insert reaches ClickHouse and is stored; the connection drops before the answer.
    const realFetch = globalThis.fetch;
    let lost = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const res = await realFetch(input, init);
      if (url.searchParams.get("insert_deduplication_token") !== message.batchId) return res;
      await res.arrayBuffer();
      lost++;
      throw new Error("Network connection lost.");
    });
    expect(await deliver([message.body], 1)).toEqual({ acked: 0, retried: 1 });
    expect(lost).toBeGreaterThan(0);
    vi.restoreAllMocks();
    expect(await deliver([message.body], 2)).toEqual({ acked: 1, retried: 0 });
    expect(await deliver([message.body], 3)).toEqual({ acked: 1, retried: 0 });
    await expectStoredOnce(app.appId, message.ids);
  });

  it("stores a batch once when two copies of it arrive in the same delivery", async () => {
    // An AppBatcher whose send reached the queue but failed to report resends the same batch
    // id; both copies can reach the consumer side by side.
    const app = await createTestApp();
    const message = sinkMessage(app, 1, 5);
    const other = sinkMessage(app, 6, 2);
    expect(await deliver([message.body, other.body, message.body], 1)).toEqual({ acked: 3, retried: 0 });
    await expectStoredOnce(app.appId, [...message.ids, ...other.ids]);
  });

  it("dead-letters a row ClickHouse cannot parse and still stores the rest of the delivery", async () => {
    // Text queued before the edge made rows well-formed, or replayed from an old archive: a
    // lone surrogate escape is refused by ClickHouse (CANNOT_PARSE_ESCAPE_SEQUENCE) every time.
    const app = await createTestApp();
    const good = sinkMessage(app, 1, 3);
    const poisonId = `${app.appId}:0:4`;
    const poison = encodeSinkMessage(poisonId, app.appId, [row(app.appId, "p-1"), row(app.appId, "p-2", { event: "POISON" }).replace('"POISON"', '"\\ud800"')]);
    const alsoGood = sinkMessage(app, 6, 2);
    expect(await deliver([good.body, poison, alsoGood.body], 1)).toEqual({ acked: 3, retried: 0 });
    await expectStoredOnce(app.appId, [...good.ids, ...alsoGood.ids]);
    // The dead-letter consumer archives it, unchanged, for inspection and replay.
    const key = (): Promise<string | undefined> =>
      env.ARCHIVE.list({ prefix: "dead-letters/" }).then((l) => l.objects.map((o) => o.key).find((k) => k.endsWith(`/${poisonId.replace(/[^A-Za-z0-9_.:-]/g, "_")}.ndjson`)));
    await vi.waitUntil(async () => (await key()) !== undefined, { timeout: 20_000, interval: 200 });
    expect(await (await env.ARCHIVE.get((await key()) ?? ""))?.text()).toBe(poison);
  });
});

// ---------------------------------------------------------------------------------------------
// The AppBatcher: restarts, failing and repeated sends, back-pressure.

function batcherOf(app: TestApp, shard = 0): DurableObjectStub<AppBatcher> {
  return env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:${shard}`));
}

// The object's own binding for the app's queue, to make its sends fail.
function queueOf(instance: AppBatcher, app: TestApp): Queue {
  return eventsQueue((instance as unknown as { env: Env }).env, app.appId);
}

/** Posts events as one batch through the Worker; a 200 must have accepted all of them. */
async function postBatch(app: TestApp, events: Array<Record<string, unknown>>): Promise<{ status: number; code: string | null; retryAfter: string | null }> {
  const res = await post("/v1/batch", { batch: events }, { "x-write-key": app.key });
  const body = await res.json<{ accepted?: number; error?: { code: string } }>();
  if (res.status === 200) expect(body.accepted).toBe(events.length);
  return { status: res.status, code: body.error?.code ?? null, retryAfter: res.headers.get("retry-after") };
}

function events(prefix: string, n: number): Array<Record<string, unknown>> {
  // From a few devices, so an app with several shards spreads them.
  return Array.from({ length: n }, (_, i) => trackEvent({ messageId: `${prefix}-${i}`, anonymousId: `device-${i % 7}` }));
}

const idsOf = (batch: ReadonlyArray<Record<string, unknown>>): string[] => batch.map((e) => String(e.messageId));

describe("the AppBatcher under failure", () => {
  it("keeps accepted events through failed flushes and a restart, then stores each once", async () => {
    const app = await createTestApp();
    const stub = batcherOf(app);
    await runInDurableObject(stub, (instance: AppBatcher) => {
      vi.spyOn(queueOf(instance, app), "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    });
    const batches = [events("r-a", 40), events("r-b", 40), events("r-c", 40)];
    for (const b of batches) expect((await postBatch(app, b)).status).toBe(200);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const stats = await stub.stats();
    expect(stats.bufferedRows).toBe(120);
    expect(stats.flushFailures).toBeGreaterThanOrEqual(1);

    // The object goes away with everything still buffered and a retry scheduled.
    await restart(stub);
    vi.restoreAllMocks();
    // A client that never heard its answer sends a batch again: still known after the restart.
    const again = await post("/v1/batch", { batch: batches[1] }, { "x-write-key": app.key });
    expect(await again.json()).toMatchObject({ accepted: 40, duplicates: 40 });

    await expectStoredOnce(app.appId, batches.flatMap(idsOf));
    expect((await batcherOf(app).stats()).bufferedRows).toBe(0);
  });

  it("stores events once when a send reached the queue but reported failure, and was sent again at once", async () => {
    const app = await createTestApp();
    const stub = batcherOf(app);
    let failed = 0;
    await runInDurableObject(stub, (instance: AppBatcher) => {
      const queue = queueOf(instance, app);
      const original = queue.sendBatch.bind(queue);
      vi.spyOn(queue, "sendBatch").mockImplementation(async (messages, options) => {
        const sent = await original(messages, options);
        // Other tests' shards share the queue binding: only this app's sends fail.
        if (![...messages].some((m) => appOfMessage(m.body) === app.appId)) return sent;
        if (failed++ > 0) return sent;
        throw new Error("internal error; the messages may or may not have been sent");
      });
    });
    const batch = events("s", 60);
    expect((await postBatch(app, batch)).status).toBe(200);
    // The first flush sends and fails; the second, right after, sends the same batch again.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(failed).toBeGreaterThanOrEqual(2);
    expect((await stub.stats()).bufferedRows).toBe(0);
    await expectStoredOnce(app.appId, idsOf(batch));
  });

  it("answers 503 buffer_full with Retry-After when the backlog is full, and stores exactly what it accepted", async () => {
    const app = await createTestApp();
    await setClickHouse("down");
    const accepted: string[] = [];
    const refused: Array<Array<Record<string, unknown>>> = [];
    // The test project caps a shard at 3,000 rows: full batches sent side by side overrun it
    // faster than the object can hand rows to the queue.
    for (let round = 0; round < 8 && refused.length < 2; round++) {
      const batches = [events(`f${round}-a`, 2500), events(`f${round}-b`, 2500), events(`f${round}-c`, 2500)];
      const answers = await Promise.all(batches.map((b) => postBatch(app, b)));
      answers.forEach((a, i) => {
        const b = batches[i] ?? [];
        if (a.status === 200) accepted.push(...idsOf(b));
        else {
          expect(a).toMatchObject({ status: 503, code: "buffer_full" });
          expect(Number(a.retryAfter)).toBeGreaterThan(0);
          refused.push(b);
        }
      });
    }
    expect(refused.length).toBeGreaterThan(0);
    // One client gives up; the others retry until they are accepted.
    const [givenUp, ...retried] = refused;
    for (const b of retried) {
      await vi.waitUntil(async () => (await postBatch(app, b)).status === 200, { timeout: 20_000, interval: 500 });
      accepted.push(...idsOf(b));
    }
    console.log(`buffer cap: ${accepted.length} events accepted, ${refused.length} batches refused, ${retried.length} resent until accepted`);
    await setClickHouse("up");
    await expectStoredOnce(app.appId, accepted, 40_000);
    const stored = await copiesOf(app.appId);
    expect(idsOf(givenUp ?? []).filter((id) => stored.has(id))).toEqual([]);
  }, 90_000);
});

describe("ClickHouse outage under concurrent load", () => {
  it("stores every accepted event once after ClickHouse was down and failing while several clients sent", async () => {
    const app = await createTestApp({ shardCount: 2 });
    await setClickHouse("down");
    const accepted = new Set<string>();
    let answered = 0;
    const poster = async (p: number): Promise<void> => {
      let previous: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 8; i++) {
        // Every third request is a resend of the one before, as after a client timeout.
        const batch = i % 3 === 2 ? previous : events(`c${p}-${i}`, 25);
        const res = await post("/v1/batch", { batch }, { "x-write-key": app.key });
        const body = await res.json<{ accepted?: number; duplicates?: number }>();
        expect(res.status).toBe(200);
        if (i % 3 === 2) expect(body.duplicates).toBe(batch.length);
        for (const id of idsOf(batch)) accepted.add(id);
        previous = batch;
        // Halfway through, ClickHouse stops being unreachable and answers errors instead.
        if (++answered === 24) await setClickHouse("error");
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, p) => poster(p)));
    // Long enough for deliveries to fail against the dead server and be scheduled again.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await copiesOf(app.appId)).size).toBe(0);
    console.log(`outage under load: ${answered} requests answered, ${accepted.size} distinct events accepted`);
    await setClickHouse("up");
    await expectStoredOnce(app.appId, [...accepted], 40_000);
  }, 75_000);
});

// ---------------------------------------------------------------------------------------------
// Poison: input that would make a row or a queue message larger than the queue takes.

/** The app's pipeline counters in ClickHouse, `stage` or `stage/reason` → total. */
async function countersOf(appId: string): Promise<Record<string, number>> {
  const rows = await chQuery<{ stage: string; reason: string; n: string }>(
    "SELECT stage, reason, sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} GROUP BY stage, reason",
    { app: appId },
  );
  return Object.fromEntries(rows.map((r) => [r.reason === "" ? r.stage : `${r.stage}/${r.reason}`, Number(r.n)]));
}

/** The text of the app's dead letters in R2. */
async function deadLettersOf(appId: string): Promise<string[]> {
  const listing = await env.ARCHIVE.list({ prefix: "dead-letters/" });
  const keys = listing.objects.map((o) => o.key).filter((k) => k.includes(`/${appId}:`));
  return Promise.all(keys.map(async (k) => (await (await env.ARCHIVE.get(k))?.text()) ?? ""));
}

describe("poison never blocks the events behind it", () => {
  it("refuses a batch context the rows cannot hold, and normal traffic after it lands", async () => {
    const app = await createTestApp();
    const auth = { "x-write-key": app.key };
    const huge = await post("/v1/batch", { batch: [{ type: "track", event: "x", anonymousId: "a" }], context: { blob: "x".repeat(200_000) } }, auth);
    expect(huge.status).toBe(400);
    expect((await huge.json<{ error: { message: string } }>()).error.message).toMatch(/context.*larger than 32768 bytes/);
    // 250 events under a 100 KB batch context would be 25 MB as stored.
    const spread = await post("/v1/batch", { batch: events("spread", 250), context: { blob: "x".repeat(100_000) } }, auth);
    expect(spread.status).toBe(400);
    let deep: Record<string, unknown> = { leaf: "jane@example.com" };
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    const tooDeep = await post("/v1/batch", { batch: events("deep", 2), context: { deep } }, auth);
    expect(tooDeep.status).toBe(400);
    expect((await tooDeep.json<{ error: { message: string } }>()).error.message).toMatch(/context.*deeper than/);
    // Within the limits of one event, yet 2,500 copies of it would be 75 MB.
    const copies = await post("/v1/batch", { batch: events("copies", 2500), context: { blob: "x".repeat(30_000) } }, auth);
    expect(copies.status).toBe(413);
    expect(await copies.json()).toMatchObject({ error: { code: "batch_too_large" } });

    const normal = events("after-refused", 20);
    expect((await postBatch(app, normal)).status).toBe(200);
    await expectStoredOnce(app.appId, idsOf(normal));
  });

  it("archives a row no queue message can hold, counts it as dead-lettered, and stores the traffic behind it within seconds", async () => {
    const app = await createTestApp();
    // A row stored before rows were limited: over 128 KB on its own, packed.
    const poison = row(app.appId, "poison-1", { properties: { blob: noise(240_000) } });
    expect(await batcherOf(app).ingest([{ messageId: "poison-1", row: poison, bytes: poison.length }], { appId: app.appId, shard: 0, shardCount: 1, rateLimit: 0 })).toMatchObject({ status: "ok" });
    const normal = [...events("behind-a", 30), ...events("behind-b", 30)];
    expect((await postBatch(app, normal.slice(0, 30))).status).toBe(200);
    expect((await postBatch(app, normal.slice(30))).status).toBe(200);

    await expectStoredOnce(app.appId, idsOf(normal));
    await vi.waitUntil(async () => (await deadLettersOf(app.appId)).length > 0, { timeout: 20_000, interval: 250 });
    const [dead] = await deadLettersOf(app.appId);
    // Archived as it was sent: the row carries its chunk's batch id, the message's own.
    const message = decodeSinkMessage(dead);
    expect(message?.rows).toEqual([withBatchId(poison, message?.batchId ?? "")]);
    await vi.waitUntil(async () => (await countersOf(app.appId))["dead_lettered/unsendable"] === 1, { timeout: 20_000, interval: 250 }).catch(() => undefined);
    expect(await countersOf(app.appId)).toMatchObject({ accepted: 61, flushed: 60, inserted: 60, "dead_lettered/unsendable": 1 });
    expect((await batcherOf(app).stats()).bufferedRows).toBe(0);
  });
});
