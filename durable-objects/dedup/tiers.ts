import { EventTimeFilters, type PageStore, type StoredPage } from "./bloom";
import { fingerprint, type Fingerprint } from "./fingerprint";
import { RecentIds } from "./recent-ids";

/** A messageId with its event's client time (epoch ms), null when the client sent none. */
export interface IdAt {
  id: string;
  at: number | null;
}

/** What the tiers say of an incoming id: stored before, surely new, or to be settled in ClickHouse. */
export type Verdict = "duplicate" | "new" | "check";

type Sql = Pick<SqlStorage, "exec">;

/** The ids of a buffered chunk, by its sequence number; null when there is no such chunk. */
export type ChunkIds = (seq: number) => IdAt[] | null;

// Filter pages change with nearly every add while traffic flows: they are written at most this
// often, a row per 64 KB page, instead of with every call.
const SAVE_INTERVAL_MS = 5_000;
// Sent ids whose batches ClickHouse never confirmed (dead-lettered by the sink) are let go once
// the dedup window has passed for them.
const SENT_KEEP_MS = 25 * 3_600_000;
// Tier 1 in memory takes 12 bytes an id at most 0.7 full: about 35 MB at this many ids, reached
// only when ClickHouse has not confirmed inserts for a while. Beyond it the shard answers `full`.
export const MAX_RECENT_IDS = 2_000_000;

/** Ids as a chunk or sent row keeps them: JSON, which keeps any id exactly, lone surrogates included. */
export const encodeIds = (ids: readonly IdAt[]): string => JSON.stringify(ids.map((i) => (i.at === null ? [i.id] : [i.id, i.at])));

/** Reads `encodeIds` text; anything else (a row written before ids were kept) holds none. */
export function decodeIds(text: string | null | undefined): IdAt[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    const out: IdAt[] = [];
    for (const p of parsed) {
      if (Array.isArray(p) && typeof p[0] === "string") out.push({ id: p[0], at: typeof p[1] === "number" ? p[1] : null });
    }
    return out;
  } catch {
    return [];
  }
}

/** The filters' pages in the batcher's SQLite, one row per page, keyed so a slot's pages are one range. */
class SqlPages implements PageStore {
  constructor(private readonly sql: Sql) {}

  static key(slot: number, level: number, page: number): number {
    return (slot * 256 + level) * 4096 + page;
  }

  load(slot: number): StoredPage[] {
    return this.sql
      .exec<{ level: number; page: number; capacity: number; count: number; bits: ArrayBuffer }>(
        "SELECT level, page, capacity, count, bits FROM dedup_pages WHERE key >= ? AND key < ?",
        SqlPages.key(slot, 0, 0),
        SqlPages.key(slot + 1, 0, 0),
      )
      .toArray()
      .map((r) => ({ slot, level: r.level, page: r.page, capacity: r.capacity, count: r.count, bits: new Uint8Array(r.bits) }));
  }

  save(pages: readonly StoredPage[]): void {
    for (const p of pages) {
      this.sql.exec(
        "INSERT INTO dedup_pages(key, slot, level, page, capacity, count, bits) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET count = excluded.count, bits = excluded.bits",
        SqlPages.key(p.slot, p.level, p.page),
        p.slot,
        p.level,
        p.page,
        p.capacity,
        p.count,
        p.bits.slice().buffer,
      );
    }
  }

  dropBefore(slot: number, generation: number): void {
    this.sql.exec("DELETE FROM dedup_pages WHERE (slot > 0 AND slot < ?) OR (slot < 0 AND -slot < ?)", slot, generation);
  }
}

/** A row of ids whose chunks were sent, with the batches ClickHouse has not confirmed yet. */
interface SentRow {
  at: number;
  pending: Set<string>;
  /** The filters' save count when its ids were added: the row may go once a later save is done. */
  epoch: number;
}

/**
 * The AppBatcher's answer to "was this id stored before?" (decision record 0021), without a
 * SQLite row per id. Tier 1: the ids of buffered chunks (in their rows) and of sent chunks (one
 * `dedup_sent` row per flush) until ClickHouse confirmed their batches and tier 2 was written,
 * found through their fingerprints in memory and settled against the ids themselves. Tier 2:
 * Bloom filters by event time, in `dedup_pages`. What neither rules out is "check": the sink
 * settles it in ClickHouse.
 */
export class DedupTiers {
  private readonly recent = new RecentIds();
  private readonly filters: EventTimeFilters;
  private readonly sent = new Map<number, SentRow>();
  private readonly rowOfBatch = new Map<string, number>();
  private epoch = 0;
  private lastSave = 0;

  constructor(
    private readonly sql: Sql,
    private readonly chunkIds: ChunkIds,
    memoryBudget?: number,
  ) {
    this.filters = new EventTimeFilters(new SqlPages(sql), undefined, memoryBudget);
  }

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS dedup_sent (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, pending TEXT NOT NULL, ids TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dedup_pages (key INTEGER PRIMARY KEY, slot INTEGER NOT NULL, level INTEGER NOT NULL, page INTEGER NOT NULL, capacity INTEGER NOT NULL, count INTEGER NOT NULL, bits BLOB NOT NULL);
    `);
  }

  /**
   * Rebuilds tier 1 in memory from the rows after a start: the buffered chunks' ids and the sent
   * rows'. Their ids go into the filters again, since filter pages are written only every few
   * seconds and may not hold them yet.
   */
  load(chunks: Iterable<{ seq: number; ids: IdAt[] }>, now: number): void {
    for (const c of chunks) for (const i of c.ids) this.remember(fingerprint(i.id), i.at, c.seq, now);
    for (const r of this.sql.exec<{ id: number; at: number; pending: string; ids: string }>("SELECT id, at, pending, ids FROM dedup_sent").toArray()) {
      const pending = new Set(JSON.parse(r.pending) as string[]);
      this.sent.set(r.id, { at: r.at, pending, epoch: this.epoch });
      for (const b of pending) this.rowOfBatch.set(b, r.id);
      for (const i of decodeIds(r.ids)) this.remember(fingerprint(i.id), i.at, -r.id, now);
    }
  }

  /** Ids tier 1 holds: memory taken, and when over the cap the shard takes nothing new. */
  get held(): number {
    return this.recent.size;
  }

  get full(): boolean {
    return this.recent.size >= MAX_RECENT_IDS;
  }

  /**
   * The verdict on each of a call's ids, in order. A second copy within the call is a duplicate
   * of the first. Nothing is written.
   */
  classify(ids: readonly IdAt[], now: number): Verdict[] {
    const inCall = new Set<string>();
    const rows = new Map<number, Set<string>>();
    return ids.map((i) => {
      if (inCall.has(i.id)) return "duplicate";
      inCall.add(i.id);
      const fp = fingerprint(i.id);
      if (this.isHeld(i.id, fp, rows)) return "duplicate";
      return this.filters.probe(fp, i.at, now) === "absent" ? "new" : "check";
    });
  }

  /** How many of `ids` tier 1 holds: exact, for the rate limit's already-stored ids. */
  countHeld(ids: readonly string[]): number {
    const rows = new Map<number, Set<string>>();
    let n = 0;
    for (const id of new Set(ids)) if (this.isHeld(id, fingerprint(id), rows)) n++;
    return n;
  }

  /** The ids of chunk `seq`, just stored, join tier 1 and the filters. */
  accepted(seq: number, ids: readonly IdAt[], now: number): void {
    for (const i of ids) this.remember(fingerprint(i.id), i.at, seq, now);
  }

  /** Ids answered as accepted without a row to send (capped crashes): held like sent ids, with no batch to wait for. */
  acceptedWithoutRows(ids: readonly IdAt[], now: number): void {
    if (ids.length === 0) return;
    const id = this.sql.exec<{ id: number }>("INSERT INTO dedup_sent(at, pending, ids) VALUES (?, '[]', ?) RETURNING id", now, encodeIds(ids)).one().id;
    this.sent.set(id, { at: now, pending: new Set(), epoch: this.epoch });
    for (const i of ids) this.remember(fingerprint(i.id), i.at, -id, now);
  }

  /** Sent chunks' ids move into one row, kept until `batchIds` are confirmed; call inside the flush's transaction. */
  sentChunks(chunks: ReadonlyArray<{ seq: number; ids: IdAt[] }>, batchIds: readonly string[], now: number): void {
    const ids = chunks.flatMap((c) => c.ids);
    if (ids.length === 0) return;
    const id = this.sql
      .exec<{ id: number }>("INSERT INTO dedup_sent(at, pending, ids) VALUES (?, ?, ?) RETURNING id", now, JSON.stringify(batchIds), encodeIds(ids))
      .one().id;
    this.sent.set(id, { at: now, pending: new Set(batchIds), epoch: this.epoch });
    for (const b of batchIds) this.rowOfBatch.set(b, id);
    for (const c of chunks) for (const i of c.ids) this.recent.move(fingerprint(i.id), c.seq, -id);
  }

  /** ClickHouse holds these batches: their rows no longer wait for them (one write per row changed). */
  confirmed(batchIds: readonly string[]): void {
    const changed = new Set<number>();
    for (const b of batchIds) {
      const id = this.rowOfBatch.get(b);
      const row = id === undefined ? undefined : this.sent.get(id);
      if (id === undefined || !row) continue;
      row.pending.delete(b);
      this.rowOfBatch.delete(b);
      changed.add(id);
    }
    for (const id of changed) this.sql.exec("UPDATE dedup_sent SET pending = ? WHERE id = ?", JSON.stringify([...(this.sent.get(id)?.pending ?? [])]), id);
  }

  /**
   * Writes changed filter pages (at most every few seconds, or when a confirmed row waits for
   * them) and lets go of sent rows that are confirmed and in written filters, or past the dedup
   * window. Returns the ids let go.
   */
  settle(now: number): number {
    const waiting = [...this.sent.values()].some((r) => r.pending.size === 0 && r.epoch >= this.epoch);
    if (now - this.lastSave >= SAVE_INTERVAL_MS || waiting) {
      this.filters.save();
      this.epoch++;
      this.lastSave = now;
      this.filters.expire(now);
    }
    let released = 0;
    for (const [id, row] of this.sent) {
      const done = row.pending.size === 0 && row.epoch < this.epoch;
      if (!done && now - row.at < SENT_KEEP_MS) continue;
      const text = this.sql.exec<{ ids: string }>("SELECT ids FROM dedup_sent WHERE id = ?", id).toArray()[0]?.ids;
      for (const i of decodeIds(text)) if (this.recent.remove(fingerprint(i.id), -id)) released++;
      this.sql.exec("DELETE FROM dedup_sent WHERE id = ?", id);
      for (const b of row.pending) this.rowOfBatch.delete(b);
      this.sent.delete(id);
    }
    return released;
  }

  /** True while sent rows wait for confirmations or for filter pages to be written. */
  get waiting(): boolean {
    return this.sent.size > 0;
  }

  /** Forgets everything (a retired shard). */
  clear(): void {
    this.sql.exec("DELETE FROM dedup_sent");
    this.sql.exec("DELETE FROM dedup_pages");
    this.sent.clear();
    this.rowOfBatch.clear();
  }

  /** Bytes the tiers take in memory. */
  get memoryBytes(): number {
    return this.recent.bytes + this.filters.bytes;
  }

  private remember(fp: Fingerprint, at: number | null, ref: number, now: number): void {
    this.recent.add(fp, ref);
    this.filters.add(fp, at, now);
  }

  // Whether tier 1 holds `id`: its fingerprint names the rows, whose ids settle it.
  private isHeld(id: string, fp: Fingerprint, rows: Map<number, Set<string>>): boolean {
    for (const ref of this.recent.refsOf(fp)) {
      let ids = rows.get(ref);
      if (!ids) {
        ids = new Set((ref > 0 ? (this.chunkIds(ref) ?? []) : this.sentIds(-ref)).map((i) => i.id));
        rows.set(ref, ids);
      }
      if (ids.has(id)) return true;
    }
    return false;
  }

  private sentIds(id: number): IdAt[] {
    return decodeIds(this.sql.exec<{ ids: string }>("SELECT ids FROM dedup_sent WHERE id = ?", id).toArray()[0]?.ids);
  }
}

const digits = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
};

/**
 * The client time tier 2 files an event under, from its row's `original_timestamp` (ClickHouse
 * text, `2026-11-22 12:55:00.000`): null when it equals `received_at`, which is what the edge
 * writes when the client sent no time (a resend would then differ), or when it is not that text.
 */
export function clientTimeOf(original: string, received: string): number | null {
  if (original === received || original.length !== 23 || original[10] !== " ") return null;
  const ms = Date.UTC(digits(original, 0, 4), digits(original, 5, 7) - 1, digits(original, 8, 10), digits(original, 11, 13), digits(original, 14, 16), digits(original, 17, 19), digits(original, 20, 23));
  return Number.isFinite(ms) ? ms : null;
}
