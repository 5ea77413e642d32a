import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeClient, fakeEdge, received } from "./fakes";

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  vi.useFakeTimers();
  warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const ok = (n: number) => ({ status: 200, body: { accepted: n, duplicates: 0, rejected: [] } });

describe("retry policy", () => {
  it("waits as long as Retry-After says after a 429, then resends the same events", async () => {
    const edge = fakeEdge();
    edge.answers.push({ status: 429, retryAfter: "30", body: { error: { code: "rate_limited", message: "slow down" } } });
    const t = fakeClient(edge);
    t.track("a");
    await t.flush();
    t.track("b");
    await vi.advanceTimersByTimeAsync(29_000);
    expect(edge.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(edge.requests).toHaveLength(2);
    expect(edge.batches[1]?.map((e) => e.event)).toEqual(["a", "b"]);
    expect(edge.batches[1]?.[0]?.messageId).toBe(edge.batches[0]?.[0]?.messageId);
  });

  it("retries 5xx and 408 with growing delays, and sends once the edge recovers", async () => {
    const edge = fakeEdge();
    edge.answers.push({ status: 503 }, { status: 500 }, { status: 408 });
    const t = fakeClient(edge);
    t.track("a");
    await t.flush();
    const times: number[] = [];
    const start = Date.now();
    while (edge.requests.length < 4 && Date.now() - start < 120_000) {
      const before = edge.requests.length;
      await vi.advanceTimersByTimeAsync(100);
      if (edge.requests.length > before) times.push(Date.now() - start);
    }
    expect(edge.requests).toHaveLength(4);
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    // Equal jitter: each wait is at least half of 1 s, 2 s, 4 s.
    expect(gaps[0]).toBeGreaterThanOrEqual(500);
    expect(gaps[1]).toBeGreaterThanOrEqual(1000);
    expect(gaps[2]).toBeGreaterThanOrEqual(2000);
    expect(edge.batches.at(-1)?.map((e) => e.event)).toEqual(["a"]);
  });

  it("keeps retrying a lost connection without giving up, and never loses the events", async () => {
    const edge = fakeEdge();
    edge.down = true;
    const t = fakeClient(edge, { maxRetries: 2 });
    t.track("a");
    await t.flush();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(edge.requests.length).toBeGreaterThan(5);
    edge.down = false;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(edge.batches.at(-1)?.map((e) => e.event)).toEqual(["a"]);
    expect(warn).not.toHaveBeenCalled();
  });

  it("drops a batch the edge keeps refusing with 5xx after maxRetries, with a warning", async () => {
    const edge = fakeEdge();
    for (let i = 0; i < 3; i++) edge.answers.push({ status: 500 });
    const t = fakeClient(edge, { maxRetries: 2 });
    t.track("poison");
    await t.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(edge.requests).toHaveLength(3);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("dropped 1 event(s)"));
    t.track("next");
    await t.flush();
    expect(edge.batches.at(-1)?.map((e) => e.event)).toEqual(["next"]);
  });

  it("splits the batch on 413 and drops only an event that is too large alone", async () => {
    const edge = fakeEdge();
    edge.answers.push((req) => (JSON.parse(req.body ?? "").batch.length > 1 ? { status: 413 } : ok(1)));
    edge.answers.push((req) => (JSON.parse(req.body ?? "").batch.length > 1 ? { status: 413 } : ok(1)));
    const t = fakeClient(edge, { flushAt: 100 });
    for (const e of ["a", "b", "c", "d"]) t.track(e);
    await t.flush();
    // Halves until accepted, then grows back gradually.
    expect(edge.batches.map((b) => b.length)).toEqual([4, 2, 1, 2, 1]);
    expect(new Set(received(edge).map((e) => e.event))).toEqual(new Set(["a", "b", "c", "d"]));

    const lone = fakeEdge();
    lone.answers.push({ status: 413 });
    const u = fakeClient(lone);
    u.track("too big");
    await u.flush();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("dropped 1 event(s): the edge answered 413"));
  });

  it("drops a batch on any other 4xx with the edge's reason, and goes on with the next", async () => {
    const edge = fakeEdge();
    edge.answers.push({ status: 401, body: { error: { code: "unauthorized", message: "unknown or revoked write key" } } });
    const t = fakeClient(edge, { batchSize: 1 });
    t.track("a");
    t.track("b");
    await t.flush();
    expect(edge.requests).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("401 unauthorized: unknown or revoked write key"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(edge.requests).toHaveLength(2);
  });

  it("reports events the edge rejected one by one, and does not resend them", async () => {
    const edge = fakeEdge();
    edge.answers.push({ status: 200, body: { accepted: 1, duplicates: 0, rejected: [{ index: 1, messageId: "m", code: "invalid_timestamp", message: "timestamp: not a date" }] } });
    const t = fakeClient(edge);
    t.track("a");
    t.track("b");
    await t.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(edge.requests).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("#1 invalid_timestamp"));
  });
});

describe("page unload", () => {
  it("hands the queue to a beacon as text with the write key in the body, in chunks under 64 KB", async () => {
    const edge = fakeEdge();
    edge.down = true;
    const t = fakeClient(edge, { flushAt: 1000 });
    for (let i = 0; i < 40; i++) t.track(`e${i}`, { pad: "x".repeat(3000) });
    await t.ready;
    const beacons: Array<{ url: string; body: { writeKey: string; sentAt: string; batch: unknown[] } }> = [];
    t.beacon((url, body) => {
      expect(body.length).toBeLessThan(64 * 1024);
      beacons.push({ url, body: JSON.parse(body) });
      return true;
    });
    expect(beacons.length).toBeGreaterThan(1);
    expect(beacons.reduce((n, b) => n + b.body.batch.length, 0)).toBe(40);
    expect(beacons[0]?.url).toBe("https://edge.test/v1/batch");
    expect(beacons[0]?.body.writeKey).toBe("wk_test");
    // Sent by beacon: nothing is left to send again.
    edge.down = false;
    await t.flush();
    expect(received(edge).length).toBe(0);
  });

  it("keeps what the browser refused to queue", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { flushAt: 1000 });
    t.track("kept");
    await t.ready;
    t.beacon(() => false);
    await t.flush();
    expect(received(edge).map((e) => e.event)).toEqual(["kept"]);
  });
});
