import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeClient, fakeEdge, received } from "./fakes";
import { MAX_CHILD_SPANS } from "./spans";
import type { Metric, WireEvent } from "./types";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-11-20T10:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const perfOf = (events: WireEvent[]) => events.filter((e) => e.type === "perf").map((e) => ({ metric: e.metric as Metric | undefined, timestamp: e.timestamp, properties: e.properties }));

describe("spans", () => {
  it("sends a transaction and its ended children as perf events in the shape Sentry transactions arrive in", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    const root = t.startSpan("checkout", { op: "ui.action", properties: { cart: 3 } });
    vi.advanceTimersByTime(10);
    const query = root.startChild("db.query", "SELECT * FROM carts WHERE id = ?");
    vi.advanceTimersByTime(25);
    query.end();
    const call = root.startChild("http.client", "POST /api/orders");
    const render = call.startChild("render");
    vi.advanceTimersByTime(100);
    call.setStatus("internal_error").end();
    render.end();
    vi.advanceTimersByTime(15);
    root.end();
    await t.flush();
    expect(perfOf(received(edge))).toEqual([
      { metric: { name: "checkout", value: 150, unit: "ms" }, timestamp: "2026-11-20T10:00:00.000Z", properties: { cart: 3, kind: "transaction", transaction: "checkout", op: "ui.action", status: "ok", spans: 3 } },
      { metric: { name: "db.query", value: 25, unit: "ms" }, timestamp: "2026-11-20T10:00:00.010Z", properties: { kind: "span", transaction: "checkout", op: "db.query", description: "SELECT * FROM carts WHERE id = ?", status: "ok" } },
      { metric: { name: "http.client", value: 100, unit: "ms" }, timestamp: "2026-11-20T10:00:00.035Z", properties: { kind: "span", transaction: "checkout", op: "http.client", description: "POST /api/orders", status: "internal_error" } },
      { metric: { name: "render", value: 100, unit: "ms" }, timestamp: "2026-11-20T10:00:00.035Z", properties: { kind: "span", transaction: "checkout", op: "render", status: "ok" } },
    ]);
  });

  it("drops children still running when the root ends, and ignores a second end", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    const root = t.startSpan("GET /orders/:id");
    const slow = root.startChild("http.client");
    root.startChild("cache.get").end();
    root.end();
    slow.end();
    root.end();
    root.startChild("late").end();
    await t.flush();
    const events = perfOf(received(edge));
    expect(events.map((e) => e.metric?.name)).toEqual(["GET /orders/:id", "cache.get"]);
    expect(events[0]?.properties).toMatchObject({ kind: "transaction", spans: 1 });
    expect(events[0]?.properties).not.toHaveProperty("op");
  });

  it(`keeps at most ${MAX_CHILD_SPANS} children per transaction`, async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { flushAt: 1000 });
    const root = t.startSpan("import");
    for (let i = 0; i < MAX_CHILD_SPANS + 20; i++) root.startChild("db.query", `row ${i}`).end();
    root.end();
    await t.flush();
    const events = perfOf(received(edge));
    expect(events).toHaveLength(MAX_CHILD_SPANS + 1);
    expect(events[0]?.properties?.spans).toBe(MAX_CHILD_SPANS);
    expect(events.at(-1)?.properties?.description).toBe(`row ${MAX_CHILD_SPANS - 1}`);
  });

  it("span() times a synchronous function and passes on its value", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    const value = t.span("parse", (s) => {
      s.startChild("decode").end();
      vi.advanceTimersByTime(7);
      return 42;
    });
    expect(value).toBe(42);
    await t.flush();
    expect(perfOf(received(edge)).map((e) => [e.metric?.name, e.metric?.value, e.properties?.status])).toEqual([
      ["parse", 7, "ok"],
      ["decode", 0, "ok"],
    ]);
  });

  it("span() ends with status error when the function throws or its promise rejects, and rethrows", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    expect(() =>
      t.span("sync", () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    const failing = t.span("async", async () => {
      await new Promise((r) => setTimeout(r, 40));
      throw new Error("refused");
    });
    const outcome = failing.catch((err: unknown) => (err instanceof Error ? err.message : "?"));
    await vi.advanceTimersByTimeAsync(40);
    await expect(outcome).resolves.toBe("refused");
    const ok = t.span("later", async () => {
      await new Promise((r) => setTimeout(r, 30));
      return "done";
    });
    await vi.advanceTimersByTimeAsync(30);
    await expect(ok).resolves.toBe("done");
    await t.flush();
    expect(perfOf(received(edge)).map((e) => [e.metric?.name, e.metric?.value, e.properties?.status])).toEqual([
      ["sync", 0, "error"],
      ["async", 40, "error"],
      ["later", 30, "ok"],
    ]);
  });

  it("is sampled per transaction by sampling.perf, children included, while the span still works", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { sampling: { perf: 0.5 } });
    const random = vi.spyOn(Math, "random").mockReturnValue(0.7);
    const out = t.span("dropped", (s) => (s.startChild("db.query").end(), "still runs"));
    random.mockReturnValue(0.2);
    t.span("kept", (s) => s.startChild("db.query").end());
    await t.flush();
    expect(out).toBe("still runs");
    expect(perfOf(received(edge)).map((e) => e.metric?.name)).toEqual(["kept", "db.query"]);
  });

  it("cuts names to what the edge accepts, the spans repeating their transaction's name exactly", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    const long = `GET /search/${"x".repeat(200)}`;
    const root = t.startSpan(long);
    root.startChild("y".repeat(200), "z".repeat(2000)).end();
    root.startChild("").end();
    root.end();
    await t.flush();
    const [tx, first, second] = perfOf(received(edge));
    expect(tx?.metric?.name).toBe(long.slice(0, 128));
    expect(first?.metric?.name).toBe("y".repeat(128));
    expect(first?.properties).toMatchObject({ transaction: long.slice(0, 128), description: "z".repeat(1024) });
    expect(second?.metric?.name).toBe("span");
  });
});
