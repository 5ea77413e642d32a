import { CRASH_CAP_REASONS, isCurrentRow, LIMITS, rowsWithBatchId, sinkMessageHead, utf8Length, type CrashCapReason, type SinkMessage } from "../schemas";
import { frameMessage, packText, unpackText } from "../workers/queue/packed";
import { decodeIds, encodeIds } from "./dedup/tiers";
import { planMessages, type PlannedMessage } from "./packing";

/** An accepted event's serialized row and its UTF-8 size, as the outbox stores it. */
export interface OutgoingRow {
  row: string;
  bytes: number;
  /** Its messageId, kept in the chunk for dedup (decision record 0021). */
  id: string;
  /** The sink must settle whether the id was stored before. */
  check: boolean;
}

/** Crashes of one fingerprint that a crash cap kept out of one call. */
export interface CappedCount {
  fingerprint: string;
  reason: CrashCapReason;
  n: number;
}

/** A call's counters that ride in its chunk row until they are recorded: when it came, its rows, its duplicates, its capped crashes. */
export interface ChunkTally {
  at: number;
  accepted: number;
  deduplicated: number;
  capped: CappedCount[];
}

/** A stored chunk's sequence number and the ids of its rows. */
export interface ChunkIdList {
  seq: number;
  ids: string[];
}

// A request's rows are stored in as few chunks as fit these, a SQLite row each instead of one
// per event, and any chunk still fits a queue message on its own, with its header and the
// indices of its rows to check: packed, at most this many bytes (decision record 0037)…
export const CHUNK_MAX_PACKED_BYTES = 96_000;
// …and at most this much text (batch ids included), which is what the sink unpacks.
const CHUNK_MAX_TEXT_BYTES = LIMITS.maxQueueMessageTextBytes - 16 * 1024;

/** About how many chunk rows a call stores for rows of `textBytes` that pack to `packedBytes` (the cost benchmark's model). */
export function chunksFor(textBytes: number, packedBytes: number): number {
  return Math.max(1, Math.ceil(textBytes / CHUNK_MAX_TEXT_BYTES), Math.ceil(packedBytes / CHUNK_MAX_PACKED_BYTES));
}
// One planning step reads at most this many chunks, so a large backlog is planned in steps.
const MAX_PLAN_CHUNKS = 2_000;
const MAX_PENDING = 200;
// Rows of sent chunks kept to be written over by later calls; more, left after a backlog drained, are deleted.
const MAX_FREE_CHUNKS = 64;
// A checked row's index in a message header: up to five digits and a comma.
const CHECK_INDEX_BYTES = 6;

// The rows last: a chunk's rows (tens of KB) spill into SQLite overflow pages, which a read of a
// column stored after them walks through; planning, dedup and the counters read only the
// columns before them. `data` holds the rows packed (packChunk), a BLOB despite the column's
// type, which SQLite keeps as it is given; chunks of versions before hold them as text.
// `named` is 1 when the rows carry the chunk's own batch id (decision record 0034); chunks of
// versions before carry none.
const CHUNKS_TABLE = "(seq INTEGER PRIMARY KEY, rows INTEGER NOT NULL, bytes INTEGER NOT NULL, at INTEGER, ids TEXT, checks TEXT, tally TEXT, named INTEGER, data TEXT NOT NULL)";

/**
 * An AppBatcher's rows on their way to the queue, in its SQLite: each request's accepted rows
 * stored in a few chunks (`chunks`), planned into messages under stable batch ids before they
 * are sent (the plan is one row, `outbox_plan`, written when it changes instead of a row per
 * message), and let go only once sent, so a failed or repeated flush resends the very same
 * batches. A sent chunk's row is not deleted but written over by a later call's chunk, since a
 * delete costs a row written as the insert did: a chunk is live while its number is above the
 * plan's mark (`planned`, not in a message yet) or inside a planned message, and free otherwise.
 * Writes that belong to a request go inside the caller's transaction.
 */
export class Outbox {
  // The last sequence number given to a chunk. Chunks are numbered here rather than by
  // AUTOINCREMENT, which writes sqlite_sequence with every chunk: the plan's row keeps the
  // highest number given whenever chunks are deleted, so a number never comes back.
  private lastSeq = 0;
  // Numbers of free chunk rows, read from the rows when needed: null whenever a write may have
  // freed more, or a transaction rolled back may have taken back what was taken from it.
  private free: number[] | null = null;
  // The plan's row as last written or read: read on every send of a flush, and as long as the
  // backlog's messages. Null after a rollback (`forget`), which may have taken a write back.
  private plan_: { messages: PlannedMessage[]; mark: number } | null = null;

  // The batcher's metered SQL, so its rows are counted with the batcher's own.
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sql: SqlStorage = storage.sql,
  ) {}

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS chunks ${CHUNKS_TABLE};
      CREATE TABLE IF NOT EXISTS outbox_plan (id INTEGER PRIMARY KEY CHECK (id = 1), plan TEXT NOT NULL, upto INTEGER NOT NULL, planned INTEGER);
    `);
    // The highest chunk number ever planned into a message: versions before kept no free rows, so
    // null reads as the plan's own last number.
    if (!this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('outbox_plan')").toArray().some((c) => c.name === "planned")) {
      this.sql.exec("ALTER TABLE outbox_plan ADD COLUMN planned INTEGER");
    }
    // Older versions planned a row per message in `outbox`: those messages become the plan.
    if (this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").one().n > 0) {
      this.storage.transactionSync(() => {
        const older = this.sql
          .exec<{ batch_id: string; first_seq: number; last_seq: number; rows: number; bytes: number }>("SELECT batch_id, first_seq, last_seq, rows, bytes FROM outbox ORDER BY first_seq")
          .toArray()
          .map((r) => ({ batchId: r.batch_id, firstSeq: r.first_seq, lastSeq: r.last_seq, rows: r.rows, bytes: r.bytes }));
        this.write([...this.plannedMessages(), ...older]);
        this.sql.exec("DROP TABLE outbox");
      });
    }
    // Chunks stored before they carried their time count as stored now, so they can go stale.
    const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('chunks')").toArray();
    if (!columns.some((c) => c.name === "at")) this.sql.exec("ALTER TABLE chunks ADD COLUMN at INTEGER");
    // A chunk keeps its rows' ids (dedup's tier 1) and which rows the sink must check.
    if (!columns.some((c) => c.name === "ids")) this.sql.exec("ALTER TABLE chunks ADD COLUMN ids TEXT");
    if (!columns.some((c) => c.name === "checks")) this.sql.exec("ALTER TABLE chunks ADD COLUMN checks TEXT");
    // A call's counters (`[accepted, deduplicated]`) until they are recorded; null once they are,
    // and in chunks of versions that recorded them with the call.
    if (!columns.some((c) => c.name === "tally")) this.sql.exec("ALTER TABLE chunks ADD COLUMN tally TEXT");
    if (!columns.some((c) => c.name === "named")) this.sql.exec("ALTER TABLE chunks ADD COLUMN named INTEGER");
    // Objects created before rows were chunked kept one row per event in `buffer`: each becomes
    // a chunk of one under the same sequence number, so planned outbox ranges stay valid.
    const legacy = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'buffer'").one().n;
    if (legacy > 0) {
      this.storage.transactionSync(() => {
        this.sql.exec("INSERT INTO chunks(seq, rows, bytes, data) SELECT seq, 1, bytes, row FROM buffer");
        this.sql.exec("DROP TABLE buffer");
      });
    }
    this.sql.exec("UPDATE chunks SET at = ? WHERE at IS NULL", Date.now());
    // Older versions numbered chunks by AUTOINCREMENT, and kept the rows before the small
    // columns: the table is built again, numbering going on from the highest number it gave.
    const table = this.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'chunks'").one().sql;
    const autoincrement = /AUTOINCREMENT/i.test(table);
    const order = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('chunks') ORDER BY cid").toArray();
    if (autoincrement || order[order.length - 1]?.name !== "data") {
      this.storage.transactionSync(() => {
        const given = autoincrement ? (this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").toArray()[0]?.seq ?? 0) : 0;
        this.sql.exec(`
          CREATE TABLE chunks_next ${CHUNKS_TABLE};
          INSERT INTO chunks_next(seq, rows, bytes, at, ids, checks, tally, named, data) SELECT seq, rows, bytes, at, ids, checks, tally, named, data FROM chunks;
          DROP TABLE chunks;
          ALTER TABLE chunks_next RENAME TO chunks;
        `);
        this.lastSeq = Math.max(this.lastSeq, given);
        if (autoincrement) this.write(this.plannedMessages());
      });
    }
    const highest = this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM chunks").one().s ?? 0;
    const upto = this.sql.exec<{ upto: number }>("SELECT upto FROM outbox_plan WHERE id = 1").toArray()[0]?.upto ?? 0;
    this.lastSeq = Math.max(this.lastSeq, highest, upto);
  }

  /**
   * Stores rows, in order, as received at `now`, each chunk's rows carrying its batch id
   * (`${name}:${seq}`, the id `plan(name)` gives a message that starts with it): returns their
   * bytes as stored (separators included), which is what `drop` gives back once they are sent,
   * and each chunk's ids (with `alsoHeld` in the first, when there is one). Each chunk counts
   * its rows as accepted, and the first the call's `duplicates` and `capped` crashes, until
   * `drop` or `takeTallies` hands the counts on. With no rows there is no chunk, and the caller
   * records the counts itself.
   */
  store(name: string, rows: readonly OutgoingRow[], now: number, alsoHeld: readonly string[] = [], duplicates = 0, capped: readonly CappedCount[] = []): { bytes: number; chunks: ChunkIdList[] } {
    let stored = 0;
    const chunks: ChunkIdList[] = [];
    // Ids accepted without a row (capped crashes) ride in the call's first chunk, and leave with it.
    let extra = alsoHeld;
    const write = (chunk: readonly OutgoingRow[]): void => {
      const seq = this.lastSeq + 1;
      const packed = packChunk(chunk, `${name}:${seq}`);
      // Rows that pack poorly are parted, by what they packed to, until each part fits: the
      // sizes are known only packed.
      if (packed.data.byteLength > CHUNK_MAX_PACKED_BYTES && chunk.length > 1) {
        const parts = Math.min(chunk.length, Math.ceil((packed.data.byteLength * 1.1) / CHUNK_MAX_PACKED_BYTES));
        const size = Math.ceil(chunk.length / parts);
        for (let at = 0; at < chunk.length; at += size) write(chunk.slice(at, at + size));
        return;
      }
      this.lastSeq = seq;
      const ids = [...chunk.map((r) => r.id), ...extra];
      extra = [];
      const first = chunks.length === 0;
      const tally = JSON.stringify(first && capped.length > 0 ? [chunk.length, duplicates, capped.map((c) => [c.fingerprint, c.reason, c.n])] : [chunk.length, first ? duplicates : 0]);
      const checks = chunk.flatMap((r, i) => (r.check ? [i] : []));
      const values = [chunk.length, packed.bytes, packed.data, now, encodeIds(ids), checks.length > 0 ? JSON.stringify(checks) : null, tally];
      const free = this.freeRows().pop();
      if (free === undefined) this.sql.exec("INSERT INTO chunks(seq, rows, bytes, data, at, ids, checks, tally, named) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)", seq, ...values);
      else this.sql.exec("UPDATE chunks SET seq = ?, rows = ?, bytes = ?, data = ?, at = ?, ids = ?, checks = ?, tally = ?, named = 1 WHERE seq = ?", seq, ...values, free);
      chunks.push({ seq, ids });
      stored += packed.bytes;
    };
    // What a batch id adds to each row: the longest the call's chunks can have.
    const grows = idBytes(`${name}:${this.lastSeq + rows.length + 1}`);
    let chunk: OutgoingRow[] = [];
    let chunkBytes = 0;
    for (const r of rows) {
      if (chunk.length > 0 && chunkBytes + r.bytes + grows + 1 > CHUNK_MAX_TEXT_BYTES) {
        write(chunk);
        chunk = [];
        chunkBytes = 0;
      }
      chunk.push(r);
      chunkBytes += r.bytes + grows + (chunk.length > 1 ? 1 : 0);
    }
    if (chunk.length > 0) write(chunk);
    return { bytes: stored, chunks };
  }

  /** The ids of chunk `seq`; null when no such chunk is held. */
  chunkIds(seq: number): string[] | null {
    const row = this.sql.exec<{ ids: string | null }>("SELECT ids FROM chunks WHERE seq = ?", seq).toArray()[0];
    return row ? decodeIds(row.ids) : null;
  }

  /** Every held chunk's ids, to rebuild dedup's memory after a start. */
  allIds(): ChunkIdList[] {
    const live = this.liveness();
    return this.sql
      .exec<{ seq: number; ids: string | null }>("SELECT seq, ids FROM chunks")
      .toArray()
      .filter((r) => live(r.seq))
      .map((r) => ({ seq: r.seq, ids: decodeIds(r.ids) }));
  }

  /** Rows held and their bytes as stored, planned or not. */
  backlog(): { rows: number; bytes: number } {
    const live = this.liveness();
    let rows = 0;
    let bytes = 0;
    for (const c of this.sql.exec<{ seq: number; rows: number; bytes: number }>("SELECT seq, rows, bytes FROM chunks")) {
      if (!live(c.seq)) continue;
      rows += c.rows;
      bytes += c.bytes;
    }
    return { rows, bytes };
  }

  /** When the oldest row held was stored (epoch ms); null when nothing is held. */
  oldestAt(): number | null {
    // A planned message's chunks are older than any chunk not planned yet.
    const first = this.plannedMessages()[0];
    if (first) return this.sql.exec<{ at: number | null }>("SELECT at FROM chunks WHERE seq = ?", first.firstSeq).toArray()[0]?.at ?? null;
    return this.sql.exec<{ at: number | null }>("SELECT at FROM chunks WHERE seq > ? ORDER BY seq LIMIT 1", this.plannedMark()).toArray()[0]?.at ?? null;
  }

  /** How many planned messages wait to be sent. */
  pendingCount(): number {
    return this.plannedMessages().length;
  }

  /** The first planned messages not yet sent, in the order their rows were stored. */
  pending(): PlannedMessage[] {
    return this.plannedMessages().slice(0, MAX_PENDING);
  }

  /** Plans the next rows not in a message yet into messages whose batch ids start with `name`. */
  plan(name: string): void {
    // Messages already planned (refused in this flush, say) stay as they are: only the rows after them.
    const before = this.plannedMessages();
    const chunks = this.sql
      .exec<{ seq: number; rows: number; bytes: number; text: number }>(
        // A message is sized as sent: its chunks packed (decision record 0037). A chunk of a
        // version before is packed again with its batch id when sent, or was stored as text:
        // its text's size bounds it. A row marked for the sink to check adds its index to the
        // message's header, and each chunk its batch id: room for them in both sizes.
        `SELECT seq, rows, (CASE WHEN named = 1 AND typeof(data) = 'blob' THEN length(data) ELSE bytes END) + ${CHECK_INDEX_BYTES} * coalesce(json_array_length(checks), 0) + ?1 AS bytes,
                bytes + ${CHECK_INDEX_BYTES} * coalesce(json_array_length(checks), 0) + ?1 AS text
         FROM chunks WHERE seq > ?2 ORDER BY seq LIMIT ?3`,
        idBytes(`${name}:${Number.MAX_SAFE_INTEGER}`) + 3,
        this.plannedMark(),
        MAX_PLAN_CHUNKS,
      )
      .toArray();
    const planned = planMessages(chunks, name, LIMITS.maxQueueMessageBytes, LIMITS.maxQueueMessageTextBytes);
    if (planned.length > 0) this.write([...before, ...planned]);
  }

  /**
   * A planned message's queue body: its header in plain text (the rows the sink must check,
   * the chunks' batch ids, where it came from) and its chunks' members as stored, end to end
   * (decision record 0034); and the size of its text.
   */
  encode(m: PlannedMessage, appId: string, from: Pick<SinkMessage, "shard" | "eu">): { packed: Uint8Array; bytes: number } {
    const chunks = this.sql
      .exec<{ seq: number; data: ArrayBuffer | string; rows: number; bytes: number; checks: string | null; named: number | null }>(
        "SELECT seq, data, rows, bytes, checks, named FROM chunks WHERE seq BETWEEN ? AND ? ORDER BY seq",
        m.firstSeq,
        m.lastSeq,
      )
      .toArray();
    // The message's batch id is its first chunk's: the chunks' ids share its prefix.
    const prefix = m.batchId.slice(0, m.batchId.lastIndexOf(":"));
    const check: number[] = [];
    const ids: string[] = [];
    const members: Uint8Array[] = [];
    let offset = 0;
    let rowBytes = 0;
    for (const c of chunks) {
      if (c.checks) for (const i of JSON.parse(c.checks) as number[]) check.push(offset + i);
      offset += c.rows;
      // Counted as planned: a chunk of a version before grows by its batch id only here.
      rowBytes += 1 + c.bytes;
      const id = `${prefix}:${c.seq}`;
      ids.push(id);
      members.push(c.named === 1 && typeof c.data !== "string" ? new Uint8Array(c.data) : namedChunk(c.data, id));
    }
    const head = sinkMessageHead(m.batchId, appId, { ...from, check, chunks: ids, count: offset });
    return { packed: frameMessage(head, members), bytes: utf8Length(head) + rowBytes };
  }

  /**
   * Lets sent (or dead-lettered) messages and their rows go, with one write of the plan (the
   * rows are free to be written over); returns the rows' bytes as stored, which the backlog counts (a planned message's size also
   * counts the newlines between its chunks), the counters they carried still unrecorded, and
   * their chunks' ids, which dedup keeps until ClickHouse confirms them.
   */
  drop(messages: readonly PlannedMessage[]): { bytes: number; tallies: ChunkTally[]; chunks: ChunkIdList[] } {
    let bytes = 0;
    const tallies: ChunkTally[] = [];
    const chunks: ChunkIdList[] = [];
    for (const m of messages) {
      for (const c of this.sql.exec<{ seq: number; at: number | null; bytes: number; ids: string | null; tally: string | null }>(
        "SELECT seq, at, bytes, ids, tally FROM chunks WHERE seq BETWEEN ? AND ?",
        m.firstSeq,
        m.lastSeq,
      )) {
        bytes += c.bytes;
        chunks.push({ seq: c.seq, ids: decodeIds(c.ids) });
        const tally = readTally(c.at, c.tally);
        if (tally) tallies.push(tally);
      }
    }
    const gone = new Set(messages.map((m) => m.batchId));
    this.write(this.plannedMessages().filter((m) => !gone.has(m.batchId)));
    this.free = null;
    // Free rows beyond what the next calls will take (after a backlog drained) are deleted, in
    // this transaction: a rollback takes the deletes back with the plan.
    const spare = this.freeRows().slice(0, -MAX_FREE_CHUNKS);
    if (spare.length > 0) this.sql.exec("DELETE FROM chunks WHERE seq IN (SELECT value FROM json_each(?))", JSON.stringify(spare));
    this.free = null;
    return { bytes, tallies, chunks };
  }

  /**
   * The counters of chunks still held, marked recorded: counters leave on time even while rows
   * cannot (a row written per chunk, only for chunks held past a shipment).
   */
  takeTallies(): ChunkTally[] {
    const tallies: ChunkTally[] = [];
    const taken: number[] = [];
    const live = this.liveness();
    // A free row keeps the counters `drop` handed on: they are not taken again.
    for (const c of this.sql.exec<{ seq: number; at: number | null; tally: string | null }>("SELECT seq, at, tally FROM chunks WHERE tally IS NOT NULL")) {
      if (!live(c.seq)) continue;
      const tally = readTally(c.at, c.tally);
      if (tally) tallies.push(tally);
      taken.push(c.seq);
    }
    if (taken.length > 0) this.sql.exec("UPDATE chunks SET tally = NULL WHERE seq IN (SELECT value FROM json_each(?))", JSON.stringify(taken));
    return tallies;
  }

  /** Drops everything held, sent or not. */
  clear(): void {
    this.sql.exec("DELETE FROM chunks");
    this.write([]);
    this.free = null;
  }

  // Whether chunk `seq` is held: not planned yet, or in a planned message.
  private liveness(): (seq: number) => boolean {
    const plan = this.plannedMessages();
    const mark = this.plannedMark();
    return (seq) => {
      if (seq > mark) return true;
      // The plan is in chunk order: the last message starting at or before `seq` is the only one that can hold it.
      let lo = 0;
      let hi = plan.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const m = plan[mid];
        if (!m) break;
        if (seq < m.firstSeq) hi = mid - 1;
        else if (seq > m.lastSeq) lo = mid + 1;
        else return true;
      }
      return false;
    };
  }

  // The free chunk rows, oldest last taken: read from the rows when not known.
  private freeRows(): number[] {
    if (this.free) return this.free;
    const live = this.liveness();
    this.free = this.sql
      .exec<{ seq: number }>("SELECT seq FROM chunks WHERE seq <= ? ORDER BY seq DESC", this.plannedMark())
      .toArray()
      .map((r) => r.seq)
      .filter((seq) => !live(seq));
    return this.free;
  }

  // The highest chunk number planned into a message so far.
  private plannedMark(): number {
    return this.planRow().mark;
  }

  private plannedMessages(): PlannedMessage[] {
    return this.planRow().messages;
  }

  private planRow(): { messages: PlannedMessage[]; mark: number } {
    if (this.plan_) return this.plan_;
    const row = this.sql.exec<{ planned: number | null; plan: string }>("SELECT planned, plan FROM outbox_plan WHERE id = 1").toArray()[0];
    const messages = row ? (JSON.parse(row.plan) as PlannedMessage[]) : [];
    // Versions before kept no mark: the plan's own last number.
    this.plan_ = { messages, mark: row?.planned ?? messages[messages.length - 1]?.lastSeq ?? 0 };
    return this.plan_;
  }

  /** Forgets what it knows of its rows: a transaction around its writes was rolled back. */
  forget(): void {
    this.plan_ = null;
    this.free = null;
  }

  // With the plan go the highest chunk number given (a number leaves the rows only with a write
  // of the plan, or when a row is written over under a higher one, so none below it is given
  // again after a restart) and the highest ever planned, which the plan, in chunk order, may raise.
  private write(plan: readonly PlannedMessage[]): void {
    const planned = Math.max(this.plannedMark(), plan[plan.length - 1]?.lastSeq ?? 0);
    this.sql.exec(
      "INSERT INTO outbox_plan(id, plan, upto, planned) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET plan = excluded.plan, upto = excluded.upto, planned = excluded.planned",
      JSON.stringify(plan),
      this.lastSeq,
      planned,
    );
    this.plan_ = { messages: [...plan], mark: planned };
  }
}

// A chunk's rows, carrying batch id `id`, as one gzip member of their text, led by a newline
// that parts them from the header or the chunk before them in a message (decision records 0033
// and 0034): SQLite writes a fraction of the pages, and neither a flush nor the sink packs or
// unpacks them again. `bytes` is their text's size when every row is in the current form.
function packChunk(rows: readonly OutgoingRow[], id: string): { data: ArrayBuffer; bytes: number } {
  const lines = rows.map((r) => r.row);
  const text = rowsWithBatchId(lines, id);
  // A copy of its own: zlib's result may be a view into a larger buffer, which SQLite would store whole.
  return { data: packText(`\n${text}`).slice().buffer, bytes: lines.every(isCurrentRow) ? textBytes(rows, idBytes(id)) : utf8Length(text) };
}

// The UTF-8 size of current rows' text once each carries a batch id adding `grows` bytes, newlines between them.
function textBytes(rows: readonly OutgoingRow[], grows: number): number {
  let n = Math.max(0, rows.length - 1);
  for (const r of rows) n += r.bytes + grows;
  return n;
}

// A chunk of a version before, whose rows carry no batch id (text, or packed), as a member whose rows carry `id`.
function namedChunk(data: ArrayBuffer | string, id: string): Uint8Array {
  const text = typeof data === "string" ? data : unpackText(new Uint8Array(data));
  return packText(`\n${rowsWithBatchId(text.split("\n").filter((r) => r.length > 0), id)}`);
}

// The bytes batch id `id` adds to a row that carries none.
function idBytes(id: string): number {
  return utf8Length(JSON.stringify(id)) - 2;
}

function readTally(at: number | null, text: string | null): ChunkTally | null {
  if (!text) return null;
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return null;
  const [accepted, deduplicated, capped] = parsed as unknown[];
  return {
    at: at ?? Date.now(),
    accepted: typeof accepted === "number" ? accepted : 0,
    deduplicated: typeof deduplicated === "number" ? deduplicated : 0,
    capped: Array.isArray(capped) ? capped.flatMap(readCapped) : [],
  };
}

function readCapped(entry: unknown): CappedCount[] {
  if (!Array.isArray(entry)) return [];
  const [fingerprint, reason, n] = entry as unknown[];
  const cap = CRASH_CAP_REASONS.find((r) => r === reason);
  return typeof fingerprint === "string" && cap !== undefined && typeof n === "number" ? [{ fingerprint, reason: cap, n }] : [];
}
