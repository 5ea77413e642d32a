import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeClient, fakeEdge, received } from "./fakes";
import { memoryStorage } from "./storage";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-11-20T10:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("batching", () => {
  it("sends once flushAt events are queued, in one request, with sentAt and the write key", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { flushAt: 3, flushInterval: 60_000 });
    t.track("a");
    t.track("b");
    await vi.advanceTimersByTimeAsync(0);
    expect(edge.requests).toHaveLength(0);
    t.track("c");
    await vi.advanceTimersByTimeAsync(0);
    expect(edge.requests).toHaveLength(1);
    const req = edge.requests[0];
    expect(req?.url).toBe("https://edge.test/v1/batch");
    expect(req?.headers.authorization).toBe(`Basic ${btoa("wk_test:")}`);
    const body = JSON.parse(req?.body ?? "") as { sentAt: string; batch: Array<{ event: string }> };
    expect(body.sentAt).toBe("2026-11-20T10:00:00.000Z");
    expect(body.batch.map((e) => e.event)).toEqual(["a", "b", "c"]);
  });

  it("sends a lone event after flushInterval", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { flushInterval: 5000 });
    t.track("lonely");
    await vi.advanceTimersByTimeAsync(4000);
    expect(edge.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(received(edge).map((e) => e.event)).toEqual(["lonely"]);
  });

  it("splits a large queue into batches of batchSize", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { flushAt: 1000, batchSize: 4 });
    for (let i = 0; i < 10; i++) t.track(`e${i}`);
    await t.flush();
    expect(edge.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it("gives every event a unique messageId, a timestamp, the ids and context", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { context: { app: { name: "shop", version: "1.2.0" } } });
    t.track("Order Completed", { total: 30 });
    t.page("Pricing");
    t.screen("Checkout");
    t.group("acme", { seats: 3 });
    await t.flush();
    const events = received(edge);
    expect(new Set(events.map((e) => e.messageId)).size).toBe(4);
    for (const e of events) {
      expect(e.timestamp).toBe("2026-11-20T10:00:00.000Z");
      expect(e.anonymousId).toBe(t.ids().anonymousId);
      expect(e.context).toMatchObject({ app: { name: "shop", version: "1.2.0" }, locale: "en-GB", library: { name: "test" }, sessionId: t.ids().sessionId });
    }
    expect(events.map((e) => [e.type, e.event ?? e.name ?? e.groupId])).toEqual([
      ["track", "Order Completed"],
      ["page", "Pricing"],
      ["screen", "Checkout"],
      ["group", "acme"],
    ]);
    expect(events[0]?.properties).toEqual({ total: 30 });
  });

  it("drops an event over 32 KB at once, with a warning", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const edge = fakeEdge();
    const t = fakeClient(edge);
    t.track("huge", { blob: "x".repeat(40_000) });
    t.track("fine");
    await t.flush();
    expect(received(edge).map((e) => e.event)).toEqual(["fine"]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("over 32 KB"));
  });
});

describe("identity", () => {
  it("identify sets the user on later events; alias links ids; reset forgets everything", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    t.track("before");
    t.identify("u_1", { plan: "pro" });
    t.track("after");
    t.alias("u_2");
    t.register({ tier: "gold" });
    t.track("registered");
    const anon = t.ids().anonymousId;
    t.reset();
    t.track("after reset");
    await t.flush();
    const [before, identify, after, alias, registered, afterReset] = received(edge);
    expect(before?.userId).toBeUndefined();
    expect(identify).toMatchObject({ type: "identify", userId: "u_1", traits: { plan: "pro" }, anonymousId: anon });
    expect(after?.userId).toBe("u_1");
    expect(alias).toMatchObject({ type: "alias", previousId: "u_1", userId: "u_2" });
    expect(registered).toMatchObject({ userId: "u_2", properties: { tier: "gold" } });
    expect(afterReset?.userId).toBeUndefined();
    expect(afterReset?.properties).toBeUndefined();
    expect(afterReset?.anonymousId).not.toBe(anon);
  });

  it("super-properties apply to every later event; explicit properties win; unregister removes one", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    t.register({ plan: "pro", source: "ads" });
    t.track("a", { plan: "team" });
    t.unregister("source");
    t.track("b");
    await t.flush();
    expect(received(edge).map((e) => e.properties)).toEqual([{ plan: "team", source: "ads" }, { plan: "pro" }]);
  });
});

describe("sessions", () => {
  it("keeps one session while events come, and starts a new one after 30 minutes idle", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    t.track("a");
    await vi.advanceTimersByTimeAsync(29 * 60_000);
    t.track("b");
    await vi.advanceTimersByTimeAsync(31 * 60_000);
    t.track("c");
    await t.flush();
    const [a, b, c] = received(edge).map((e) => e.context.sessionId);
    expect(a).toBe(b);
    expect(c).not.toBe(b);
  });

  it("honours a configured timeout", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { sessionTimeout: 60_000 });
    t.track("a");
    await vi.advanceTimersByTimeAsync(61_000);
    t.track("b");
    await t.flush();
    const [a, b] = received(edge).map((e) => e.context.sessionId);
    expect(a).not.toBe(b);
  });
});

describe("consent", () => {
  it("sends and keeps nothing while opted out, and records again after optIn with new ids", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    const t = fakeClient(edge, { flushInterval: 60_000 }, storage);
    t.identify("u_1");
    t.track("queued before opt-out");
    const anon = t.ids().anonymousId;
    t.optOut();
    t.track("while opted out");
    t.identify("u_2");
    await t.flush();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(edge.requests).toHaveLength(0);
    expect(t.isOptedOut()).toBe(true);
    expect(await storage.get("et:q")).toBeNull();
    expect(await storage.get("et:s")).toBe(JSON.stringify({ optedOut: true }));

    t.optIn();
    t.track("after opt-in");
    await t.flush();
    const events = received(edge);
    expect(events.map((e) => e.event)).toEqual(["after opt-in"]);
    expect(events[0]?.userId).toBeUndefined();
    expect(events[0]?.anonymousId).not.toBe(anon);
  });

  it("remembers the choice across restarts, and optedOut: true starts without consent", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    const first = fakeClient(edge, { optedOut: true }, storage);
    first.track("nope");
    await first.flush();
    const second = fakeClient(edge, {}, storage);
    await second.ready;
    expect(second.isOptedOut()).toBe(true);
    second.track("still nope");
    await second.flush();
    expect(edge.requests).toHaveLength(0);
  });
});

describe("offline persistence", () => {
  it("keeps unsent events across a restart and sends them when the edge answers again", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    edge.down = true;
    const first = fakeClient(edge, {}, storage);
    first.identify("u_1");
    first.track("offline 1");
    first.track("offline 2");
    await first.flush();
    first.track("offline 3");
    await first.shutdown();
    expect(received(edge).length).toBeGreaterThan(0);

    edge.down = false;
    const sent = edge.batches.length;
    const second = fakeClient(edge, {}, storage);
    second.track("online");
    await second.flush();
    const after = edge.batches.slice(sent).flat();
    expect(after.map((e) => e.event ?? e.type)).toEqual(["identify", "offline 1", "offline 2", "offline 3", "online"]);
    expect(second.ids().userId).toBe("u_1");
    expect(after.at(-1)?.userId).toBe("u_1");
  });

  it("bounds the queue: drops the oldest and says so", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const edge = fakeEdge();
    const t = fakeClient(edge, { maxQueueSize: 3, flushAt: 100 });
    for (const e of ["1", "2", "3", "4", "5"]) t.track(e);
    await t.flush();
    expect(received(edge).map((e) => e.event)).toEqual(["3", "4", "5"]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("dropped the 1 oldest"));
  });

  it("two clients sharing one storage (two tabs) never erase each other's unsent events", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    edge.down = true;
    const tabA = fakeClient(edge, { flushAt: 100 }, storage);
    const tabB = fakeClient(edge, { flushAt: 100 }, storage);
    await Promise.all([tabA.ready, tabB.ready]);
    tabA.track("from A");
    tabB.track("from B");
    await tabA.shutdown();
    await tabB.shutdown();
    // Both tabs close without reaching the edge; the next page load sends both.
    edge.down = false;
    const next = fakeClient(edge, {}, storage);
    await next.flush();
    expect(edge.batches.at(-1)?.map((e) => e.event).sort()).toEqual(["from A", "from B"]);
  });
});

describe("calls before the stored state is loaded", () => {
  it("wait for it and keep their order and timestamps", async () => {
    const edge = fakeEdge();
    const slow = memoryStorage();
    const storage = { ...slow, get: async (k: string) => new Promise<string | null>((done) => setTimeout(() => done(slow.get(k) as string | null), 50)) };
    await slow.set("et:s", JSON.stringify({ anonymousId: "anon-stored", userId: "u_stored" }));
    const t = fakeClient(edge, {}, storage);
    t.track("early");
    await vi.advanceTimersByTimeAsync(100);
    await t.flush();
    expect(received(edge)[0]).toMatchObject({ event: "early", anonymousId: "anon-stored", userId: "u_stored", timestamp: "2026-11-20T10:00:00.000Z" });
  });
});
