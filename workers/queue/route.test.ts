import { describe, expect, it } from "vitest";
import { eventsQueue, eventsQueueBinding, eventsQueueIndex, unboundEventQueues } from "./route";

const appIds = Array.from({ length: 8000 }, (_, i) => `app_${(i * 2654435761).toString(16).padStart(12, "0").slice(-12)}`);

function fakeQueue(name: string): Queue & { name: string } {
  return { name, send: async () => {}, sendBatch: async () => {}, metrics: async () => ({ backlogCount: 0, backlogBytes: 0 }) } as unknown as Queue & { name: string };
}

function envWith(queues: number, bound: number): Env {
  const bindings: Record<string, unknown> = { ENVIRONMENT: "development", CLICKHOUSE_URL: "http://127.0.0.1:8123", EVENTS_QUEUES: String(queues) };
  for (let i = 0; i < bound; i++) bindings[eventsQueueBinding(i)] = fakeQueue(eventsQueueBinding(i));
  return bindings as unknown as Env;
}

describe("the event queue of an app", () => {
  it("is always the same for the same app and queue count", () => {
    // Pinned: a changed hash would move every app at the next deploy.
    expect([eventsQueueIndex("app_demo", 2), eventsQueueIndex("app_demo", 8), eventsQueueIndex("app_7f3a9c21d0e4", 8)]).toEqual([0, 2, 4]);
    for (const id of appIds.slice(0, 100)) expect(eventsQueueIndex(id, 4)).toBe(eventsQueueIndex(id, 4));
  });

  it("spreads apps evenly over 2, 4 and 16 queues", () => {
    for (const n of [2, 4, 16]) {
      const counts = new Array<number>(n).fill(0);
      for (const id of appIds) counts[eventsQueueIndex(id, n)] = (counts[eventsQueueIndex(id, n)] ?? 0) + 1;
      const mean = appIds.length / n;
      for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
    }
  });

  it("is the first queue, under its original binding, when there is one", () => {
    expect(appIds.every((id) => eventsQueueIndex(id, 1) === 0)).toBe(true);
    const env = envWith(1, 1);
    expect((eventsQueue(env, "app_demo") as Queue & { name: string }).name).toBe("EVENTS_QUEUE");
  });

  it("is the bound queue of the app's index, EVENTS_QUEUE_<n> after the first", () => {
    const env = envWith(3, 3);
    for (const id of appIds.slice(0, 30)) {
      expect((eventsQueue(env, id) as Queue & { name: string }).name).toBe(eventsQueueBinding(eventsQueueIndex(id, 3)));
    }
    expect(eventsQueueBinding(2)).toBe("EVENTS_QUEUE_2");
  });

  it("fails naming the binding when the count says more queues than are bound", () => {
    const env = envWith(3, 2);
    const app = appIds.find((id) => eventsQueueIndex(id, 3) === 2) ?? "";
    expect(() => eventsQueue(env, app)).toThrow("EVENTS_QUEUES is 3 but EVENTS_QUEUE_2 is not bound");
  });

  it("names, for /ready, every queue EVENTS_QUEUES counts that is not bound", () => {
    expect(unboundEventQueues(envWith(3, 3))).toEqual([]);
    expect(unboundEventQueues(envWith(4, 2))).toEqual(["EVENTS_QUEUE_2", "EVENTS_QUEUE_3"]);
  });
});
