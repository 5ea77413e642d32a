import { fmix32, type Fingerprint } from "./fingerprint";

/**
 * Bits per id a new filter level is sized for: about 3.7 % false "maybe" at capacity, with 5 bits
 * set per id. Every lookup asks every partition kept, so up to ~15 % of new ids are settled in
 * ClickHouse (one lookup per queue delivery, which 5 % already made); 10 bits took 1.1 to
 * 1.35 GB per shard at 10,000 events/s, 7 take 0.77 to 0.95 (`npm run bench:dedup`).
 */
export const BITS_PER_ID = 7;
/** What levels stored before their bits per id was kept were sized with. */
export const LEGACY_BITS_PER_ID = 10;
const BLOCK_BYTES = 64;

// Bits set per id: the count that gives the fewest false "maybe" at this many bits per id
// (7 for 10 bits, 5 for 7), so a level reads with the count it was written with.
const probesFor = (bitsPerId: number): number => Math.max(1, Math.min(7, Math.round(bitsPerId * Math.LN2)));
/** Bytes of one stored page: a level is written as pages of at most this size, one row each. */
export const PAGE_BYTES = 64 * 1024;
const MIN_LEVEL_IDS = 4096;

// The id's bits (up to seven) in its 512-bit block at `offset`, 9 bits each from the low half and
// two mixes: sets them (`set`), or tests them and answers whether all were set. No array per
// lookup, which runs for every id against every level kept.
function visit(bytes: Uint8Array, offset: number, fp: Fingerprint, probes: number, set: boolean): boolean {
  let x = fp.lo;
  let y = fmix32(fp.lo ^ 0x5bd1e995);
  const z = fmix32(fp.hi ^ 0x27d4eb2f);
  for (let i = 0; i < probes; i++) {
    let bit: number;
    if (i < 3) {
      bit = x & 511;
      x >>>= 9;
    } else if (i < 6) {
      bit = y & 511;
      y >>>= 9;
    } else bit = z & 511;
    const at = offset + (bit >>> 3);
    const mask = 1 << (bit & 7);
    if (set) bytes[at] = (bytes[at] ?? 0) | mask;
    else if (((bytes[at] ?? 0) & mask) === 0) return false;
  }
  return true;
}

/** Whether all of the id's bits are set in the 64-byte block at `offset` of a filter of `bitsPerId`. */
export const blockHas = (bytes: Uint8Array, offset: number, fp: Fingerprint, bitsPerId: number): boolean => visit(bytes, offset, fp, probesFor(bitsPerId), false);

const blockSet = (bytes: Uint8Array, offset: number, fp: Fingerprint, bitsPerId: number): void => {
  visit(bytes, offset, fp, probesFor(bitsPerId), true);
};

/** Bytes of a blocked Bloom filter for `capacity` ids: whole 64-byte blocks. */
export const bytesFor = (capacity: number, bitsPerId: number): number => Math.max(1, Math.ceil((capacity * bitsPerId) / 8 / BLOCK_BYTES)) * BLOCK_BYTES;

/**
 * The byte offset of the id's block in a filter of `bytes`: each id sets its bits in one 64-byte
 * block, so a lookup touches one cache line, and one stored page, instead of seven.
 */
export function blockOf(fp: Fingerprint, bytes: number): number {
  // Multiply-shift instead of a modulo: uniform over any block count.
  return Math.floor(((fp.hi >>> 0) * (bytes / BLOCK_BYTES)) / 0x1_0000_0000) * BLOCK_BYTES;
}

/** A blocked Bloom filter in one array, for tests and sizing: `ArrivalFilters` keeps its levels as pages. */
export class BlockedBloom {
  readonly bits: Uint8Array;
  count = 0;

  constructor(
    readonly capacity: number,
    readonly bitsPerId = BITS_PER_ID,
  ) {
    this.bits = new Uint8Array(bytesFor(capacity, bitsPerId));
  }

  add(fp: Fingerprint): void {
    this.count++;
    blockSet(this.bits, blockOf(fp, this.bits.length), fp, this.bitsPerId);
  }

  has(fp: Fingerprint): boolean {
    return blockHas(this.bits, blockOf(fp, this.bits.length), fp, this.bitsPerId);
  }
}

/** A filter level of a partition: what it was sized for and how many ids it holds. */
export interface Level {
  part: number;
  level: number;
  capacity: number;
  count: number;
  /** Bits per id it was sized with, which also fix the bits each id sets. */
  bits: number;
}

/** Where a 64-byte block lies: its level's page and the offset within the page. */
export interface BlockAt {
  part: number;
  level: number;
  page: number;
  offset: number;
}

/** Where filters are kept: the batcher's SQLite, or memory in tests. */
export interface PageStore {
  levels(): Level[];
  /** A whole page; null when it was never written (all zeros). */
  page(part: number, level: number, page: number): Uint8Array | null;
  /** The blocks asked for, in order; null for a block of a page never written. */
  blocks(at: readonly BlockAt[]): Array<Uint8Array | null>;
  /** Writes pages and the levels they belong to. */
  write(levels: readonly Level[], pages: ReadonlyArray<{ part: number; level: number; page: number; bits: Uint8Array }>): void;
  /** Forgets every partition before `part`. */
  dropBefore(part: number): void;
}

export interface FilterWindow {
  /** Length of a partition of arrival time. */
  partMs: number;
  /** How long after its partition ends an id must still be found. */
  keepMs: number;
}

const pageKey = (part: number, level: number, page: number): string => `${part}:${level}:${page}`;

/** Pages kept in memory, for tests and the storage benchmark: counts what a SQLite store would write and read. */
export class MemoryPages implements PageStore {
  readonly pages = new Map<string, Uint8Array>();
  /** `copy` false keeps the written arrays themselves, which their filter goes on changing: only for a run that never reloads. */
  constructor(private readonly copy = true) {}

  readonly stored = new Map<string, Level>();
  /** Rows written (levels and pages) and single blocks read. */
  written = 0;
  blockReads = 0;

  levels(): Level[] {
    return [...this.stored.values()].map((l) => ({ ...l }));
  }

  page(part: number, level: number, page: number): Uint8Array | null {
    return this.pages.get(pageKey(part, level, page))?.slice() ?? null;
  }

  blocks(at: readonly BlockAt[]): Array<Uint8Array | null> {
    this.blockReads += at.length;
    return at.map((b) => this.pages.get(pageKey(b.part, b.level, b.page))?.slice(b.offset, b.offset + BLOCK_BYTES) ?? null);
  }

  write(levels: readonly Level[], pages: ReadonlyArray<{ part: number; level: number; page: number; bits: Uint8Array }>): void {
    for (const l of levels) this.stored.set(`${l.part}:${l.level}`, { ...l });
    for (const p of pages) this.pages.set(pageKey(p.part, p.level, p.page), this.copy ? p.bits.slice() : p.bits);
    this.written += levels.length + pages.length;
  }

  dropBefore(part: number): void {
    for (const [k, l] of this.stored) if (l.part < part) this.stored.delete(k);
    for (const k of [...this.pages.keys()]) if (Number(k.slice(0, k.indexOf(":"))) < part) this.pages.delete(k);
  }

  /** Bytes of the pages stored. */
  get bytes(): number {
    let n = 0;
    for (const p of this.pages.values()) n += p.length;
    return n;
  }
}

/** Six-hour partitions kept a day after they end: 24 to 30 hours of ids, in five filters at most. */
export const DEFAULT_WINDOW: FilterWindow = { partMs: 6 * 3_600_000, keepMs: 24 * 3_600_000 };

/**
 * Tier 2 of decision record 0021: blocked Bloom filters of the ids a shard let go of, partitioned
 * by when they were added (six hours a partition), so a whole partition is dropped once its ids
 * are older than the dedup window. A lookup asks every partition kept, so it answers for an id
 * whatever time its copies carry. "absent" is sure; "maybe" must be settled elsewhere.
 *
 * Ids come in bulk (tier 1 lets go of many at once), so adding them rewrites each page they touch
 * once. Pages stay in memory up to a budget; a lookup in a page that is not reads only its block.
 */
export class ArrivalFilters {
  private readonly levels = new Map<number, Level[]>();
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;

  constructor(
    private readonly store: PageStore,
    private readonly window: FilterWindow = DEFAULT_WINDOW,
    /** Bytes of pages kept in memory; beyond it the least recently used are let go. */
    private readonly memoryBudget = 32 * 1024 * 1024,
  ) {}

  /** Reads the levels kept in the store (pages are read when needed). */
  load(): void {
    this.levels.clear();
    for (const l of this.store.levels()) this.partLevels(l.part).push({ ...l });
    for (const list of this.levels.values()) list.sort((a, b) => a.level - b.level);
  }

  /** For each fingerprint, whether an id with it may have been added within the window. */
  probe(fps: readonly Fingerprint[], now: number): boolean[] {
    const levels = this.live(now);
    const maybe = fps.map(() => false);
    const pending: Array<{ index: number; fp: Fingerprint; bitsPerId: number }> = [];
    const asks: BlockAt[] = [];
    for (const [index, fp] of fps.entries()) {
      for (const l of levels) {
        if (l.count === 0) continue;
        const block = blockOf(fp, bytesFor(l.capacity, l.bits));
        const page = Math.floor(block / PAGE_BYTES);
        const bits = this.hit(l.part, l.level, page);
        if (bits) {
          if (blockHas(bits, block % PAGE_BYTES, fp, l.bits)) {
            maybe[index] = true;
            break;
          }
          continue;
        }
        pending.push({ index, fp, bitsPerId: l.bits });
        asks.push({ part: l.part, level: l.level, page, offset: block % PAGE_BYTES });
      }
    }
    if (asks.length === 0) return maybe;
    const blocks = this.store.blocks(asks);
    for (const [i, { index, fp, bitsPerId }] of pending.entries()) {
      const bits = blocks[i];
      if (!maybe[index] && bits && blockHas(bits, 0, fp, bitsPerId)) maybe[index] = true;
    }
    return maybe;
  }

  /**
   * Adds ids to the partition of `now` and writes every page they changed, with their levels.
   * A level that fills is followed by one twice its size (a scalable Bloom filter); the first
   * level of a partition is sized for what the partition before it took.
   */
  add(fps: readonly Fingerprint[], now: number): number {
    if (fps.length === 0) return 0;
    const part = Math.floor(now / this.window.partMs);
    const levels = this.partLevels(part);
    // Keyed by level and page within the partition: a number, not a string built for each id.
    const dirty = new Map<number, { part: number; level: number; page: number; bits: Uint8Array }>();
    const touched = new Set<Level>();
    let l = levels[levels.length - 1];
    let levelBytes = l ? bytesFor(l.capacity, l.bits) : 0;
    let probes = l ? probesFor(l.bits) : 0;
    let last: Level | undefined;
    for (const fp of fps) {
      if (!l || l.count >= l.capacity) {
        const before = (this.levels.get(part - 1) ?? []).reduce((n, x) => n + x.count, 0);
        l = { part, level: levels.length, capacity: l ? l.capacity * 2 : Math.max(MIN_LEVEL_IDS, before, fps.length), count: 0, bits: BITS_PER_ID };
        levels.push(l);
        levelBytes = bytesFor(l.capacity, l.bits);
        probes = probesFor(l.bits);
      }
      if (l !== last) {
        touched.add(l);
        last = l;
      }
      const block = blockOf(fp, levelBytes);
      const page = Math.floor(block / PAGE_BYTES);
      const key = l.level * 65_536 + page;
      let entry = dirty.get(key);
      if (!entry) {
        entry = { part, level: l.level, page, bits: this.pageFor(part, l.level, page, levelBytes) };
        dirty.set(key, entry);
      }
      visit(entry.bits, block % PAGE_BYTES, fp, probes, true);
      l.count++;
    }
    this.store.write([...touched], [...dirty.values()]);
    this.trim();
    return dirty.size;
  }

  /** Drops partitions whose ids are all older than the window, in memory and in the store. */
  expire(now: number): void {
    const first = this.firstLive(now);
    if (![...this.levels.keys()].some((p) => p < first)) return;
    this.store.dropBefore(first);
    for (const part of [...this.levels.keys()]) if (part < first) this.levels.delete(part);
    for (const [key, bits] of this.cache) {
      if (Number(key.slice(0, key.indexOf(":"))) >= first) continue;
      this.cache.delete(key);
      this.cached -= bits.length;
    }
  }

  /** Bytes of pages held in memory. */
  get bytes(): number {
    return this.cached;
  }

  /** Ids in the partitions kept, and the bytes their filters take in the store. */
  get size(): { ids: number; bytes: number } {
    let ids = 0;
    let bytes = 0;
    for (const list of this.levels.values()) {
      for (const l of list) {
        ids += l.count;
        bytes += bytesFor(l.capacity, l.bits);
      }
    }
    return { ids, bytes };
  }

  private firstLive(now: number): number {
    return Math.floor((now - this.window.keepMs) / this.window.partMs);
  }

  private live(now: number): Level[] {
    const first = this.firstLive(now);
    return [...this.levels.entries()].filter(([part]) => part >= first).flatMap(([, list]) => list);
  }

  private partLevels(part: number): Level[] {
    let list = this.levels.get(part);
    if (!list) {
      list = [];
      this.levels.set(part, list);
    }
    return list;
  }

  // A cached page, now the most recently used.
  private hit(part: number, level: number, page: number): Uint8Array | null {
    const key = pageKey(part, level, page);
    const bits = this.cache.get(key);
    if (!bits) return null;
    this.cache.delete(key);
    this.cache.set(key, bits);
    return bits;
  }

  // A page to change: from the cache, the store, or new; cached from now on.
  private pageFor(part: number, level: number, page: number, levelBytes: number): Uint8Array {
    const cached = this.hit(part, level, page);
    if (cached) return cached;
    const size = Math.min(PAGE_BYTES, levelBytes - page * PAGE_BYTES);
    const bits = new Uint8Array(size);
    const stored = this.store.page(part, level, page);
    if (stored) bits.set(stored.subarray(0, size));
    this.cache.set(pageKey(part, level, page), bits);
    this.cached += bits.length;
    return bits;
  }

  private trim(): void {
    for (const [key, bits] of this.cache) {
      if (this.cached <= this.memoryBudget) break;
      this.cache.delete(key);
      this.cached -= bits.length;
    }
  }
}
