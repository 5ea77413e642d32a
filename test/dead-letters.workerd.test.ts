import { env, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { encodeSinkMessage, type EventRow } from "../schemas";
import { handleSinkBatch } from "../workers/queue/sink";
import { deliver } from "./queue-delivery";
import { chQuery, createTestApp } from "./seed";

function row(appId: string, messageId: string, overrides: Partial<Record<keyof EventRow, unknown>> = {}): string {
  const base: EventRow = {
    app_id: appId, type: "track", event: "Replayed", message_id: messageId, user_id: "", anonymous_id: "anon", session_id: "",
    timestamp: "2026-11-20 10:00:00.000", original_timestamp: "2026-11-20 10:00:00.000", sent_at: "2026-11-20 10:00:00.000", received_at: "2026-11-20 10:00:00.000",
    platform: "", os_name: "", os_version: "", app_version: "", app_build: "", device_type: "", device_model: "", device_manufacturer: "",
    browser: "", browser_version: "", library_name: "", library_version: "", locale: "", timezone: "", country: "", region: "", city: "", ip: "",
    path: "", url: "", referrer: "", utm_source: "", utm_medium: "", utm_campaign: "", crash_type: "", crash_message: "", crash_fingerprint: "", crash_fatal: 0,
    perf_metric: "", perf_value: 0, perf_unit: "", net_method: "", net_host: "", net_path: "", net_status: 0, duration_ms: 0,
    properties: {}, traits: {}, context: {}, redactions: 0, batch_id: "",
  };
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
  const res = await fetch(`${env.CLICKHOUSE_DIRECT_URL}/`, { method: "POST", body: query });
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

    const res = await SELF.fetch(`https://edge.test/admin/dead-letters/replay?prefix=2026-11-20/${encodeURIComponent(batchId.replace(/:/g, ":"))}`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ replayed: 1, rows: 3 });
    await vi.waitUntil(async () => (await countOf(app.appId)) === 3, { timeout: 20_000, interval: 200 });
    expect(await deadLetterKeys(batchId)).toHaveLength(0);

    // A batch replayed after it did land after all is skipped, not doubled.
    await env.EVENTS_QUEUE.send(text, { contentType: "text" });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await countOf(app.appId)).toBe(3);
  });
});
