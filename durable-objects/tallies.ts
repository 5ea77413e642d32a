import { encodeTallyMessage, MAX_TALLY_FINGERPRINT_CHARS, tallyMinute, type CrashCapReason, type ErrorCode, type PipelineStage, type RejectCode, type Tally } from "../schemas";

/** What the edge refused before any event reached a batcher, for the app's per-minute counters. */
export interface EdgeRefusals {
  /** Events rejected, by reason: one by one (`invalid_event`…) or with their whole request (`batch_too_large`). */
  rejected?: Partial<Record<RejectCode | ErrorCode, number>>;
  /** The whole request was refused with this code (`invalid_json`, `empty_batch`…). */
  refused?: ErrorCode;
  /** Events of deleted people, answered as accepted and dropped (workers/privacy). */
  suppressed?: number;
}

/** A tally message planned with its batch id, waiting to be sent. */
export interface PlannedTallies {
  batchId: string;
  body: string;
}

// Counter rows per message: one line is at most about 200 bytes (a 64-character reason or a
// 128-character fingerprint, a 19-digit count), so a message stays under LIMITS.maxQueueMessageBytes.
const MAX_TALLIES_PER_MESSAGE = 500;

/**
 * The one place an AppBatcher counts what happens to events. Per-minute counters in its SQLite:
 * added up per (minute, stage, reason), and capped crashes per (minute, fingerprint, reason),
 * until they are planned into a message with a stable batch id, which is kept until its send
 * succeeded, like the outbox of rows. The same additions keep totals since the object started,
 * in memory only: writing them would cost SQLite rows on every request.
 */
export class Tallies {
  private readonly totals = new Map<string, number>();

  // The batcher's metered SQL, so its rows are counted with the batcher's own.
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sql: SqlStorage = storage.sql,
  ) {}

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS tallies (minute INTEGER NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, UNIQUE (minute, stage, reason));
      CREATE TABLE IF NOT EXISTS tally_outbox (batch_id TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS crash_drops (minute INTEGER NOT NULL, fingerprint TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, UNIQUE (minute, fingerprint, reason));
    `);
  }

  add(stage: PipelineStage, reason: string, n: number, now: number): void {
    this.record(stage, reason, n, now);
    this.counted(stage, reason, n);
  }

  /**
   * Counts in the totals since start only: for counters kept elsewhere until they are recorded
   * (a call's `accepted` rides in its chunk row, decision record 0021).
   */
  counted(stage: PipelineStage, reason: string, n: number): void {
    if (n > 0) this.count(reason ? `${stage}/${reason}` : stage, n);
  }

  /** Adds to the per-minute counters of `at` only, for counts already in the totals. */
  record(stage: PipelineStage, reason: string, n: number, at: number): void {
    if (n <= 0) return;
    this.sql.exec(
      "INSERT INTO tallies(minute, stage, reason, n) VALUES (?, ?, ?, ?) ON CONFLICT(minute, stage, reason) DO UPDATE SET n = n + excluded.n",
      tallyMinute(at),
      stage,
      reason,
      n,
    );
  }

  /** Counts crashes of one fingerprint that a crash cap kept out: a `capped` counter naming the issue. */
  addCapped(fingerprint: string, reason: CrashCapReason, n: number, now: number): void {
    if (n <= 0) return;
    this.sql.exec(
      "INSERT INTO crash_drops(minute, fingerprint, reason, n) VALUES (?, ?, ?, ?) ON CONFLICT(minute, fingerprint, reason) DO UPDATE SET n = n + excluded.n",
      tallyMinute(now),
      // Longer than any fingerprint the edge computes; kept within what a message may carry.
      fingerprint.slice(0, MAX_TALLY_FINGERPRINT_CHARS),
      reason,
      n,
    );
    this.count(`capped/${reason}`, n);
  }

  addRefusals(refusals: EdgeRefusals, now: number): void {
    for (const [reason, n] of Object.entries(refusals.rejected ?? {})) this.add("rejected", reason, n ?? 0, now);
    if (refusals.refused) this.add("refused", refusals.refused, 1, now);
    this.add("suppressed", "deleted_user", refusals.suppressed ?? 0, now);
  }

  /**
   * Totals since this object started, named like the pipeline counters: `stage` or
   * `stage/reason` (`accepted`, `rejected/rate_limited`, `capped/issue_cap`…).
   */
  sinceStart(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }

  private count(name: string, n: number): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + n);
  }

  /** Drops every counter not sent yet. */
  clear(): void {
    for (const table of ["tallies", "crash_drops", "tally_outbox"]) this.sql.exec(`DELETE FROM ${table}`);
  }

  /** True while counters wait to be planned or sent. */
  waiting(): boolean {
    return this.sql.exec<{ n: number }>("SELECT (EXISTS (SELECT 1 FROM tallies) OR EXISTS (SELECT 1 FROM crash_drops) OR EXISTS (SELECT 1 FROM tally_outbox)) AS n").one().n === 1;
  }

  /** Messages planned and not yet sent; when there are none, plans the next from the counters. */
  pending(appId: string, shard: string): PlannedTallies[] {
    const planned = this.outbox();
    if (planned.length > 0) return planned;
    this.storage.transactionSync(() => this.plan(appId, shard));
    return this.outbox();
  }

  sent(batchId: string): void {
    this.sql.exec("DELETE FROM tally_outbox WHERE batch_id = ?", batchId);
  }

  private outbox(): PlannedTallies[] {
    return this.sql
      .exec<{ batch_id: string; body: string }>("SELECT batch_id, body FROM tally_outbox ORDER BY batch_id")
      .toArray()
      .map((r) => ({ batchId: r.batch_id, body: r.body }));
  }

  private plan(appId: string, shard: string): void {
    const rows = this.sql.exec<{ id: number } & Tally>("SELECT rowid AS id, minute, stage, reason, n FROM tallies ORDER BY rowid LIMIT ?", MAX_TALLIES_PER_MESSAGE).toArray();
    const drops = this.sql
      .exec<{ id: number; minute: number; fingerprint: string; reason: string; n: number }>(
        "SELECT rowid AS id, minute, fingerprint, reason, n FROM crash_drops ORDER BY rowid LIMIT ?",
        MAX_TALLIES_PER_MESSAGE - rows.length,
      )
      .toArray();
    if (rows.length === 0 && drops.length === 0) return;
    // Sequence numbers are never reused, so a batch id names the same counters forever.
    const seq = Number(this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'tally_seq'").toArray()[0]?.value ?? "0") + 1;
    this.sql.exec("INSERT INTO meta(key, value) VALUES ('tally_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", String(seq));
    const batchId = `${appId}:${shard}:t${seq}`;
    const tallies: Tally[] = [
      ...rows.map((r) => ({ minute: r.minute, stage: r.stage, reason: r.reason, n: r.n })),
      ...drops.map((d): Tally => ({ minute: d.minute, stage: "capped", reason: d.reason, n: d.n, fingerprint: d.fingerprint })),
    ];
    this.sql.exec("INSERT INTO tally_outbox(batch_id, body) VALUES (?, ?)", batchId, encodeTallyMessage(batchId, appId, tallies));
    const lastRow = rows[rows.length - 1];
    const lastDrop = drops[drops.length - 1];
    if (lastRow) this.sql.exec("DELETE FROM tallies WHERE rowid <= ?", lastRow.id);
    if (lastDrop) this.sql.exec("DELETE FROM crash_drops WHERE rowid <= ?", lastDrop.id);
  }
}
