// The pipeline's per-minute counters end to end: requests through the real Worker, the
// AppBatcher's tallies through the real queue and consumer, and the counts read back from the
// real local ClickHouse, as the dashboard's pipeline view reads them. Each test has its own app.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { encodeSinkMessage, encodeTallyMessage, EVENT_COLUMNS, tallyMinute } from "../schemas";
import { chQuery, createTestApp, post, trackEvent } from "./seed";

type Counts = Record<string, number>;

// `stage` or `stage/reason` → total over all minutes.
async function countsOf(appId: string): Promise<Counts> {
  const rows = await chQuery<{ stage: string; reason: string; n: string }>(
    "SELECT stage, reason, sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} GROUP BY stage, reason",
    { app: appId },
  );
  return Object.fromEntries(rows.map((r) => [r.reason === "" ? r.stage : `${r.stage}/${r.reason}`, Number(r.n)]));
}

async function waitForCounts(appId: string, expected: Counts, timeout = 25_000): Promise<Counts> {
  let seen: Counts = {};
  try {
    await vi.waitUntil(
      async () => {
        seen = await countsOf(appId);
        return Object.entries(expected).every(([k, v]) => seen[k] === v);
      },
      { timeout, interval: 250 },
    );
  } catch {
    // Fall through to a readable diff of what did arrive.
  }
  expect(seen).toMatchObject(expected);
  return seen;
}

describe("pipeline counters", () => {
  it("counts what was accepted, rejected by reason, deduplicated, refused, flushed, inserted and redacted", async () => {
    const app = await createTestApp();
    const auth = { "x-write-key": app.key };
    const good = [
      trackEvent({ messageId: "c-1", properties: { email: "jane@example.com" } }),
      trackEvent({ messageId: "c-2", properties: { note: "call +49 151 1234567 or mail joe@example.com" } }),
      trackEvent({ messageId: "c-3" }),
      trackEvent({ messageId: "c-4" }),
    ];
    const first = await post("/v1/batch", { batch: [...good, { type: "track", messageId: "no-ids" }, trackEvent({ timestamp: "yesterday-ish" })] }, auth);
    expect(await first.json()).toMatchObject({ accepted: 4, duplicates: 0, rejected: [{ code: "invalid_event" }, { code: "invalid_timestamp" }] });
    // A client retry: the same four come back and are dropped as duplicates.
    expect(await (await post("/v1/batch", { batch: good }, auth)).json()).toMatchObject({ accepted: 4, duplicates: 4 });
    // Nothing of these is accepted, yet each reaches the app's counters.
    expect((await post("/v1/batch", { batch: [{ type: "track" }] }, auth)).status).toBe(200);
    expect((await post("/v1/track", { event: "No one" }, auth)).status).toBe(400);
    expect((await post("/v1/batch", { batch: [] }, auth)).status).toBe(400);
    expect((await post("/v1/batch", "{not json", auth)).status).toBe(400);
    const tooMany = Array.from({ length: 2501 }, (_, i) => ({ type: "track", event: "e", anonymousId: "a", messageId: `big-${i}` }));
    expect((await post("/v1/batch", { batch: tooMany }, auth)).status).toBe(413);

    const counts = await waitForCounts(app.appId, {
      accepted: 4,
      deduplicated: 4,
      "rejected/invalid_event": 3,
      "rejected/invalid_timestamp": 1,
      "rejected/batch_too_large": 2501,
      "refused/empty_batch": 1,
      "refused/invalid_json": 1,
      "refused/batch_too_large": 1,
      flushed: 4,
      inserted: 4,
    });
    // An e-mail address in c-1, a phone number and an address in c-2.
    expect(counts.redacted).toBeGreaterThanOrEqual(3);

    const [lag] = await chQuery<{ minutes: string; p50: number; p95: number; max: number }>(
      `SELECT count() AS minutes, quantilesTDigestMerge(0.5, 0.95)(lag)[1] AS p50, quantilesTDigestMerge(0.5, 0.95)(lag)[2] AS p95, max(max_lag) AS max
       FROM pipeline_lag_minutely WHERE app_id = {app:String}`,
      { app: app.appId },
    );
    // The four rows took between a flush interval and a few seconds from the edge to ClickHouse.
    expect(Number(lag?.minutes)).toBeGreaterThan(0);
    expect(lag?.p50).toBeGreaterThan(0);
    expect(lag?.max).toBeGreaterThanOrEqual(lag?.p95 ?? Infinity);
    expect(lag?.max).toBeLessThan(30_000);
  });

  it("counts events dead-lettered by ClickHouse's reason, beside the good batch that was stored", async () => {
    const app = await createTestApp();
    const row = (id: string, timestamp: string): string => {
      const values: Record<string, unknown> = { app_id: app.appId, type: "track", event: "Poison", message_id: id, anonymous_id: "a", timestamp, received_at: "2026-11-20 10:00:00.000", properties: {}, traits: {}, context: {} };
      return JSON.stringify(EVENT_COLUMNS.map((c) => values[c] ?? null));
    };
    await env.EVENTS_QUEUE.sendBatch([
      { body: encodeSinkMessage(`${app.appId}:0:1`, app.appId, [row("ok-1", "2026-11-20 10:00:00.000")]), contentType: "text" },
      { body: encodeSinkMessage(`${app.appId}:0:2`, app.appId, [row("bad-1", "not a time"), row("bad-2", "2026-11-20 10:00:00.000")]), contentType: "text" },
    ]);
    const counts = await waitForCounts(app.appId, { inserted: 1 });
    await vi.waitUntil(async () => Object.keys(await countsOf(app.appId)).some((k) => k.startsWith("dead_lettered/")), { timeout: 20_000, interval: 250 });
    const dead = Object.entries(await countsOf(app.appId)).filter(([k]) => k.startsWith("dead_lettered/"));
    // Both rows of the refused message, under the error ClickHouse named.
    expect(dead).toEqual([[expect.stringMatching(/^dead_lettered\/cannot_parse/), 2]]);
    expect(counts.inserted).toBe(1);
  });

  it("counts a tally batch once when the AppBatcher sends it again", async () => {
    const app = await createTestApp();
    const minute = tallyMinute(Date.now());
    const text = encodeTallyMessage(`${app.appId}:0:t1`, app.appId, [
      { minute, stage: "accepted", reason: "", n: 7 },
      { minute, stage: "rejected", reason: "rate_limited", n: 2 },
    ]);
    await env.EVENTS_QUEUE.send(text, { contentType: "text" });
    await waitForCounts(app.appId, { accepted: 7, "rejected/rate_limited": 2 });
    // A send that failed after it had landed is repeated under the same batch id.
    await env.EVENTS_QUEUE.send(text, { contentType: "text" });
    await env.EVENTS_QUEUE.send(encodeTallyMessage(`${app.appId}:0:t2`, app.appId, [{ minute, stage: "accepted", reason: "", n: 1 }]), { contentType: "text" });
    await waitForCounts(app.appId, { accepted: 8, "rejected/rate_limited": 2 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await countsOf(app.appId)).toEqual({ accepted: 8, "rejected/rate_limited": 2 });
  });
});
