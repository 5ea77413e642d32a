import { describe, expect, it } from "vitest";
import { ArrivalFilters, BlockedBloom, DEFAULT_WINDOW, LEGACY_BITS_PER_ID, MemoryPages, type PageStore } from "./bloom";
import { fingerprint } from "./fingerprint";
import { RecentIds } from "./recent-ids";
import { decodeIds, encodeIds } from "./tiers";

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${(i * 2654435761) >>> 0}`);

describe("fingerprints", () => {
  it("are stable, never have a zero low half, and spread distinct ids apart", () => {
    expect(fingerprint("m-1")).toEqual(fingerprint("m-1"));
    // One assertion over the whole run: an expect per id costs more than the hashing.
    const seen = new Set<string>();
    let zeroLow = 0;
    for (const id of ids("m", 200_000)) {
      const fp = fingerprint(id);
      if (fp.lo === 0) zeroLow++;
      seen.add(`${fp.hi}:${fp.lo}`);
    }
    expect(zeroLow).toBe(0);
    expect(seen.size).toBe(200_000);
  });
});

describe("RecentIds", () => {
  it("finds every id added with its row, and loses none when others are removed", () => {
    const table = new RecentIds();
    const all = ids("r", 50_000);
    all.forEach((id, i) => table.add(fingerprint(id), i % 7));
    expect(table.size).toBe(50_000);
    const refs = (list: readonly string[]): string[] => list.map((id) => table.refsOf(fingerprint(id)).join(","));
    expect(refs(all)).toEqual(all.map((_, i) => String(i % 7)));
    expect(all.filter((id, i) => i % 2 === 0 && !table.remove(fingerprint(id), i % 7))).toEqual([]);
    expect(refs(all)).toEqual(all.map((_, i) => (i % 2 === 0 ? "" : String(i % 7))));
    expect(table.size).toBe(25_000);
    expect(refs(ids("never", 10_000)).filter((r) => r !== "")).toEqual([]);
  });

  it("keeps two ids with one fingerprint apart by their rows, and moves an id to another row", () => {
    const table = new RecentIds();
    const fp = fingerprint("same");
    table.add(fp, 1);
    table.add(fp, 2);
    expect(table.refsOf(fp).sort()).toEqual([1, 2]);
    expect(table.move(fp, 2, -5)).toBe(true);
    expect(table.refsOf(fp).sort()).toEqual([-5, 1]);
    expect(table.remove(fp, 1)).toBe(true);
    expect(table.remove(fp, 1)).toBe(false);
    expect(table.refsOf(fp)).toEqual([-5]);
  });
});

describe("BlockedBloom", () => {
  it("never forgets an id and says maybe for about 4 % of others at its capacity, in seven bits an id", () => {
    const bloom = new BlockedBloom(100_000);
    const added = ids("b", 100_000);
    for (const id of added) bloom.add(fingerprint(id));
    expect(added.filter((id) => !bloom.has(fingerprint(id)))).toEqual([]);
    const others = ids("other", 100_000).filter((id) => bloom.has(fingerprint(id))).length;
    expect(others / 100_000).toBeGreaterThan(0.02);
    expect(others / 100_000).toBeLessThan(0.045);
    // Seven bits an id, in whole 64-byte blocks.
    expect(bloom.bits.length).toBe(Math.ceil((100_000 * 7) / 8 / 64) * 64);
  });

  it("at the ten bits an id levels were sized with before, says maybe for about 1 %", () => {
    const bloom = new BlockedBloom(100_000, LEGACY_BITS_PER_ID);
    const added = ids("b", 100_000);
    for (const id of added) bloom.add(fingerprint(id));
    expect(added.filter((id) => !bloom.has(fingerprint(id)))).toEqual([]);
    expect(ids("other", 100_000).filter((id) => bloom.has(fingerprint(id))).length / 100_000).toBeLessThan(0.015);
    expect(bloom.bits.length).toBe(Math.ceil((100_000 * 10) / 8 / 64) * 64);
  });
});

describe("ArrivalFilters", () => {
  const hour = 3_600_000;
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const fps = (list: readonly string[]) => list.map((id) => fingerprint(id));
  const loaded = (store: PageStore, budget?: number): ArrivalFilters => {
    const filters = new ArrivalFilters(store, DEFAULT_WINDOW, budget);
    filters.load();
    return filters;
  };

  it("answers maybe for every id added, whatever time it is asked at within the window, and absent for nearly all others", () => {
    const store = new MemoryPages();
    const filters = loaded(store);
    const added = ids("e", 20_000);
    filters.add(fps(added.slice(0, 10_000)), now);
    filters.add(fps(added.slice(10_000)), now + 7 * hour);
    for (const at of [now, now + 7 * hour, now + 24 * hour]) expect(filters.probe(fps(added), at).every(Boolean)).toBe(true);
    // The two partitions are both asked: about 4 % each.
    const fresh = filters.probe(fps(ids("fresh", 20_000)), now + 8 * hour).filter(Boolean).length;
    expect(fresh / 20_000).toBeLessThan(0.09);
  });

  it("comes back from its store after a restart, reading single blocks when pages are not in memory", () => {
    const store = new MemoryPages();
    const added = ids("r", 5_000);
    loaded(store).add(fps(added), now);
    const again = loaded(store, 0);
    expect(again.probe(fps(added), now + hour).every(Boolean)).toBe(true);
    expect(again.bytes).toBe(0);
    expect(store.blockReads).toBe(5_000);
  });

  it("writes each page a bulk add touches once, with its level", () => {
    const store = new MemoryPages();
    const filters = loaded(store);
    const pages = filters.add(fps(ids("bulk", 100_000)), now);
    // 100,000 ids at 7 bits are 87.5 KB: two pages of 64 KB, and one level row.
    expect(pages).toBe(2);
    expect(store.written).toBe(3);
  });

  it("keeps a partition until its last id is a day old, then drops it in memory and stored", () => {
    const store = new MemoryPages();
    const filters = loaded(store);
    const fp = fingerprint("kept");
    // Added at the start of a six-hour partition: found for 30 hours, as a day after its last possible id.
    const start = Math.floor(now / DEFAULT_WINDOW.partMs) * DEFAULT_WINDOW.partMs;
    filters.add([fp], start);
    filters.expire(start + 30 * hour - 1);
    expect(filters.probe([fp], start + 30 * hour - 1)).toEqual([true]);
    filters.expire(start + 30 * hour);
    expect(filters.probe([fp], start + 30 * hour)).toEqual([false]);
    expect(store.pages.size).toBe(0);
    expect(store.stored.size).toBe(0);
  });

  it("reads a level stored at ten bits an id with its own bits, and adds new ids at seven", () => {
    const store = new MemoryPages();
    const part = Math.floor(now / DEFAULT_WINDOW.partMs);
    const older = ids("older", 4_096);
    const bloom = new BlockedBloom(4_096, LEGACY_BITS_PER_ID);
    for (const id of older) bloom.add(fingerprint(id));
    store.write([{ part, level: 0, capacity: 4_096, count: 4_096, bits: LEGACY_BITS_PER_ID }], [{ part, level: 0, page: 0, bits: bloom.bits }]);
    const filters = loaded(store);
    expect(filters.probe(fps(older), now).every(Boolean)).toBe(true);
    const newer = ids("newer", 1_000);
    filters.add(fps(newer), now);
    expect(store.levels().map((l) => [l.level, l.bits])).toEqual([[0, LEGACY_BITS_PER_ID], [1, 7]]);
    expect(loaded(store).probe(fps([...older, ...newer]), now).every(Boolean)).toBe(true);
  });

  it("grows a partition by levels twice as large, all of them looked up, and sizes the next partition from it", () => {
    const store = new MemoryPages();
    const filters = loaded(store);
    const added = ids("burst", 20_000);
    for (let i = 0; i < added.length; i += 1_000) filters.add(fps(added.slice(i, i + 1_000)), now);
    const levels = store.levels();
    expect(levels.length).toBeGreaterThan(2);
    expect(loaded(store).probe(fps(added), now).every(Boolean)).toBe(true);
    filters.add([fingerprint("next")], now + DEFAULT_WINDOW.partMs);
    const next = store.levels().filter((l) => l.part === (levels[0]?.part ?? 0) + 1);
    expect(next).toEqual([expect.objectContaining({ level: 0, capacity: 20_000, count: 1 })]);
  });
});

describe("ids as rows keep them", () => {
  it("round-trip any id exactly, a lone surrogate included", () => {
    const ids = ["m-1", "x\ud801", '"quoted"'];
    expect(decodeIds(encodeIds(ids))).toEqual(ids);
    expect(decodeIds(null)).toEqual([]);
    expect(decodeIds("not json")).toEqual([]);
  });
});
