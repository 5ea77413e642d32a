import { encodeSinkMessage, LIMITS } from "../schemas";
import { planMessages, type PlannedMessage } from "./packing";

/** An accepted event's serialized row and its UTF-8 size, as the outbox stores it. */
export interface OutgoingRow {
  row: string;
  bytes: number;
}

// Rows are stored in chunks of at most this many bytes: a few SQLite rows per request instead
// of one per event, and any chunk still fits a queue message on its own.
const CHUNK_MAX_BYTES = 48 * 1024;
// One planning step reads at most this many chunks, so a large backlog is planned in steps.
const MAX_PLAN_CHUNKS = 2_000;
const MAX_PENDING = 200;

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
   * Stores rows, in order, as received at `now`; returns their bytes as stored (separators
   * included), which is what `drop` gives back once they are sent.
   */
  store(rows: readonly OutgoingRow[], now: number): number {
    let stored = 0;
    let chunk: string[] = [];
    let chunkBytes = 0;
    const write = (): void => {
      if (chunk.length === 0) return;
      this.sql.exec("INSERT INTO chunks(rows, bytes, data, at) VALUES (?, ?, ?, ?)", chunk.length, chunkBytes, chunk.join("\n"), now);
      stored += chunkBytes;
      chunk = [];
      chunkBytes = 0;
    };
    for (const r of rows) {
      if (chunkBytes + r.bytes + 1 > CHUNK_MAX_BYTES) write();
      chunk.push(r.row);
      chunkBytes += r.bytes + (chunk.length > 1 ? 1 : 0);
    }
    write();
    return stored;
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
        "SELECT seq, rows, bytes FROM chunks WHERE seq > coalesce((SELECT max(last_seq) FROM outbox), -1) ORDER BY seq LIMIT ?",
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

  /** A planned message's queue body. */
  encode(m: PlannedMessage, appId: string): string {
    const rows = this.sql.exec<{ data: string }>("SELECT data FROM chunks WHERE seq BETWEEN ? AND ? ORDER BY seq", m.firstSeq, m.lastSeq).toArray().map((r) => r.data);
    return encodeSinkMessage(m.batchId, appId, rows);
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
