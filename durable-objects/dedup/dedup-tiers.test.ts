import { describe, expect, it } from "vitest";
import { BlockedBloom, DEFAULT_WINDOW, EventTimeFilters, type PageStore, type StoredPage } from "./bloom";
import { fingerprint } from "./fingerprint";
import { RecentIds } from "./recent-ids";
import { clientTimeOf, decodeIds, encodeIds } from "./tiers";

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${(i * 2654435761) >>> 0}`);

class MemoryStore implements PageStore {
  readonly pages = new Map<string, StoredPage>();
  saves = 0;
  load(slot: number): StoredPage[] {
    return [...this.pages.values()].filter((p) => p.slot === slot).map((p) => ({ ...p, bits: p.bits.slice() }));
  }
  save(pages: readonly StoredPage[]): void {
    this.saves += pages.length;
    for (const p of pages) this.pages.set(`${p.slot}:${p.level}:${p.page}`, { ...p, bits: p.bits.slice() });
  }
  dropBefore(slot: number, generation: number): void {
    for (const [k, p] of this.pages) if ((p.slot > 0 && p.slot < slot) || (p.slot < 0 && -p.slot < generation)) this.pages.delete(k);
  }
}

describe("fingerprints", () => {
  it("are stable, never have a zero low half, and spread distinct ids apart", () => {
    expect(fingerprint("m-1")).toEqual(fingerprint("m-1"));
    const seen = new Set<string>();
    for (const id of ids("m", 200_000)) {
      const fp = fingerprint(id);
      expect(fp.lo).not.toBe(0);
      seen.add(`${fp.hi}:${fp.lo}`);
    }
    expect(seen.size).toBe(200_000);
  });
});

describe("RecentIds", () => {
  it("finds every id added with its row, and loses none when others are removed", () => {
    const table = new RecentIds();
    const all = ids("r", 50_000);
    all.forEach((id, i) => table.add(fingerprint(id), i % 7));
    expect(table.size).toBe(50_000);
    for (const [i, id] of all.entries()) expect(table.refsOf(fingerprint(id))).toEqual([i % 7]);
    for (const [i, id] of all.entries()) if (i % 2 === 0) expect(table.remove(fingerprint(id), i % 7)).toBe(true);
    for (const [i, id] of all.entries()) expect(table.refsOf(fingerprint(id))).toEqual(i % 2 === 0 ? [] : [i % 7]);
    expect(table.size).toBe(25_000);
    for (const id of ids("never", 10_000)) expect(table.refsOf(fingerprint(id))).toEqual([]);
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
  it("never forgets an id and says maybe for few others at its capacity", () => {
    const bloom = new BlockedBloom(100_000);
    const added = ids("b", 100_000);
    for (const id of added) bloom.add(fingerprint(id));
    for (const id of added) expect(bloom.has(fingerprint(id))).toBe(true);
    const others = ids("other", 100_000).filter((id) => bloom.has(fingerprint(id))).length;
    expect(others / 100_000).toBeLessThan(0.04);
    // One byte an id, in whole 64-byte blocks.
    expect(bloom.bits.length).toBe(Math.ceil(100_000 / 64) * 64);
  });
});

describe("EventTimeFilters", () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0);

  it("answers maybe for every id added, absent for nearly all others, across a restart once saved", () => {
    const store = new MemoryStore();
    const filters = new EventTimeFilters(store);
    const added = ids("e", 20_000);
    added.forEach((id, i) => filters.add(fingerprint(id), now - (i % 600) * 60_000, now));
    for (const [i, id] of added.entries()) expect(filters.probe(fingerprint(id), now - (i % 600) * 60_000, now)).toBe("maybe");
    filters.save();
    const again = new EventTimeFilters(store);
    for (const [i, id] of added.entries()) expect(again.probe(fingerprint(id), now - (i % 600) * 60_000, now)).toBe("maybe");
    const fresh = ids("fresh", 20_000).filter((id, i) => again.probe(fingerprint(id), now - (i % 600) * 60_000, now) === "maybe").length;
    expect(fresh / 20_000).toBeLessThan(0.05);
  });

  it("looks a resent id up by its client time only: another time's slot says absent", () => {
    const filters = new EventTimeFilters(new MemoryStore());
    const fp = fingerprint("once");
    filters.add(fp, now - 3_600_000, now);
    expect(filters.probe(fp, now - 3_600_000, now + 5 * 3_600_000)).toBe("maybe");
    expect(filters.probe(fp, now - 7_200_000, now)).toBe("absent");
  });

  it("is never sure about ids without a client time or older than the slots kept", () => {
    const filters = new EventTimeFilters(new MemoryStore());
    expect(filters.probe(fingerprint("x"), null, now)).toBe("maybe");
    expect(filters.probe(fingerprint("x"), now - DEFAULT_WINDOW.keepMs - 1, now)).toBe("maybe");
    expect(filters.probe(fingerprint("x"), now - DEFAULT_WINDOW.keepMs + 60_000, now)).toBe("absent");
  });

  it("still knows an id whose time was too far ahead when it came, once that time is near", () => {
    const filters = new EventTimeFilters(new MemoryStore());
    const fp = fingerprint("from-the-future");
    const at = now + 6 * 3_600_000;
    filters.add(fp, at, now);
    expect(filters.probe(fp, at, now)).toBe("maybe");
    // Five and a half hours later its time is within the slots, whose own filter never had it.
    expect(filters.probe(fp, at, now + 5.5 * 3_600_000)).toBe("maybe");
    expect(filters.probe(fingerprint("other"), at, now + 5.5 * 3_600_000)).toBe("absent");
  });

  it("drops slots that fell out of the window, in memory and stored, and reloads let-go slots from the store", () => {
    const store = new MemoryStore();
    const filters = new EventTimeFilters(store, DEFAULT_WINDOW, 0);
    const fp = fingerprint("kept");
    filters.add(fp, now - 60_000, now);
    filters.save();
    filters.expire(now);
    // Over a zero memory budget every clean slot is let go; the store answers for it.
    expect(filters.bytes).toBe(0);
    expect(filters.probe(fp, now - 60_000, now)).toBe("maybe");
    filters.expire(now + DEFAULT_WINDOW.keepMs + DEFAULT_WINDOW.slotMs);
    expect(store.pages.size).toBe(0);
  });

  it("grows a slot by levels twice as large, all of them looked up", () => {
    const store = new MemoryStore();
    const filters = new EventTimeFilters(store);
    const added = ids("burst", 5_000);
    for (const id of added) filters.add(fingerprint(id), now, now);
    filters.save();
    const levels = new Set([...store.pages.values()].map((p) => p.level));
    expect(levels.size).toBeGreaterThan(2);
    const again = new EventTimeFilters(store);
    for (const id of added) expect(again.probe(fingerprint(id), now, now)).toBe("maybe");
  });
});

describe("ids as rows keep them", () => {
  it("round-trip any id exactly, a lone surrogate included, with or without a client time", () => {
    const ids = [{ id: "m-1", at: 1_700_000_000_000 }, { id: "x\ud801", at: null }, { id: '"quoted"', at: 0 }];
    expect(decodeIds(encodeIds(ids))).toEqual(ids);
    expect(decodeIds(null)).toEqual([]);
    expect(decodeIds("not json")).toEqual([]);
  });

  it("file an event under the client's time, and under none when the edge used the receive time", () => {
    expect(clientTimeOf("2026-11-22 12:55:00.123", "2026-11-22 12:56:00.000")).toBe(Date.UTC(2026, 10, 22, 12, 55, 0, 123));
    expect(clientTimeOf("2026-11-22 12:56:00.000", "2026-11-22 12:56:00.000")).toBeNull();
    expect(clientTimeOf("garbage", "2026-11-22 12:56:00.000")).toBeNull();
  });
});
