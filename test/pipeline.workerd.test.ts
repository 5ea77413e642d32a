// End to end inside workerd: the Worker, the AppBatcher, the real queue consumer and the real
// local ClickHouse engine. Each test uses its own app, so rows never mix between tests.
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import type { AppBatcher } from "../durable-objects/app-batcher";
import { shardOf } from "../workers/apps/shards";
import { eventsQueue } from "../workers/queue/route";
import { afterEach, describe, expect, it, vi } from "vitest";
import { basicAuth, chQuery, createTestApp, post, setClickHouse, trackEvent } from "./seed";

interface StoredRow {
  message_id: string;
  type: string;
  event: string;
  properties: string;
  context: string;
  ip: string;
  redactions: number;
  batch_id: string;
}

async function rowsOf(appId: string): Promise<StoredRow[]> {
  return chQuery<StoredRow>(
    "SELECT message_id, type, event, properties, context, ip, redactions, batch_id FROM events WHERE app_id = {app:String} ORDER BY message_id",
    { app: appId },
  );
}

async function waitForRows(appId: string, n: number, timeout = 20_000): Promise<StoredRow[]> {
  let rows: StoredRow[] = [];
  await vi.waitUntil(
    async () => {
      rows = await rowsOf(appId);
      return rows.length >= n;
    },
    { timeout, interval: 200 },
  );
  return rows;
}

afterEach(async () => {
  await setClickHouse("up");
});

describe("ingest to ClickHouse", () => {
  it("stores exactly the accepted events of a batch, redacted, once", async () => {
    const app = await createTestApp();
    const batch = [
      trackEvent({ messageId: "m-1", properties: { email: "jane@example.com", plan: "pro" } }),
      { type: "page", name: "Pricing", anonymousId: "anon-1", messageId: "m-2", context: { page: { path: "/pricing", url: "https://shop.example/pricing?token=abc123" } } },
      { type: "crash", anonymousId: "anon-1", messageId: "m-3", error: { type: "TypeError", message: "x is undefined", fatal: true, frames: [{ function: "render", file: "app.js", line: 3, inApp: true }] } },
      { type: "perf", anonymousId: "anon-1", messageId: "m-4", metric: { name: "LCP", value: 1840, unit: "ms" } },
      { type: "network", anonymousId: "anon-1", messageId: "m-5", request: { method: "get", url: "https://api.example.com/v1/items?api_key=sk_live_abcdefghijklmnop", status: 200, duration: 87 } },
      { type: "track", messageId: "m-bad" },
    ];
    const res = await post("/v1/batch", { batch }, { authorization: basicAuth(app.key), "cf-connecting-ip": "203.0.113.77" });
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: Array<{ index: number; code: string }> }>();
    expect(body.accepted).toBe(5);
    expect(body.rejected).toEqual([expect.objectContaining({ index: 5, code: "invalid_event" })]);

    const rows = await waitForRows(app.appId, 5);
    expect(rows.map((r) => r.message_id)).toEqual(["m-1", "m-2", "m-3", "m-4", "m-5"]);
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    expect(byId.get("m-1")?.properties).not.toContain("jane@example.com");
    expect(JSON.parse(byId.get("m-1")?.properties ?? "{}")).toMatchObject({ plan: "pro" });
    expect(byId.get("m-1")?.redactions).toBeGreaterThan(0);
    expect(byId.get("m-2")?.context).not.toContain("abc123");
    expect(byId.get("m-5")?.properties).not.toContain("sk_live_abcdefghijklmnop");
    expect(byId.get("m-3")?.event).toBe("TypeError");
    expect(byId.get("m-4")?.event).toBe("LCP");
    // The default policy keeps a truncated address only.
    expect(byId.get("m-1")?.ip).toBe("203.0.113.0");
    // One request to a new one-shard app: one chunk, flushed as the shard's first message.
    expect(rows.map((r) => r.batch_id)).toEqual(Array(5).fill(`${app.appId}:0:1`));
  });

  it("applies the app's own policy: salted hashes, extra keys, no client address", async () => {
    const app = await createTestApp({ policy: { action: "hash", extraKeys: ["plan"], ip: "drop", detectors: ["email"] } });
    const batch = [
      trackEvent({ messageId: "p-1", properties: { email: "jane@example.com", plan: "pro", phone: "+49 151 12345678" } }),
      trackEvent({ messageId: "p-2", properties: { email: "jane@example.com" } }),
    ];
    expect((await post("/v1/batch", { batch }, { "x-write-key": app.key, "cf-connecting-ip": "203.0.113.77" })).status).toBe(200);
    const rows = await waitForRows(app.appId, 2);
    const [first, second] = rows.map((r) => JSON.parse(r.properties) as Record<string, string>);
    expect(first?.email).toMatch(/^\[email:[0-9a-f]{16}\]$/);
    // The same address hashes the same, so users can still be counted without being named.
    expect(second?.email).toBe(first?.email);
    expect(first).not.toHaveProperty("plan");
    // Only the detectors the app chose run: the phone number stays.
    expect(first?.phone).toBe("+49 151 12345678");
    expect(rows.map((r) => r.ip)).toEqual(["", ""]);
  });

  it("drops a resent batch as duplicates instead of storing it twice", async () => {
    const app = await createTestApp();
    const batch = [trackEvent({ messageId: "dup-1" }), trackEvent({ messageId: "dup-2" })];
    const first = await post("/v1/batch", { batch }, { "x-write-key": app.key });
    expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 0 });
    await waitForRows(app.appId, 2);
    const again = await post("/v1/batch", { batch }, { "x-write-key": app.key });
    const answer = await again.json<{ accepted: number; duplicates: number }>();
    expect(answer.accepted).toBe(2);
    // Ids the shard still holds exactly are answered as duplicates; those it has moved to its
    // filters (ClickHouse confirmed them) go to the sink marked, which finds them stored.
    const storedBefore = async (): Promise<number> =>
      Number((await chQuery<{ n: string }>("SELECT sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} AND stage = 'deduplicated' AND reason = 'stored_before'", { app: app.appId }))[0]?.n ?? 0);
    await vi.waitUntil(async () => answer.duplicates + (await storedBefore()) === 2, { timeout: 20_000, interval: 200 });
    expect(await rowsOf(app.appId)).toHaveLength(2);
  });

  it("loses and doubles nothing while ClickHouse is down, and stores everything when it is back", async () => {
    const app = await createTestApp();
    await setClickHouse("down");
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = Array.from({ length: 20 }, (_, j) => trackEvent({ messageId: `out-${i}-${j}` }));
      sent.push(...batch.map((e) => String(e.messageId)));
      const res = await post("/v1/batch", { batch }, { "x-write-key": app.key });
      expect(res.status).toBe(200);
    }
    // Give the queue time to try, fail and schedule retries against the dead server.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await rowsOf(app.appId)).toHaveLength(0);
    await setClickHouse("up");
    const rows = await waitForRows(app.appId, sent.length, 25_000);
    await new Promise((r) => setTimeout(r, 1500));
    const final = await rowsOf(app.appId);
    expect(final).toHaveLength(sent.length);
    expect(new Set(final.map((r) => r.message_id))).toEqual(new Set(sent));
    expect(rows.length).toBe(sent.length);
  });

  it("answers readiness from D1, the queue and ClickHouse", async () => {
    const ready = await SELF.fetch("https://edge.test/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { d1: { ok: true }, queue: { ok: true }, clickhouse: { ok: true }, shards: { ok: true, stale: [] } } });
    await setClickHouse("down");
    const notReady = await SELF.fetch("https://edge.test/ready");
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ checks: { clickhouse: { ok: false }, d1: { ok: true } } });
  });

  it("answers 503 naming a shard whose oldest buffered event is older than BUFFER_STALE_MS, and ready again once it drains", async () => {
    const app = await createTestApp({ shardCount: 4 });
    const batch = [trackEvent()];
    // A new app places events by device.
    const shard = shardOf(String(batch[0]?.anonymousId), 4);
    const stub = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:${shard}`));
    await runInDurableObject(stub, (instance: AppBatcher) => {
      vi.spyOn(eventsQueue((instance as unknown as { env: Env }).env, app.appId), "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    });
    expect((await post("/v1/batch", { batch }, { "x-write-key": app.key })).status).toBe(200);
    // Ten minutes of failed flushes, without waiting them out.
    await runInDurableObject(stub, (_i: AppBatcher, state) => void state.storage.sql.exec("UPDATE chunks SET at = at - 600000"));
    await runDurableObjectAlarm(stub);

    const stale = await SELF.fetch("https://edge.test/ready");
    expect(stale.status).toBe(503);
    const body = await stale.json<{ status: string; checks: { shards: { ok: boolean; error: string; stale: Array<{ app: string; shard: number; ageMs: number }> } } }>();
    expect(body.status).toBe("unavailable");
    expect(body.checks.shards.stale).toEqual([{ app: app.appId, shard, staleSince: expect.any(Number), oldestAt: expect.any(Number), ageMs: expect.any(Number) }]);
    expect(body.checks.shards.stale[0]?.ageMs).toBeGreaterThanOrEqual(600_000);
    expect(body.checks.shards.error).toMatch(new RegExp(`${app.appId} shard ${shard}: oldest buffered event is 1\\d min old`));

    await runInDurableObject(stub, () => vi.restoreAllMocks());
    await runDurableObjectAlarm(stub);
    const again = await SELF.fetch("https://edge.test/ready");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "ready", checks: { shards: { ok: true, stale: [] } } });
  });
});

