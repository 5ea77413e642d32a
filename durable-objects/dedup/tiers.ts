import { ArrivalFilters, LEGACY_BITS_PER_ID, type BlockAt, type Level, type PageStore } from "./bloom";
import { fingerprint, type Fingerprint } from "./fingerprint";
import { RecentIds } from "./recent-ids";

/** What the tiers say of an incoming id: stored before, surely new, or to be settled in ClickHouse. */
export type Verdict = "duplicate" | "new" | "check";

type Sql = Pick<SqlStorage, "exec">;

/** The ids of a buffered chunk, by its sequence number; null when there is no such chunk. */
export type ChunkIds = (seq: number) => string[] | null;

// Sent ids whose batches ClickHouse never confirmed (dead-lettered by the sink) are let go once
// the dedup window has passed for them.
const SENT_KEEP_MS = 25 * 3_600_000;
// Tier 1 in memory takes 12 bytes an id at most 0.7 full: about 50 MB at this many ids, reached
// only when ClickHouse has not confirmed inserts for a while. Beyond it the shard answers `full`.
export const MAX_RECENT_IDS = 2_000_000;
// Confirmed ids move to the filters in bulk, rewriting each page they touch once: when this many
// wait, or when the oldest has waited `mergeAfterMs`.
const MERGE_IDS = 1_000_000;
// The sink may confirm a batch while the queue's answer to its send has not come back, before
// its ids are in a sent row: such confirmations wait this long for their row (in memory; a
// restart in between leaves the row to the dedup window).
const EARLY_KEEP_MS = 10 * 60_000;
const MAX_EARLY = 100_000;

export interface TierOptions {
  /** How long confirmed ids may wait in tier 1 before they move to the filters. */
  mergeAfterMs: number;
  /** Bytes of filter pages kept in memory. */
  memoryBudget?: number;
}

/** Ids as a chunk or sent row keeps them: JSON, which keeps any id exactly, lone surrogates included. */
export const encodeIds = (ids: readonly string[]): string => JSON.stringify(ids);

/** Reads `encodeIds` text; anything else (a row written before ids were kept) holds none. */
export function decodeIds(text: string | null | undefined): string[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    const out: string[] = [];
    for (const p of parsed) {
      if (typeof p === "string") out.push(p);
      else if (Array.isArray(p) && typeof p[0] === "string") out.push(p[0]);
    }
    return out;
  } catch {
    return [];
  }
}

/** The `dedup_filters` key of a filter page: a level's pages are one range, a partition's levels too. */
export const filterPageKey = (part: number, level: number, page: number): number => (part * 64 + level) * 65_536 + page;

/** The filters' pages and levels in the batcher's SQLite: a row per 64 KB page. */
class SqlPages implements PageStore {
  constructor(private readonly sql: Sql) {}

  levels(): Level[] {
    return this.sql
      .exec<{ part: number; level: number; capacity: number; count: number; bits: number | null }>("SELECT part, level, capacity, count, bits FROM dedup_levels")
      .toArray()
      .map((l) => ({ ...l, bits: l.bits ?? LEGACY_BITS_PER_ID }));
  }

  page(part: number, level: number, page: number): Uint8Array | null {
    const row = this.sql.exec<{ bits: ArrayBuffer }>("SELECT bits FROM dedup_filters WHERE key = ?", filterPageKey(part, level, page)).toArray()[0];
    return row ? new Uint8Array(row.bits) : null;
  }

  blocks(at: readonly BlockAt[]): Array<Uint8Array | null> {
    const out: Array<Uint8Array | null> = at.map(() => null);
    // One statement for a call's lookups: only the 64 bytes asked for leave each page.
    const asks = JSON.stringify(at.map((b) => [filterPageKey(b.part, b.level, b.page), b.offset + 1]));
    const rows = this.sql.exec<{ i: number; b: ArrayBuffer | null }>(
      "SELECT j.key AS i, substr(f.bits, json_extract(j.value, '$[1]'), 64) AS b FROM json_each(?) AS j JOIN dedup_filters AS f ON f.key = json_extract(j.value, '$[0]')",
      asks,
    );
    for (const r of rows) if (r.b) out[r.i] = new Uint8Array(r.b);
    return out;
  }

  write(levels: readonly Level[], pages: ReadonlyArray<{ part: number; level: number; page: number; bits: Uint8Array }>): void {
    for (const l of levels) {
      this.sql.exec("INSERT INTO dedup_levels(part, level, capacity, count, bits) VALUES (?, ?, ?, ?, ?) ON CONFLICT(part, level) DO UPDATE SET count = excluded.count", l.part, l.level, l.capacity, l.count, l.bits);
    }
    for (const p of pages) {
      this.sql.exec("INSERT INTO dedup_filters(key, bits) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET bits = excluded.bits", filterPageKey(p.part, p.level, p.page), p.bits.slice().buffer);
    }
  }

  dropBefore(part: number): void {
    this.sql.exec("DELETE FROM dedup_filters WHERE key < ?", filterPageKey(part, 0, 0));
    this.sql.exec("DELETE FROM dedup_levels WHERE part < ?", part);
  }
}

/** A row of ids whose chunks were sent, with the batches ClickHouse has not confirmed yet. */
interface SentRow {
  at: number;
  pending: Set<string>;
  /** How many ids it holds. */
  size: number;
  /** When its last batch was confirmed; null while some are not. */
  confirmedAt: number | null;
}

/**
 * The AppBatcher's answer to "was this id stored before?" (decision record 0021), without a
 * SQLite row per id. Tier 1: the ids of buffered chunks (in their rows) and of sent chunks (one
 * `dedup_sent` row per flush) until ClickHouse confirmed their batches and they moved to tier 2,
 * found through their fingerprints in memory and settled against the ids themselves. Tier 2:
 * Bloom filters by the time ids were added, in `dedup_filters`. What neither rules out is
 * "check": the sink settles it in ClickHouse.
 */
export class DedupTiers {
  private readonly recent = new RecentIds();
  private readonly filters: ArrivalFilters;
  private readonly sent = new Map<number, SentRow>();
  private readonly rowOfBatch = new Map<string, number>();
  private readonly early = new Map<string, number>();

  constructor(
    private readonly sql: Sql,
    private readonly chunkIds: ChunkIds,
    private readonly options: TierOptions,
  ) {
    this.filters = new ArrivalFilters(new SqlPages(sql), undefined, options.memoryBudget);
  }

  migrate(): void {
    // No AUTOINCREMENT (a write to sqlite_sequence per row): an id may come back once its row is
    // gone, when nothing in memory refers to it any more.
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS dedup_sent (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, pending TEXT NOT NULL, ids TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dedup_levels (part INTEGER NOT NULL, level INTEGER NOT NULL, capacity INTEGER NOT NULL, count INTEGER NOT NULL, bits INTEGER, PRIMARY KEY (part, level));
      CREATE TABLE IF NOT EXISTS dedup_filters (key INTEGER PRIMARY KEY, bits BLOB NOT NULL);
    `);
    // A level's bits per id: levels written before it was kept were sized at ten (null).
    if (!this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('dedup_levels')").toArray().some((c) => c.name === "bits")) {
      this.sql.exec("ALTER TABLE dedup_levels ADD COLUMN bits INTEGER");
    }
  }

  /** Rebuilds tier 1 in memory from the rows after a start: the buffered chunks' ids and the sent rows'. */
  load(chunks: Iterable<{ seq: number; ids: string[] }>, now: number): void {
    this.filters.load();
    for (const c of chunks) for (const id of c.ids) this.recent.add(fingerprint(id), c.seq);
    for (const r of this.sql.exec<{ id: number; at: number; pending: string; ids: string }>("SELECT id, at, pending, ids FROM dedup_sent").toArray()) {
      const pending = new Set(JSON.parse(r.pending) as string[]);
      const ids = decodeIds(r.ids);
      this.sent.set(r.id, { at: r.at, pending, size: ids.length, confirmedAt: pending.size === 0 ? now : null });
      for (const b of pending) this.rowOfBatch.set(b, r.id);
      for (const id of ids) this.recent.add(fingerprint(id), -r.id);
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
  classify(ids: readonly string[], now: number): Verdict[] {
    const inCall = new Set<string>();
    const rows = new Map<number, Set<string>>();
    const verdicts: Verdict[] = [];
    const unknown: number[] = [];
    const fps: Fingerprint[] = [];
    for (const [i, id] of ids.entries()) {
      if (inCall.has(id)) {
        verdicts.push("duplicate");
        continue;
      }
      inCall.add(id);
      const fp = fingerprint(id);
      if (this.isHeld(id, fp, rows)) {
        verdicts.push("duplicate");
        continue;
      }
      verdicts.push("new");
      unknown.push(i);
      fps.push(fp);
    }
    const maybe = this.filters.probe(fps, now);
    for (const [k, i] of unknown.entries()) if (maybe[k]) verdicts[i] = "check";
    return verdicts;
  }

  /** How many of `ids` tier 1 holds: exact, for the rate limit's already-stored ids. */
  countHeld(ids: readonly string[]): number {
    const rows = new Map<number, Set<string>>();
    let n = 0;
    for (const id of new Set(ids)) if (this.isHeld(id, fingerprint(id), rows)) n++;
    return n;
  }

  /** The ids of chunk `seq`, just stored, join tier 1. */
  accepted(seq: number, ids: readonly string[]): void {
    for (const id of ids) this.recent.add(fingerprint(id), seq);
  }

  /** Ids answered as accepted without a row to send (capped crashes): held like sent ids, with no batch to wait for. */
  acceptedWithoutRows(ids: readonly string[], now: number): void {
    if (ids.length === 0) return;
    const id = this.sql.exec<{ id: number }>("INSERT INTO dedup_sent(at, pending, ids) VALUES (?, '[]', ?) RETURNING id", now, encodeIds(ids)).one().id;
    this.sent.set(id, { at: now, pending: new Set(), size: ids.length, confirmedAt: now });
    for (const i of ids) this.recent.add(fingerprint(i), -id);
  }

  /** Sent chunks' ids move into one row, kept until `batchIds` are confirmed; call inside the flush's transaction. */
  sentChunks(chunks: ReadonlyArray<{ seq: number; ids: string[] }>, batchIds: readonly string[], now: number): void {
    const ids = chunks.flatMap((c) => c.ids);
    if (ids.length === 0) return;
    const pending = batchIds.filter((b) => !this.early.delete(b));
    const id = this.sql
      .exec<{ id: number }>("INSERT INTO dedup_sent(at, pending, ids) VALUES (?, ?, ?) RETURNING id", now, JSON.stringify(pending), encodeIds(ids))
      .one().id;
    this.sent.set(id, { at: now, pending: new Set(pending), size: ids.length, confirmedAt: pending.length === 0 ? now : null });
    for (const b of pending) this.rowOfBatch.set(b, id);
    for (const c of chunks) for (const i of c.ids) this.recent.move(fingerprint(i), c.seq, -id);
  }

  /** ClickHouse holds these batches: their rows no longer wait for them (one write per row changed). */
  confirmed(batchIds: readonly string[], now: number): void {
    const changed = new Set<number>();
    for (const b of batchIds) {
      const id = this.rowOfBatch.get(b);
      const row = id === undefined ? undefined : this.sent.get(id);
      if (id === undefined || !row) {
        if (this.early.size < MAX_EARLY) this.early.set(b, now);
        continue;
      }
      row.pending.delete(b);
      if (row.pending.size === 0) row.confirmedAt = now;
      this.rowOfBatch.delete(b);
      changed.add(id);
    }
    for (const id of changed) this.sql.exec("UPDATE dedup_sent SET pending = ? WHERE id = ?", JSON.stringify([...(this.sent.get(id)?.pending ?? [])]), id);
  }

  /**
   * Moves confirmed ids to the filters, in one go once enough wait or the oldest has waited long
   * enough, and lets go of sent rows past the dedup window that were never confirmed. Returns
   * the ids tier 1 let go. Call inside a transaction: the filters' pages and the rows they
   * replace change together.
   */
  settle(now: number): number {
    this.filters.expire(now);
    for (const [b, at] of this.early) {
      // Oldest first, as they were added.
      if (now - at < EARLY_KEEP_MS) break;
      this.early.delete(b);
    }
    let waiting = 0;
    let oldest = Infinity;
    for (const row of this.sent.values()) {
      if (row.confirmedAt === null) continue;
      waiting += row.size;
      oldest = Math.min(oldest, row.confirmedAt);
    }
    const merge = waiting > 0 && (waiting >= MERGE_IDS || now - oldest >= this.options.mergeAfterMs);
    const fps: Fingerprint[] = [];
    let released = 0;
    for (const [id, row] of this.sent) {
      const done = merge && row.confirmedAt !== null;
      if (!done && now - row.at < SENT_KEEP_MS) continue;
      for (const i of this.sentIds(id)) {
        const fp = fingerprint(i);
        if (this.recent.remove(fp, -id)) released++;
        // Past the window without a confirmation, its ids need no filter.
        if (done) fps.push(fp);
      }
      this.sql.exec("DELETE FROM dedup_sent WHERE id = ?", id);
      for (const b of row.pending) this.rowOfBatch.delete(b);
      this.sent.delete(id);
    }
    this.filters.add(fps, now);
    return released;
  }

  /** When `settle` next has something to do; null when tier 1 holds no sent ids. */
  dueAt(): number | null {
    let due = Infinity;
    for (const row of this.sent.values()) due = Math.min(due, row.confirmedAt === null ? row.at + SENT_KEEP_MS : row.confirmedAt + this.options.mergeAfterMs);
    return Number.isFinite(due) ? due : null;
  }

  /** Forgets everything (a retired shard). */
  clear(): void {
    this.sql.exec("DELETE FROM dedup_sent");
    this.sql.exec("DELETE FROM dedup_filters");
    this.sql.exec("DELETE FROM dedup_levels");
    this.filters.load();
    this.sent.clear();
    this.rowOfBatch.clear();
    this.early.clear();
  }

  /** Bytes the tiers take in memory, and the ids and bytes of the filters in SQLite. */
  get usage(): { memoryBytes: number; filterIds: number; filterBytes: number } {
    const { ids, bytes } = this.filters.size;
    return { memoryBytes: this.recent.bytes + this.filters.bytes, filterIds: ids, filterBytes: bytes };
  }

  // Whether tier 1 holds `id`: its fingerprint names the rows, whose ids settle it.
  private isHeld(id: string, fp: Fingerprint, rows: Map<number, Set<string>>): boolean {
    for (const ref of this.recent.refsOf(fp)) {
      let ids = rows.get(ref);
      if (!ids) {
        ids = new Set(ref > 0 ? (this.chunkIds(ref) ?? []) : this.sentIds(-ref));
        rows.set(ref, ids);
      }
      if (ids.has(id)) return true;
    }
    return false;
  }

  private sentIds(id: number): string[] {
    return decodeIds(this.sql.exec<{ ids: string }>("SELECT ids FROM dedup_sent WHERE id = ?", id).toArray()[0]?.ids);
  }
}
