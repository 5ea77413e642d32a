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
// Capped-crash counters kept in the state row (a few KB) before the rest get a row each.
const MAX_CAPPED_IN_STATE = 100;

/**
 * The one place an AppBatcher counts what happens to events. Per-minute counters in its SQLite:
 * added up per (minute, stage, reason), and capped crashes per (minute, fingerprint, reason),
 * until they are planned into a message with a stable batch id, which is kept until its send
 * succeeded, like the outbox of rows. The same additions keep totals since the object started,
 * in memory only: writing them would cost SQLite rows on every request.
 *
 * The (minute, stage, reason) counters are few (a handful of stages and reasons a minute), so
 * they live in one row, `tally_state`, with the sequence of tally batches: a flush that records
 * accepted, duplicates and flushed writes that row once, where a row per counter (and its index
 * entry) cost up to six. Inside `batch` the row is written once at the end; a transaction that
 * throws must be followed by `reload`, as memory is then ahead of what was rolled back.
 * Capped crashes are counted per (minute, fingerprint, reason) when the chunk rows that carried
 * a call's counts are sent, once per flush rather than once per call of a crash loop: in the
 * state row for the first MAX_CAPPED_IN_STATE, which a crash loop's few fingerprints never
 * pass, and past those in a row each (`crash_drops`), as an app whose every issue is capped
 * can have thousands a minute.
 */
export class Tallies {
  private readonly totals = new Map<string, number>();
  // The counters not planned into a message yet, by `minute\nstage\nreason`, and the last tally batch's number.
  private counts = new Map<string, Tally>();
  private seq = 0;
  private depth = 0;
  private dirty = false;

  // The batcher's metered SQL, so its rows are counted with the batcher's own.
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sql: SqlStorage = storage.sql,
  ) {}

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS tally_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tally_outbox (batch_id TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS crash_drops (minute INTEGER NOT NULL, fingerprint TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, UNIQUE (minute, fingerprint, reason));
    `);
    this.reload();
    // Older versions kept a row per counter in `tallies`, and the batch sequence in `meta`: both move into the state row.
    if (this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'tallies'").one().n > 0) {
      this.storage.transactionSync(() => {
        for (const t of this.sql.exec<Tally>("SELECT minute, stage, reason, n FROM tallies ORDER BY rowid")) this.bump(t.minute, t.stage, t.reason, t.n);
        const seq = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'tally_seq'").toArray()[0]?.value;
        this.seq = Math.max(this.seq, Number(seq ?? "0"));
        this.sql.exec("DROP TABLE tallies");
        this.sql.exec("DELETE FROM meta WHERE key = 'tally_seq'");
        this.save();
      });
    }
  }

  /**
   * Runs `fn` with the state row written once at its end (if anything changed) instead of at
   * each change: `storage.transactionSync(() => tallies.batch(() => …))`.
   */
  batch<T>(fn: () => T): T {
    this.depth++;
    let out: T;
    try {
      out = fn();
    } finally {
      this.depth--;
    }
    if (this.depth === 0 && this.dirty) this.save();
    return out;
  }

  /** Reads the state row again: after a transaction that changed counters threw and was rolled back. */
  reload(): void {
    const text = this.sql.exec<{ state: string }>("SELECT state FROM tally_state WHERE id = 1").toArray()[0]?.state;
    const state = text ? (JSON.parse(text) as { seq: number; counts: Array<[number, string, string, number, string?]> }) : { seq: 0, counts: [] };
    this.seq = state.seq;
    this.counts = new Map();
    for (const [minute, stage, reason, n, fingerprint] of state.counts) this.bump(minute, stage, reason, n, fingerprint);
    this.dirty = false;
  }

  private bump(minute: number, stage: string, reason: string, n: number, fingerprint?: string): void {
    const key = tallyKey(minute, stage, reason, fingerprint);
    const t = this.counts.get(key);
    if (t) t.n += n;
    else this.counts.set(key, { minute, stage: stage as Tally["stage"], reason, n, ...(fingerprint === undefined ? {} : { fingerprint }) });
  }

  private changed(): void {
    if (this.depth > 0) this.dirty = true;
    else this.save();
  }

  private save(): void {
    const counts = [...this.counts.values()].map((t) => (t.fingerprint === undefined ? [t.minute, t.stage, t.reason, t.n] : [t.minute, t.stage, t.reason, t.n, t.fingerprint]));
    this.sql.exec(
      "INSERT INTO tally_state(id, state) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
      JSON.stringify({ seq: this.seq, counts }),
    );
    this.dirty = false;
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
    this.bump(tallyMinute(at), stage, reason, n);
    this.changed();
  }

  /** Counts crashes of one fingerprint that a crash cap kept out: a `capped` counter naming the issue. */
  addCapped(fingerprint: string, reason: CrashCapReason, n: number, now: number): void {
    this.recordCapped(fingerprint, reason, n, now);
    this.countedCapped(reason, n);
  }

  /** addCapped's totals since start only, for counts that ride in a chunk row until they are recorded. */
  countedCapped(reason: CrashCapReason, n: number): void {
    if (n > 0) this.count(`capped/${reason}`, n);
  }

  /** addCapped's per-minute counter of `at` only, for counts already in the totals. */
  recordCapped(fingerprint: string, reason: CrashCapReason, n: number, at: number): void {
    if (n <= 0) return;
    // Longer than any fingerprint the edge computes; kept within what a message may carry.
    const issue = fingerprint.slice(0, MAX_TALLY_FINGERPRINT_CHARS);
    const minute = tallyMinute(at);
    if (this.counts.has(tallyKey(minute, "capped", reason, issue)) || [...this.counts.values()].filter((t) => t.fingerprint !== undefined).length < MAX_CAPPED_IN_STATE) {
      this.bump(minute, "capped", reason, n, issue);
      this.changed();
      return;
    }
    this.sql.exec(
      "INSERT INTO crash_drops(minute, fingerprint, reason, n) VALUES (?, ?, ?, ?) ON CONFLICT(minute, fingerprint, reason) DO UPDATE SET n = n + excluded.n",
      minute,
      issue,
      reason,
      n,
    );
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
    for (const table of ["crash_drops", "tally_outbox"]) this.sql.exec(`DELETE FROM ${table}`);
    this.counts.clear();
    this.changed();
  }

  /** True while counters wait to be planned or sent. */
  waiting(): boolean {
    return this.counts.size > 0 || this.sql.exec<{ n: number }>("SELECT (EXISTS (SELECT 1 FROM crash_drops) OR EXISTS (SELECT 1 FROM tally_outbox)) AS n").one().n === 1;
  }

  /** Messages planned and not yet sent; when there are none, plans the next from the counters. */
  pending(appId: string, shard: string): PlannedTallies[] {
    const planned = this.outbox();
    if (planned.length > 0) return planned;
    try {
      this.storage.transactionSync(() => this.batch(() => this.plan(appId, shard)));
    } catch (err) {
      this.reload();
      throw err;
    }
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
    const rows = [...this.counts.entries()].slice(0, MAX_TALLIES_PER_MESSAGE);
    const drops = this.sql
      .exec<{ id: number; minute: number; fingerprint: string; reason: string; n: number }>(
        "SELECT rowid AS id, minute, fingerprint, reason, n FROM crash_drops ORDER BY rowid LIMIT ?",
        MAX_TALLIES_PER_MESSAGE - rows.length,
      )
      .toArray();
    if (rows.length === 0 && drops.length === 0) return;
    // Sequence numbers are never reused, so a batch id names the same counters forever.
    const seq = ++this.seq;
    const batchId = `${appId}:${shard}:t${seq}`;
    const tallies: Tally[] = [
      ...rows.map(([, t]) => ({ minute: t.minute, stage: t.stage, reason: t.reason, n: t.n, ...(t.fingerprint === undefined ? {} : { fingerprint: t.fingerprint }) })),
      ...drops.map((d): Tally => ({ minute: d.minute, stage: "capped", reason: d.reason, n: d.n, fingerprint: d.fingerprint })),
    ];
    this.sql.exec("INSERT INTO tally_outbox(batch_id, body) VALUES (?, ?)", batchId, encodeTallyMessage(batchId, appId, tallies));
    for (const [key] of rows) this.counts.delete(key);
    this.changed();
    const lastDrop = drops[drops.length - 1];
    if (lastDrop) this.sql.exec("DELETE FROM crash_drops WHERE rowid <= ?", lastDrop.id);
  }
}

const tallyKey = (minute: number, stage: string, reason: string, fingerprint?: string): string =>
  fingerprint === undefined ? `${minute}\n${stage}\n${reason}` : `${minute}\n${stage}\n${reason}\n${fingerprint}`;
