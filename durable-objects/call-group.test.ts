import { afterEach, describe, expect, it, vi } from "vitest";
import { CallGroup, LONE_GROUPS, PROBE_EVERY, type GroupPart } from "./call-group";

type Named = GroupPart & { name: string };

const part = (name: string, rows = 1): Named => ({ name, rows, bytes: rows * 100, ids: Array.from({ length: rows }, (_, i) => `${name}-${i}`) });

function recorder(fail = () => false): { stores: string[][]; store: (parts: ReadonlyArray<{ name: string }>) => void } {
  const stores: string[][] = [];
  return {
    stores,
    store: (parts) => {
      if (fail()) throw new Error("disk full");
      stores.push(parts.map((p) => p.name));
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("CallGroup", () => {
  it("stores a call at once when none came within the window before it", async () => {
    const r = recorder();
    const group = new CallGroup<Named>({ windowMs: 4, maxCalls: 32, maxRows: 2000 }, r.store);
    await group.join(part("a"), 1_000);
    expect(r.stores).toEqual([["a"]]);
    // 10 ms later: the shard is idle, nothing waits.
    await group.join(part("b"), 1_010);
    expect(r.stores).toEqual([["a"], ["b"]]);
  });

  it("holds calls that come close together and stores them once, when the window ends", async () => {
    vi.useFakeTimers();
    const r = recorder();
    const group = new CallGroup<Named>({ windowMs: 4, maxCalls: 32, maxRows: 2000 }, r.store);
    await group.join(part("a"), 1_000);
    const b = group.join(part("b", 3), 1_001);
    const c = group.join(part("c", 2), 1_002);
    expect(r.stores).toEqual([["a"]]);
    expect({ size: group.size, rows: group.rows, bytes: group.bytes }).toEqual({ size: 2, rows: 5, bytes: 500 });
    expect(group.holds("b-2")).toBe(true);
    expect(group.holds("a-0")).toBe(false);
    vi.advanceTimersByTime(4);
    await Promise.all([b, c]);
    expect(r.stores).toEqual([["a"], ["b", "c"]]);
    expect({ size: group.size, rows: group.rows, held: group.holds("b-2") }).toEqual({ size: 0, rows: 0, held: false });
  });

  it("stores a group as soon as it holds its most calls or rows", async () => {
    const r = recorder();
    const group = new CallGroup<Named>({ windowMs: 60_000, maxCalls: 3, maxRows: 100 }, r.store);
    await group.join(part("a"), 0);
    const waiting = [group.join(part("b"), 1), group.join(part("c"), 2)];
    expect(r.stores).toEqual([["a"]]);
    waiting.push(group.join(part("d"), 3));
    await Promise.all(waiting);
    expect(r.stores).toEqual([["a"], ["b", "c", "d"]]);
    // A call of many rows closes its group at once.
    const e = group.join(part("e"), 4);
    await Promise.all([e, group.join(part("f", 100), 5)]);
    expect(r.stores).toEqual([["a"], ["b", "c", "d"], ["e", "f"]]);
  });

  it("stores the waiting calls when asked, before anything reads what the shard holds", async () => {
    const r = recorder();
    const group = new CallGroup<Named>({ windowMs: 60_000, maxCalls: 32, maxRows: 2000 }, r.store);
    await group.join(part("a"), 0);
    const b = group.join(part("b"), 1);
    group.settle();
    await b;
    expect(r.stores).toEqual([["a"], ["b"]]);
    group.settle();
    expect(r.stores).toHaveLength(2);
  });

  it("fails every call of a group whose store fails, and takes the next calls afresh", async () => {
    let failing = false;
    const r = recorder(() => failing);
    const group = new CallGroup<Named>({ windowMs: 60_000, maxCalls: 32, maxRows: 2000 }, r.store);
    await group.join(part("a"), 0);
    failing = true;
    const results = Promise.allSettled([group.join(part("b"), 1), group.join(part("c"), 2)]);
    group.settle();
    expect((await results).map((x) => (x.status === "rejected" ? String(x.reason) : "stored"))).toEqual(["Error: disk full", "Error: disk full"]);
    expect(group.holds("b-0")).toBe(false);
    expect(group.rows).toBe(0);
    // An idle call's own store failing is its own failure.
    await expect(group.join(part("d"), 120_000)).rejects.toThrow("disk full");
    failing = false;
    const resent = group.join(part("b"), 120_001);
    group.settle();
    await resent;
    expect(r.stores).toEqual([["a"], ["b"]]);
  });

  it("stops holding the close calls of one sender that never find company, and holds them again once a group does", async () => {
    vi.useFakeTimers();
    const r = recorder();
    const group = new CallGroup<Named>({ windowMs: 4, maxCalls: 32, maxRows: 2000 }, r.store);
    let at = 1_000;
    // A sender whose next call follows its last answer by 1 ms: each call waits its window alone.
    const alone = async (name: string): Promise<boolean> => {
      const stored = group.join(part(name), (at += 1));
      const waited = group.size > 0;
      vi.advanceTimersByTime(4);
      await stored;
      return waited;
    };
    await alone("first");
    const waits: boolean[] = [];
    for (let i = 0; i < LONE_GROUPS + 2 * PROBE_EVERY; i++) waits.push(await alone(`c${i}`));
    // The first LONE_GROUPS wait; after them only every PROBE_EVERY-th does.
    expect(waits.slice(0, LONE_GROUPS)).toEqual(Array.from({ length: LONE_GROUPS }, () => true));
    expect(waits.slice(LONE_GROUPS).filter(Boolean)).toHaveLength(2);
    expect(r.stores.every((s) => s.length === 1)).toBe(true);
    // Company again, on a probe: two calls stored together, and the next close call waits at once.
    for (let i = 0; i < PROBE_EVERY - 1; i++) expect(await alone(`d${i}`)).toBe(false);
    const a = group.join(part("a"), (at += 1));
    const b = group.join(part("b"), (at += 1));
    vi.advanceTimersByTime(4);
    await Promise.all([a, b]);
    expect(r.stores.at(-1)).toEqual(["a", "b"]);
    expect(await alone("e")).toBe(true);
  });

  it("stores every call on its own with a window of 0", async () => {
    const r = recorder();
    const group = new CallGroup<Named>({ windowMs: 0, maxCalls: 32, maxRows: 2000 }, r.store);
    await Promise.all([group.join(part("a"), 0), group.join(part("b"), 0), group.join(part("c"), 0)]);
    expect(r.stores).toEqual([["a"], ["b"], ["c"]]);
  });
});
