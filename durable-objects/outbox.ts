import { encodeSinkMessage, LIMITS, type SinkMessage } from "../schemas";
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

/** A stored chunk's sequence number and the ids of its rows. */
export interface ChunkIdList {
  seq: number;
  ids: string[];
}

// Rows are stored in chunks of at most this many bytes: a few SQLite rows per request instead
// of one per event, and any chunk still fits a queue message on its own.
const CHUNK_MAX_BYTES = 48 * 1024;
// One planning step reads at most this many chunks, so a large backlog is planned in steps.
const MAX_PLAN_CHUNKS = 2_000;
const MAX_PENDING = 200;
// A checked row's index in a message header: up to five digits and a comma.
const CHECK_INDEX_BYTES = 6;

/**
 * An AppBatcher's rows on their way to the queue, in its SQLite: each request's accepted rows
 * stored in a few chunks (`chunks`), planned into messages under stable batch ids (`outbox`)
 * before they are sent, and dropped only once sent, so a failed or repeated flush resends the
 * very same batches. Writes that belong to a request go inside the caller's transaction.
 */
export class Outbox {
  // The batcher's metered SQL, so its rows are counted with the batcher's own.
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sql: SqlStorage = storage.sql,
  ) {}

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, rows INTEGER NOT NULL, bytes INTEGER NOT NULL, data TEXT NOT NULL, at INTEGER);
      CREATE TABLE IF NOT EXISTS outbox (batch_id TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL);
    `);
    // Chunks stored before they carried their time count as stored now, so they can go stale.
    const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('chunks')").toArray();
    if (!columns.some((c) => c.name === "at")) this.sql.exec("ALTER TABLE chunks ADD COLUMN at INTEGER");
    // A chunk keeps its rows' ids (dedup's tier 1) and which rows the sink must check.
    if (!columns.some((c) => c.name === "ids")) this.sql.exec("ALTER TABLE chunks ADD COLUMN ids TEXT");
    if (!columns.some((c) => c.name === "checks")) this.sql.exec("ALTER TABLE chunks ADD COLUMN checks TEXT");
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
  }

  /**
   * Stores rows, in order, as received at `now`: returns their bytes as stored (separators
   * included), which is what `drop` gives back once they are sent, and each chunk's ids (with
   * `alsoHeld` in the first, when there is one).
   */
  store(rows: readonly OutgoingRow[], now: number, alsoHeld: readonly string[] = []): { bytes: number; chunks: ChunkIdList[] } {
    let stored = 0;
    const chunks: ChunkIdList[] = [];
    let chunk: OutgoingRow[] = [];
    let chunkBytes = 0;
    // Ids accepted without a row (capped crashes) ride in the call's first chunk, and leave with it.
    let extra = alsoHeld;
    const write = (): void => {
      if (chunk.length === 0) return;
      const ids = [...chunk.map((r) => r.id), ...extra];
      extra = [];
      const checks = chunk.flatMap((r, i) => (r.check ? [i] : []));
      const { seq } = this.sql
        .exec<{ seq: number }>(
          "INSERT INTO chunks(rows, bytes, data, at, ids, checks) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
          chunk.length,
          chunkBytes,
          chunk.map((r) => r.row).join("\n"),
          now,
          encodeIds(ids),
          checks.length > 0 ? JSON.stringify(checks) : null,
        )
        .one();
      chunks.push({ seq, ids });
      stored += chunkBytes;
      chunk = [];
      chunkBytes = 0;
    };
    for (const r of rows) {
      if (chunkBytes + r.bytes + 1 > CHUNK_MAX_BYTES) write();
      chunk.push(r);
      chunkBytes += r.bytes + (chunk.length > 1 ? 1 : 0);
    }
    write();
    return { bytes: stored, chunks };
  }

  /** The ids of chunk `seq`; null when no such chunk is held. */
  chunkIds(seq: number): string[] | null {
    const row = this.sql.exec<{ ids: string | null }>("SELECT ids FROM chunks WHERE seq = ?", seq).toArray()[0];
    return row ? decodeIds(row.ids) : null;
  }

  /** Every held chunk's ids, to rebuild dedup's memory after a start. */
  allIds(): ChunkIdList[] {
    return this.sql.exec<{ seq: number; ids: string | null }>("SELECT seq, ids FROM chunks").toArray().map((r) => ({ seq: r.seq, ids: decodeIds(r.ids) }));
  }

  /** The ids of a planned message's chunks. */
  messageIds(m: PlannedMessage): ChunkIdList[] {
    return this.sql
      .exec<{ seq: number; ids: string | null }>("SELECT seq, ids FROM chunks WHERE seq BETWEEN ? AND ?", m.firstSeq, m.lastSeq)
      .toArray()
      .map((r) => ({ seq: r.seq, ids: decodeIds(r.ids) }));
  }

  /** Rows held and their bytes as stored, sent or not. */
  backlog(): { rows: number; bytes: number } {
    const row = this.sql.exec<{ n: number; b: number }>("SELECT coalesce(sum(rows), 0) AS n, coalesce(sum(bytes), 0) AS b FROM chunks").one();
    return { rows: row.n, bytes: row.b };
  }

  /** When the oldest row held was stored (epoch ms); null when nothing is held. */
  oldestAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT at FROM chunks ORDER BY seq LIMIT 1").toArray()[0]?.at ?? null;
  }

  /** How many planned messages wait to be sent. */
  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  /** The first planned messages not yet sent, in the order their rows were stored. */
  pending(): PlannedMessage[] {
    return this.sql
      .exec<{ batch_id: string; first_seq: number; last_seq: number; rows: number; bytes: number }>(
        "SELECT batch_id, first_seq, last_seq, rows, bytes FROM outbox ORDER BY first_seq LIMIT ?",
        MAX_PENDING,
      )
      .toArray()
      .map((r) => ({ batchId: r.batch_id, firstSeq: r.first_seq, lastSeq: r.last_seq, rows: r.rows, bytes: r.bytes }));
  }

  /** Plans the next rows not in a message yet into messages whose batch ids start with `name`. */
  plan(name: string): void {
    // Messages already planned (refused in this flush, say) stay as they are: only the rows after them.
    const chunks = this.sql
      .exec<{ seq: number; rows: number; bytes: number }>(
        // A row marked for the sink to check adds its index to the message's header: room for it.
        `SELECT seq, rows, bytes + ${CHECK_INDEX_BYTES} * coalesce(json_array_length(checks), 0) AS bytes
         FROM chunks WHERE seq > coalesce((SELECT max(last_seq) FROM outbox), -1) ORDER BY seq LIMIT ?`,
        MAX_PLAN_CHUNKS,
      )
      .toArray();
    const planned = planMessages(chunks, name, LIMITS.maxQueueMessageBytes);
    this.storage.transactionSync(() => {
      for (const m of planned) {
        this.sql.exec("INSERT INTO outbox(batch_id, first_seq, last_seq, rows, bytes) VALUES (?, ?, ?, ?, ?)", m.batchId, m.firstSeq, m.lastSeq, m.rows, m.bytes);
      }
    });
  }

  /** A planned message's queue body: its rows, those the sink must check, and where it came from. */
  encode(m: PlannedMessage, appId: string, from: Pick<SinkMessage, "shard" | "eu">): string {
    const chunks = this.sql
      .exec<{ data: string; rows: number; checks: string | null }>("SELECT data, rows, checks FROM chunks WHERE seq BETWEEN ? AND ? ORDER BY seq", m.firstSeq, m.lastSeq)
      .toArray();
    const check: number[] = [];
    let offset = 0;
    for (const c of chunks) {
      if (c.checks) for (const i of JSON.parse(c.checks) as number[]) check.push(offset + i);
      offset += c.rows;
    }
    return encodeSinkMessage(
      m.batchId,
      appId,
      chunks.map((c) => c.data),
      { ...from, check },
    );
  }

  /**
   * Deletes a sent (or dead-lettered) message and its rows; returns the rows' bytes as stored,
   * which the backlog counts (a planned message's size also counts the newlines between its chunks).
   */
  drop(m: PlannedMessage): number {
    const stored = this.sql.exec<{ b: number }>("SELECT coalesce(sum(bytes), 0) AS b FROM chunks WHERE seq BETWEEN ? AND ?", m.firstSeq, m.lastSeq).one().b;
    this.sql.exec("DELETE FROM chunks WHERE seq BETWEEN ? AND ?", m.firstSeq, m.lastSeq);
    this.sql.exec("DELETE FROM outbox WHERE batch_id = ?", m.batchId);
    return stored;
  }

  /** Drops everything held, sent or not. */
  clear(): void {
    this.sql.exec("DELETE FROM chunks");
    this.sql.exec("DELETE FROM outbox");
  }
}
