import { fmix32, type Fingerprint } from "./fingerprint";

/** Bits per id a filter level is sized for: about 2.5 % false "maybe" with 6 bits set per id. */
export const BITS_PER_ID = 8;
const PROBES = 6;
const BLOCK_BYTES = 64;
/** Bytes of one stored page: a level is written as pages of at most this size, one row each. */
export const PAGE_BYTES = 64 * 1024;
const MIN_LEVEL_IDS = 512;

/**
 * A blocked Bloom filter: each id sets its bits in one 64-byte block, so a lookup touches one
 * cache line, and one stored page, instead of six. `count` ids were added; `capacity` is what it
 * was sized for.
 */
export class BlockedBloom {
  readonly bits: Uint8Array;
  readonly capacity: number;
  count: number;

  constructor(capacity: number, bits?: Uint8Array, count = 0) {
    this.capacity = capacity;
    this.bits = bits ?? new Uint8Array(BlockedBloom.bytesFor(capacity));
    this.count = count;
  }

  /** Bytes of a filter for `capacity` ids: whole blocks. */
  static bytesFor(capacity: number): number {
    return Math.max(1, Math.ceil((capacity * BITS_PER_ID) / 8 / BLOCK_BYTES)) * BLOCK_BYTES;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** The byte offset of the id's block. */
  blockOf(fp: Fingerprint): number {
    const blocks = this.bits.length / BLOCK_BYTES;
    // Multiply-shift instead of a modulo: uniform over any block count.
    return Math.floor(((fp.hi >>> 0) * blocks) / 0x1_0000_0000) * BLOCK_BYTES;
  }

  /** Sets the id's bits; returns the byte offset of its block. */
  add(fp: Fingerprint): number {
    this.count++;
    return this.visit(fp, true);
  }

  has(fp: Fingerprint): boolean {
    return this.visit(fp, false) >= 0;
  }

  // The id's six bits in its block: 9 bits each from the low half and from a mix of it. Sets
  // them (`set`) or tests them, returning -1 at the first bit not set.
  private visit(fp: Fingerprint, set: boolean): number {
    const block = this.blockOf(fp);
    let x = fp.lo;
    let y = fmix32(fp.lo ^ 0x5bd1e995);
    for (let i = 0; i < PROBES; i++) {
      const bit = (i < 3 ? x : y) & 511;
      if (i < 3) x >>>= 9;
      else y >>>= 9;
      const at = block + (bit >>> 3);
      const mask = 1 << (bit & 7);
      if (set) this.bits[at] = (this.bits[at] ?? 0) | mask;
      else if (((this.bits[at] ?? 0) & mask) === 0) return -1;
    }
    return block;
  }
}

/** One stored page of a filter level, as its row holds it. */
export interface StoredPage {
  slot: number;
  level: number;
  page: number;
  /** What the level was sized for, and the ids it held when this page was written. */
  capacity: number;
  count: number;
  bits: Uint8Array;
}

/** Where filters are kept between restarts: the batcher's SQLite, or memory in tests. */
export interface PageStore {
  /** Every page of a slot's levels. */
  load(slot: number): StoredPage[];
  save(pages: readonly StoredPage[]): void;
  /** Forgets every slot below `slot` (event time) and every arrival generation below `-generation`. */
  dropBefore(slot: number, generation: number): void;
}

/** A slot's levels, newest last, and which pages changed since they were last written. */
interface Slot {
  levels: BlockedBloom[];
  dirty: Set<string>;
  used: number;
}

export interface FilterWindow {
  /** Length of an event-time slot. */
  slotMs: number;
  /** How far back event-time slots are kept (from now). */
  keepMs: number;
  /** Event times up to this far ahead of now get their slot; later ones go to the arrival-day filters. */
  aheadMs: number;
}

export const DEFAULT_WINDOW: FilterWindow = { slotMs: 10 * 60_000, keepMs: 25 * 3_600_000, aheadMs: 3_600_000 };
const DAY_MS = 86_400_000;

/** What a probe found: "absent" is sure; "maybe" must be settled exactly elsewhere. */
export type Probe = "absent" | "maybe";

/**
 * Tier 2 of decision record 0021: Bloom filters of the ids a shard accepted, one per slot of
 * event (client) time, so a resent event, which carries the same client time, is looked up in
 * one filter. A slot's filter holds every id accepted with a time in it for as long as the slot
 * is kept; a slot never seen is empty. Ids whose time lies too far ahead go to filters by day of
 * arrival instead (probed for any time that could have been ahead when its first copy came),
 * and times older than the slots kept, or no time at all, are always "maybe".
 */
export class EventTimeFilters {
  private readonly slots = new Map<number, Slot>();
  private horizon = -Infinity;

  constructor(
    private readonly store: PageStore,
    private readonly window: FilterWindow = DEFAULT_WINDOW,
    /** Bytes of clean slots kept in memory; beyond it the least recently used are let go. */
    private readonly memoryBudget = 48 * 1024 * 1024,
  ) {}

  /** The filters an id of client time `at` (epoch ms, null when the client sent none) is in, at `now`. */
  private keysFor(at: number | null, now: number): number[] | null {
    if (at === null || !Number.isFinite(at)) return null;
    const keys: number[] = [];
    const slot = Math.floor(at / this.window.slotMs);
    if (at >= now - this.window.keepMs && at <= now + this.window.aheadMs) keys.push(slot);
    else if (at < now - this.window.keepMs) return null;
    // A time that may have been too far ahead when a first copy arrived (within the dedup day
    // before now) is also looked up in the arrival filters of today and yesterday.
    if (at > now - DAY_MS + this.window.aheadMs) {
      const day = Math.floor(now / DAY_MS);
      keys.push(-day, -(day - 1));
    }
    return keys;
  }

  /** Whether an id with client time `at` may have been added before. */
  probe(fp: Fingerprint, at: number | null, now: number): Probe {
    const keys = this.keysFor(at, now);
    if (keys === null) return "maybe";
    for (const key of keys) {
      const slot = this.slot(key, now);
      for (const level of slot.levels) if (level.has(fp)) return "maybe";
    }
    return "absent";
  }

  /** Adds an accepted id; ids without a client time, or with one older than the slots kept, are in no filter. */
  add(fp: Fingerprint, at: number | null, now: number): void {
    if (at === null || !Number.isFinite(at) || at < now - this.window.keepMs) return;
    const key = at <= now + this.window.aheadMs ? Math.floor(at / this.window.slotMs) : -Math.floor(now / DAY_MS);
    const slot = this.slot(key, now);
    let level = slot.levels[slot.levels.length - 1];
    if (!level || level.full) {
      // A new level twice the last (a scalable Bloom filter); the first sized from the slot before.
      const previous = this.slots.get(key - 1)?.levels.reduce((n, l) => n + l.count, 0) ?? 0;
      const capacity = level ? level.capacity * 2 : Math.max(MIN_LEVEL_IDS, key > 0 ? previous : 0);
      level = new BlockedBloom(capacity);
      slot.levels.push(level);
    }
    const block = level.add(fp);
    slot.dirty.add(`${slot.levels.length - 1}:${Math.floor(block / PAGE_BYTES)}`);
  }

  /** Writes every changed page; returns how many. */
  save(): number {
    const pages: StoredPage[] = [];
    for (const [key, slot] of this.slots) {
      for (const d of slot.dirty) {
        const [level, page] = d.split(":").map(Number) as [number, number];
        const l = slot.levels[level];
        if (!l) continue;
        pages.push({ slot: key, level, page, capacity: l.capacity, count: l.count, bits: l.bits.subarray(page * PAGE_BYTES, (page + 1) * PAGE_BYTES) });
      }
    }
    if (pages.length > 0) this.store.save(pages);
    for (const slot of this.slots.values()) slot.dirty.clear();
    return pages.length;
  }

  /** Drops slots that fell out of the window, in memory and in the store; lets go of clean slots over the memory budget. */
  expire(now: number): void {
    const horizon = Math.floor((now - this.window.keepMs) / this.window.slotMs);
    const generation = Math.floor(now / DAY_MS) - 1;
    if (horizon > this.horizon) {
      this.horizon = horizon;
      this.store.dropBefore(horizon, generation);
    }
    for (const key of [...this.slots.keys()]) if ((key > 0 && key < horizon) || (key < 0 && -key < generation)) this.slots.delete(key);
    let bytes = this.bytes;
    if (bytes <= this.memoryBudget) return;
    for (const [key, slot] of [...this.slots].sort((a, b) => a[1].used - b[1].used)) {
      if (bytes <= this.memoryBudget) break;
      if (slot.dirty.size > 0) continue;
      bytes -= slot.levels.reduce((n, l) => n + l.bits.length, 0);
      this.slots.delete(key);
    }
  }

  /** Bytes of the filters held in memory. */
  get bytes(): number {
    let n = 0;
    for (const slot of this.slots.values()) for (const l of slot.levels) n += l.bits.length;
    return n;
  }

  private slot(key: number, now: number): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { levels: this.loadLevels(key), dirty: new Set(), used: now };
      this.slots.set(key, slot);
    }
    slot.used = now;
    return slot;
  }

  private loadLevels(key: number): BlockedBloom[] {
    const byLevel = new Map<number, StoredPage[]>();
    for (const p of this.store.load(key)) {
      const pages = byLevel.get(p.level) ?? [];
      pages.push(p);
      byLevel.set(p.level, pages);
    }
    const levels: BlockedBloom[] = [];
    for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
      const pages = byLevel.get(level) ?? [];
      const capacity = pages[0]?.capacity ?? MIN_LEVEL_IDS;
      const bits = new Uint8Array(BlockedBloom.bytesFor(capacity));
      let count = 0;
      for (const p of pages) {
        bits.set(p.bits.subarray(0, Math.min(p.bits.length, bits.length - p.page * PAGE_BYTES)), p.page * PAGE_BYTES);
        count = Math.max(count, p.count);
      }
      levels.push(new BlockedBloom(capacity, bits, count));
    }
    return levels;
  }
}
