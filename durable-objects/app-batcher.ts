import { DurableObject } from "cloudflare:workers";
import { config, decodeQueueMessage, LIMITS, tallyMinute, toWellFormed, type Config } from "../schemas";
import { localD1Env } from "../schemas/local-d1";
import { archiveBucket, batcherStub, locationOfId } from "../workers/apps/location";
import { shardsWanted } from "../workers/apps/shards";
import { raiseShardsAutomatically } from "../workers/apps/store";
import { errorText, log } from "../workers/lib/log";
import { writePipelineCounts } from "../workers/lib/metrics";
import { deadLetterKey } from "../workers/queue/dead-letters";
import { queueBodyText } from "../workers/queue/packed";
import { eventsQueue } from "../workers/queue/route";
import { CrashCaps, shardLimits } from "./crash-caps";
import { DedupTiers } from "./dedup/tiers";
import { CallGroup } from "./call-group";
import { Outbox, type CappedCount, type ChunkTally, type OutgoingRow } from "./outbox";
import { groupForSend, type PlannedMessage } from "./packing";
import { MeteredSql } from "./sql-meter";
import { Tallies, type EdgeRefusals } from "./tallies";
import { TokenBucket } from "./token-bucket";

export type { EdgeRefusals } from "./tallies";

/** One accepted event as the edge hands it over: its id and its serialized ClickHouse row. */
export interface BufferedEvent {
  messageId: string;
  row: string;
  /** UTF-8 size of `row`. */
  bytes: number;
  /** The crash's fingerprint, which the crash caps count by; empty or absent for other events. */
  fingerprint?: string;
  /**
   * The shard its id belonged to under the app's previous routing, while that routing's ids may
   * still sit there (the dedup window after a change; workers/apps/shards.ts); absent otherwise.
   */
  previousShard?: number;
}

/** Who is writing: the app, its shard, and the app's rate limit across all shards. */
export interface IngestTarget {
  appId: string;
  shard: number;
  shardCount: number;
  /**
   * The app's shard count before its last change, while ids it routed may still sit on its
   * shards (the dedup window after the change; workers/apps/shards.ts); null or absent otherwise.
   * Each event names its shard under that routing (BufferedEvent.previousShard).
   */
  previousShardCount?: number | null;
  /** Events per second for the whole app; 0 means unlimited. */
  rateLimit: number;
  /** Whether this shard, when busy, raises the app's shard count (decision record 0035); off when absent. */
  autoShards?: boolean;
  /**
   * Every event of this call came from one device, so more shards would spread calls like it
   * (decision record 0039); absent: not known, not counted.
   */
  oneDevice?: boolean;
}

/**
 * The answer to `ingest`: accepted (durably stored, or for crashes over a crash cap, counted
 * and dropped) or refused as a whole, with a wait.
 */
export type IngestResult =
  | { status: "ok"; accepted: number; duplicates: number }
  | { status: "rate_limited"; retryAfter: number }
  | { status: "full"; retryAfter: number }
  /** The app was deleted: nothing is stored, ever again. */
  | { status: "gone" };

/** Counters and backlog of one AppBatcher, for health views and tests. */
export interface BatcherStats {
  bufferedRows: number;
  bufferedBytes: number;
  pendingMessages: number;
  /** Events by pipeline stage since this object started: `stage` or `stage/reason` → count (Tallies). */
  counters: Record<string, number>;
  /** Event messages sent to the queue since this object started. */
  messages: number;
  /** Their bytes as text and as the queue carried them (packed), which Queues bill per 64 KB. */
  queueBytes: { text: number; packed: number };
  /** Alarms whose flush or counter shipping failed since this object started. */
  flushFailures: number;
  /** Ids held exactly (tier 1), memory taken, and the ids and stored bytes of the filters (tier 2). */
  dedup: { heldIds: number; memoryBytes: number; filterIds: number; filterBytes: number };
  /** SQLite rows read and written since this object started (the units Cloudflare bills), and its database's size in bytes. */
  storage: { rowsRead: number; rowsWritten: number; bytes: number };
  /** The events of the window automatic sharding judges next (decision record 0035), and when its first came (epoch ms; null: none yet). */
  /** What automatic sharding judges next: the window's events, its calls from one device each, and when it began. */
  load: { events: number; deviceCalls: number; since: number | null };
  /** Ingest calls stored since this object started, the stores they took (a group of calls is one), and the chunk rows written (decision record 0040). */
  stores: { calls: number; groups: number; chunks: number };
}

/**
 * The `seen` key of a messageId, in the table each id took a row of before decision record 0021
 * (objects that have one read it until its last day has passed). SQLite hands a lone UTF-16 surrogate back changed, and an id
 * that does not come back as sent would be dropped as a duplicate of itself; making it
 * well-formed would make `x\ud801` a duplicate of `x\ufffd`. So such an id (and any id that
 * starts with a quote, to keep the two forms apart) is kept as its JSON text, which escapes
 * the lone surrogate and round-trips unchanged.
 */
function seenKey(id: string): string {
  return id.startsWith('"') || id !== toWellFormed(id) ? JSON.stringify(id) : id;
}

/** Adds `count` to the capped crashes by cap and fingerprint: one counter each however many crashes. */
function countCapped(counts: Map<string, CappedCount>, count: CappedCount): void {
  const key = `${count.reason}\n${count.fingerprint}`;
  const held = counts.get(key);
  if (held) held.n += count.n;
  else counts.set(key, { ...count });
}

/** One ingest call's share of a stored group: what it keeps, and what it counts. */
interface StoredCall {
  target: IngestTarget;
  kept: OutgoingRow[];
  /** Crashes over a cap: answered as accepted, held as ids, not stored. */
  cappedIds: string[];
  duplicates: number;
  drops: CappedCount[];
  rows: number;
  bytes: number;
  ids: string[];
}

/** A planned message with its body, on its way to the queue. */
interface Outgoing {
  message: PlannedMessage;
  /** The UTF-8 bytes of its text. */
  bytes: number;
  /** The body as the queue carries it (Outbox.encode). */
  packed: Uint8Array;
}

const DEDUP_WINDOW_MS = LIMITS.dedupWindowMs;
// A stale shard's D1 row is rewritten with its new age at most this often.
const HEALTH_REWRITE_MS = 60_000;
// The pipeline counters' reason for rows the queue would not take.
const UNSENDABLE = "unsendable";
// One alarm sends at most this much, so a large backlog drains in steps that each finish well
// within an invocation's limits; the next step is scheduled at once.
const MAX_SENDS_PER_ALARM = 50;
const SEEN_PRUNE_INTERVAL_MS = 60_000;
// While sent ids wait to move to dedup's filters, the alarm comes back when they are due, but
// not more often than this.
const DEDUP_SETTLE_MS = 5_000;
const FULL_RETRY_AFTER_S = 5;
// Per-minute counters leave at most this often: one small message per shard beside its event
// messages, instead of one per flush.
const TALLY_SHIP_INTERVAL_MS = 5_000;

/**
 * The per-app (per `app:shard`) batcher. Accepted events are written to SQLite before the
 * Worker answers; duplicates by messageId within 24 h are dropped; rows flush to the queue by
 * count, bytes or age. Messages are planned into the outbox with stable batch ids before they
 * are sent and rows are deleted only after the send succeeded, so a failed or repeated flush
 * resends the very same batches and the sink can drop what it already stored.
 */
export class AppBatcher extends DurableObject<Env> {
  private readonly sql: MeteredSql;
  private readonly cfg: Config;
  private readonly tallies: Tallies;
  private readonly outbox: Outbox;
  private readonly dedup: DedupTiers;
  private readonly group: CallGroup<StoredCall>;
  // True while the `seen` table of an older version still holds ids within the dedup window.
  private legacySeen = false;
  private bufferedRows = 0;
  private bufferedBytes = 0;
  private bucket: TokenBucket | null = null;
  private caps: CrashCaps | null = null;
  private failures = 0;
  private flushFailures = 0;
  private messagesSent = 0;
  private readonly queueBytes = { text: 0, packed: 0 };
  private lastPrune = 0;
  private known: { appId: string; shard: string } | null = null;
  // Whether this object has written its app and shard to `meta` since it started.
  private remembered = false;
  private lastTallyShip = 0;
  private retired = false;
  // When this shard was reported stale in D1 (null: healthy), and when that row was last written.
  private staleSince: number | null = null;
  private healthWritten = 0;
  // Since when ingest has answered "buffer full" (null: it is not): logged once per episode, as each refusal is counted.
  private fullSince: number | null = null;
  private chunksSent = 0;
  private readonly stores = { calls: 0, groups: 0, chunks: 0 };
  // Events taken since `since` (the window's first), and the call that last brought some: what
  // automatic sharding goes by.
  private load: { since: number; events: number; deviceCalls: number; target: IngestTarget | null } = { since: 0, events: 0, deviceCalls: 0, target: null };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new MeteredSql(ctx.storage.sql);
    this.cfg = config(env);
    this.tallies = new Tallies(ctx.storage, this.sql);
    this.outbox = new Outbox(ctx.storage, this.sql);
    this.dedup = new DedupTiers(this.sql, (seq) => this.outbox.chunkIds(seq), { mergeAfterMs: this.cfg.dedup.mergeAfterMs });
    this.group = new CallGroup(this.cfg.callGroup, (calls) => this.storeCalls(calls));
    // An init that fails throws: blockConcurrencyWhile then resets the object and the next call
    // builds it again, where answering from half-read state would misreport or lose its backlog.
    void ctx.blockConcurrencyWhile(async () => {
      this.migrate();
      const backlog = this.outbox.backlog();
      this.bufferedRows = backlog.rows;
      this.bufferedBytes = backlog.bytes;
      this.dedup.load(this.outbox.allIds(), Date.now());
      this.retired = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM meta WHERE key = 'retired'").one().n > 0;
      const since = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'stale_since'").toArray()[0];
      this.staleSince = since ? Number(since.value) : null;
    });
  }

  private migrate(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.legacySeen = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'seen'").one().n > 0;
    // Lifetime totals were once kept here, at SQLite rows per request; Tallies counts in memory now.
    this.sql.exec("DROP TABLE IF EXISTS counters");
    this.tallies.migrate();
    this.outbox.migrate();
    this.dedup.migrate();
  }

  // A transaction whose counters are written once at its end; memory follows a rollback.
  private transact<T>(fn: () => T): T {
    try {
      return this.ctx.storage.transactionSync(() => this.tallies.batch(fn));
    } catch (err) {
      this.tallies.reload();
      this.outbox.forget();
      // The rollback may have taken the identity's row with it.
      this.remembered = false;
      throw err;
    }
  }

  // Once per start: a statement on every call cost a shard more CPU than its counters did.
  private remember(target: IngestTarget): void {
    if (this.remembered) return;
    this.sql.exec("INSERT OR IGNORE INTO meta(key, value) VALUES ('app', ?), ('shard', ?)", target.appId, String(target.shard));
    this.remembered = true;
  }

  // Counters must leave even when nothing was accepted, so any call that records one makes
  // sure an alarm is coming within the flush age: one set later (ids waiting a minute to move
  // to dedup's filters) is brought forward.
  private async ensureAlarm(now: number): Promise<void> {
    await this.alarmBy(now + this.cfg.flush.maxAgeMs);
  }

  // An alarm at `at` at the latest: one set later is brought forward.
  private async alarmBy(at: number): Promise<void> {
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Retires this shard for good: its app was deleted and its data is being purged, so what it
   * buffers is dropped unsent, and later calls store, count and send nothing.
   */
  async retire(): Promise<void> {
    this.group.settle();
    this.transact(() => {
      this.sql.exec("INSERT INTO meta(key, value) VALUES ('retired', ?) ON CONFLICT(key) DO NOTHING", String(Date.now()));
      this.outbox.clear();
      this.tallies.clear();
      this.dedup.clear();
      if (this.legacySeen) this.sql.exec("DROP TABLE seen");
    });
    this.legacySeen = false;
    this.retired = true;
    this.bufferedRows = 0;
    this.bufferedBytes = 0;
    await this.ctx.storage.deleteAlarm();
    await this.reportHealth(Date.now());
  }

  /** Records what the edge refused for this app when no event of the request reached a batcher. */
  async refuse(target: IngestTarget, refusals: EdgeRefusals): Promise<void> {
    if (this.retired) return;
    const now = Date.now();
    this.transact(() => {
      this.remember(target);
      this.tallies.addRefusals(refusals, now);
    });
    await this.ensureAlarm(now);
  }

  /**
   * Stores events durably (minus duplicates) or refuses the whole call with a wait time.
   * `refusals` are the request's events the edge rejected, counted with the accepted ones.
   */
  async ingest(events: readonly BufferedEvent[], target: IngestTarget, refusals?: EdgeRefusals): Promise<IngestResult> {
    if (this.retired) return { status: "gone" };
    // Ids the app's shards under its previous count already hold are duplicates here too. Asked
    // first: the answer is awaited, and the exact check below still settles two copies that
    // arrive meanwhile.
    const elsewhere = await this.heldElsewhere(events, target);
    if (elsewhere.held.size > 0) events = events.filter((e) => !elsewhere.held.has(e.messageId));
    const heldBefore = elsewhere.held.size;
    const now = Date.now();
    if (refusals) {
      this.transact(() => {
        this.remember(target);
        this.tallies.addRefusals(refusals, now);
      });
    }
    const shards = Math.max(1, target.shardCount);
    const perShard = target.rateLimit > 0 ? target.rateLimit / shards : 0;
    if (perShard > 0) {
      // The app's burst, like its rate, is shared by its shards: two seconds of its rate, or at
      // least one full batch.
      const capacity = Math.max(1, Math.max(target.rateLimit * 2, LIMITS.maxBatchEvents) / shards);
      if (!this.bucket || this.bucket.rate !== perShard || this.bucket.capacity !== capacity) this.bucket = new TokenBucket(perShard, capacity);
      // Events this shard already holds cost nothing again: a client resending a request that
      // another shard refused must get through once every shard has room for its new events.
      const wait = this.bucket.take(events.length - this.knownCount(events), now);
      if (wait > 0) {
        this.remember(target);
        this.tallies.add("rejected", "rate_limited", events.length, now);
        await this.ensureAlarm(now);
        return { status: "rate_limited", retryAfter: Math.max(1, Math.ceil(wait / 1000)) };
      }
    }
    let incomingBytes = 0;
    for (const e of events) incomingBytes += e.bytes;
    // Ids wait in dedup's tier 1 until ClickHouse confirms them: while it does not, that is a backlog too.
    const backlogRows = this.bufferedRows + this.group.rows;
    const backlogBytes = this.bufferedBytes + this.group.bytes;
    if (backlogRows + events.length > this.cfg.buffer.maxRows || backlogBytes + incomingBytes > this.cfg.buffer.maxBytes || this.dedup.full) {
      this.remember(target);
      this.tallies.add("rejected", "buffer_full", events.length, now);
      // Events a full shard turns away are load it could not take: more shards would.
      this.countLoad(target, events.length, now);
      if (this.fullSince === null) {
        this.fullSince = now;
        const { appId, shard } = this.identity();
        log.warn("batcher.buffer_full", { app: appId, shard: Number(shard), backlog: this.bufferedRows, backlog_bytes: this.bufferedBytes, dedup_full: this.dedup.full });
      }
      await this.ctx.storage.setAlarm(now);
      return { status: "full", retryAfter: FULL_RETRY_AFTER_S };
    }
    if (this.fullSince !== null) {
      const { appId, shard } = this.identity();
      log.info("batcher.buffer_open", { app: appId, shard: Number(shard), backlog: this.bufferedRows, full_ms: now - this.fullSince });
      this.fullSince = null;
    }

    const caps = this.crashCaps(target.shardCount);
    const kept: OutgoingRow[] = [];
    const cappedIds: string[] = [];
    let keptBytes = 0;
    let capped = 0;
    // No row per id: the tiers answer from memory and the rows held, and the sink settles "check" (decision record 0021).
    const ids = events.map((e) => e.messageId);
    const verdicts = this.dedup.classify(ids, now);
    const legacy = this.legacyHeld(ids, now);
    // Capped crashes by fingerprint and cap: one counter row each per request, none per crash.
    const drops = new Map<string, CappedCount>();
    let next = 0;
    for (const e of events) {
      // Duplicates go first, so a resent request does not use up the crash caps. A call waiting
      // in the open group holds its ids already.
      const verdict = verdicts[next++];
      if (verdict === "duplicate" || legacy.has(e.messageId) || this.group.holds(e.messageId)) continue;
      const cap = e.fingerprint && caps ? caps.admit(e.fingerprint, now) : null;
      if (cap) {
        cappedIds.push(e.messageId);
        countCapped(drops, { fingerprint: e.fingerprint ?? "", reason: cap, n: 1 });
        capped++;
        continue;
      }
      // An id another shard may hold (a shard-count change) is settled by the sink too.
      kept.push({ row: e.row, bytes: e.bytes, id: e.messageId, check: verdict === "check" || elsewhere.maybe.has(e.messageId) });
      keptBytes += e.bytes;
    }
    const duplicates = events.length - kept.length - capped;
    // A busy shard stores the calls that come together in one transaction and one chunk row (decision record 0040).
    await this.group.join({ target, kept, cappedIds, duplicates, drops: [...drops.values()], rows: kept.length, bytes: keptBytes, ids: [...kept.map((k) => k.id), ...cappedIds] }, now);

    if (this.bufferedRows >= this.cfg.flush.maxRows || this.bufferedBytes >= this.cfg.flush.maxBytes) {
      await this.ctx.storage.setAlarm(now);
    } else {
      await this.ensureAlarm(now);
    }
    this.tallies.add("deduplicated", "", heldBefore, now);
    this.countLoad(target, events.length + heldBefore, now);
    // Capped crashes are answered as accepted: a client retrying them would feed the loop.
    return { status: "ok", accepted: events.length + heldBefore, duplicates: duplicates + heldBefore };
  }

  // Stores calls in one transaction: their rows in chunks (the first holding every call's capped
  // ids and counts), as one call's would be. A call whose every event was capped, alone, stores no chunk.
  private storeCalls(calls: readonly StoredCall[]): void {
    const first = calls[0];
    if (!first) return;
    const kept = calls.length === 1 ? first.kept : calls.flatMap((c) => c.kept);
    const cappedIds = calls.length === 1 ? first.cappedIds : calls.flatMap((c) => c.cappedIds);
    let duplicates = 0;
    const drops = new Map<string, CappedCount>();
    for (const c of calls) {
      duplicates += c.duplicates;
      for (const d of c.drops) countCapped(drops, d);
    }
    const now = Date.now();
    const stored = this.transact(() => {
      this.remember(first.target);
      // The backlog counts bytes as stored, separators included, as flushes take them off.
      // A resent capped crash is a duplicate too, not a second go at the caps: its id is held
      // in the call's chunk, or in a row of its own when the call stored no rows.
      // The call's counters ride in its first chunk row, written anyway, until they are recorded.
      const { appId, shard } = this.identity();
      const stored = this.outbox.store(`${appId}:${shard}`, kept, now, cappedIds, duplicates, [...drops.values()]);
      for (const c of stored.chunks) this.dedup.accepted(c.seq, c.ids);
      if (stored.chunks.length === 0) this.dedup.acceptedWithoutRows(cappedIds, now);
      for (const d of drops.values()) {
        if (stored.chunks.length > 0) this.tallies.countedCapped(d.reason, d.n);
        else this.tallies.addCapped(d.fingerprint, d.reason, d.n, now);
      }
      this.tallies.counted("accepted", "", kept.length);
      if (stored.chunks.length > 0) this.tallies.counted("deduplicated", "", duplicates);
      else this.tallies.add("deduplicated", "", duplicates, now);
      return stored;
    });
    this.stores.calls += calls.length;
    this.stores.groups++;
    this.stores.chunks += stored.chunks.length;
    this.bufferedRows += kept.length;
    this.bufferedBytes += stored.bytes;
  }

  // The window starts with its first event, so the rate below is over time this shard had work.
  private countLoad(target: IngestTarget, events: number, now: number): void {
    if (this.load.events === 0 && this.load.deviceCalls === 0) this.load.since = now;
    this.load.events += events;
    if (target.oneDevice === true) this.load.deviceCalls++;
    this.load.target = target;
  }

  /**
   * Raises the app's shard count when this shard took more than its share over a window that
   * has passed (workers/apps/shards.ts), if the app lets it and no change is in its dedup
   * window. A window is judged once, whatever the answer: the app's other shards are as busy
   * and ask too, and the one D1 statement lets only the first change it. A D1 failure is asked
   * again after the next window.
   */
  private async considerShards(now: number): Promise<void> {
    const { target, events, deviceCalls, since } = this.load;
    const elapsed = now - since;
    if (!target || (events === 0 && deviceCalls === 0) || elapsed < this.cfg.hotShard.windowMs) return;
    this.load = { since: now, events: 0, deviceCalls: 0, target: null };
    if (!target.autoShards || (target.previousShardCount ?? null) !== null) return;
    const perSecond = (n: number): number => (n * 1000) / Math.max(1, elapsed);
    const load = { eventsPerSecond: perSecond(events), deviceCallsPerSecond: perSecond(deviceCalls) };
    const to = shardsWanted(load, target.shardCount, this.cfg.hotShard);
    if (to === null) return;
    const fields = {
      app: target.appId,
      shard: target.shard,
      from: target.shardCount,
      to,
      events_per_s: Math.round(load.eventsPerSecond),
      device_calls_per_s: Math.round(load.deviceCallsPerSecond),
      window_ms: elapsed,
    };
    try {
      const at = await raiseShardsAutomatically(localD1Env(this.env).DB, target.appId, target.shardCount, to, now);
      if (at !== null) log.info("batcher.shards_raised", { ...fields, from_at: at });
    } catch (err) {
      log.warn("batcher.shards_not_raised", { ...fields, error: errorText(err) });
    }
  }

  // This shard's share of the deployment's crash caps; null when there are none.
  private crashCaps(shardCount: number): CrashCaps | null {
    const limits = shardLimits(this.cfg.crashCaps, shardCount);
    if (limits.perIssue === 0 && limits.perApp === 0) return null;
    if (!this.caps || this.caps.limits.perIssue !== limits.perIssue || this.caps.limits.perApp !== limits.perApp) this.caps = new CrashCaps(limits);
    return this.caps;
  }

  /**
   * Keeps this shard's row in D1 `shard_health` in step: written when its oldest buffered event
   * passes `BUFFER_STALE_MS` (again at most once a minute while the age changes), deleted when
   * it recovers. A D1 failure is retried on the next alarm.
   */
  private async reportHealth(now: number): Promise<void> {
    const oldest = this.retired ? null : this.outbox.oldestAt();
    const stale = oldest !== null && now - oldest > this.cfg.buffer.staleMs;
    if (!stale && this.staleSince === null) return;
    if (stale && this.staleSince !== null && now - this.healthWritten < HEALTH_REWRITE_MS) return;
    const { appId, shard } = this.identity();
    try {
      if (stale) {
        const since = this.staleSince ?? now;
        await localD1Env(this.env).DB.prepare(
          "INSERT INTO shard_health (app_id, shard, stale_since, oldest_at) VALUES (?, ?, ?, ?) ON CONFLICT(app_id, shard) DO UPDATE SET oldest_at = excluded.oldest_at",
        )
          .bind(appId, Number(shard), since, oldest)
          .run();
        this.sql.exec("INSERT INTO meta(key, value) VALUES ('stale_since', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", String(since));
        if (this.staleSince === null) log.error("batcher.stale", { app: appId, shard: Number(shard), oldest_s: Math.round((now - oldest) / 1000), backlog: this.bufferedRows });
        this.staleSince = since;
        this.healthWritten = now;
      } else {
        await localD1Env(this.env).DB.prepare("DELETE FROM shard_health WHERE app_id = ? AND shard = ?").bind(appId, Number(shard)).run();
        this.sql.exec("DELETE FROM meta WHERE key = 'stale_since'");
        this.staleSince = null;
      }
    } catch (err) {
      log.warn("batcher.health_not_written", { app: appId, shard: Number(shard), error: errorText(err) });
    }
  }

  /**
   * Which of `ids` this shard stored within the dedup window (`held`), and which it cannot
   * rule out (`maybe`, settled by the sink): a read, no row written.
   */
  async holds(ids: readonly string[]): Promise<{ held: string[]; maybe: string[] }> {
    if (this.retired || ids.length === 0) return { held: [], maybe: [] };
    // Calls waiting in the open group are stored first, so that their ids are answered as held.
    this.group.settle();
    const now = Date.now();
    const verdicts = this.dedup.classify(ids, now);
    const legacy = this.legacyHeld(ids, now);
    const held: string[] = [];
    const maybe: string[] = [];
    ids.forEach((id, i) => {
      if (verdicts[i] === "duplicate" || legacy.has(id)) held.push(id);
      else if (verdicts[i] === "check") maybe.push(id);
    });
    return { held, maybe };
  }

  /** ClickHouse holds these batches of this shard (the sink says so before it acknowledges them). */
  async stored(batchIds: readonly string[]): Promise<void> {
    if (this.retired) return;
    const now = Date.now();
    this.transact(() => this.dedup.confirmed(batchIds, now));
    await this.alarmBy(this.dedup.dueAt() ?? now + this.cfg.flush.maxAgeMs);
  }

  // The events' ids that the app's shards under its previous routing hold or may hold, while
  // that routing's dedup window lasts: each id asked of the shard it belonged to, other shards at once.
  private async heldElsewhere(events: readonly BufferedEvent[], target: IngestTarget): Promise<{ held: Set<string>; maybe: Set<string> }> {
    const byShard = new Map<number, string[]>();
    for (const e of events) {
      const shard = e.previousShard;
      // The same shard number is this very object: its own tiers answer below.
      if (shard === undefined || shard === target.shard) continue;
      let ids = byShard.get(shard);
      if (!ids) byShard.set(shard, (ids = []));
      ids.push(e.messageId);
    }
    if (byShard.size === 0) return { held: new Set(), maybe: new Set() };
    const location = locationOfId(this.ctx.id);
    const answers = await Promise.all([...byShard].map(([shard, ids]) => batcherStub(this.env, location, target.appId, shard).holds(ids)));
    return { held: new Set(answers.flatMap((a) => a.held)), maybe: new Set(answers.flatMap((a) => a.maybe)) };
  }

  // How many of the events this shard holds exactly: a read, no row written.
  private knownCount(events: readonly BufferedEvent[]): number {
    const ids = events.map((e) => e.messageId);
    return this.dedup.countHeld(ids) + this.legacyHeld(ids, Date.now()).size;
  }

  // The ids the `seen` table of an older version holds within the dedup window.
  private legacyHeld(ids: readonly string[], now: number): Set<string> {
    if (!this.legacySeen || ids.length === 0) return new Set();
    const byKey = new Map(ids.map((id) => [seenKey(id), id]));
    const rows = this.sql
      .exec<{ message_id: string }>("SELECT message_id FROM seen WHERE message_id IN (SELECT value FROM json_each(?)) AND at >= ?", JSON.stringify([...byKey.keys()]), now - DEDUP_WINDOW_MS)
      .toArray();
    return new Set(rows.flatMap((r) => byKey.get(r.message_id) ?? []));
  }

  /** Backlog and counters of this shard. */
  async stats(): Promise<BatcherStats> {
    this.group.settle();
    const pending = this.outbox.pendingCount();
    const storage = { ...this.sql.usage, bytes: this.sql.databaseSize };
    return {
      bufferedRows: this.bufferedRows,
      bufferedBytes: this.bufferedBytes,
      pendingMessages: pending,
      counters: this.tallies.sinceStart(),
      messages: this.messagesSent,
      queueBytes: { ...this.queueBytes },
      flushFailures: this.flushFailures,
      dedup: { heldIds: this.dedup.held, ...this.dedup.usage },
      storage,
      load: { events: this.load.events, deviceCalls: this.load.deviceCalls, since: this.load.events > 0 || this.load.deviceCalls > 0 ? this.load.since : null },
      stores: { ...this.stores },
    };
  }

  override async alarm(): Promise<void> {
    if (this.retired) return;
    const started = Date.now();
    const before = { messages: this.messagesSent, chunks: this.chunksSent };
    let failure: unknown = null;
    let events = 0;
    try {
      events = await this.flush();
    } catch (err) {
      failure = err;
    }
    // Counters leave even when rows cannot: they are how a stuck shard gets noticed.
    let counters = 0;
    try {
      counters = await this.shipTallies();
    } catch (err) {
      failure ??= err;
    }
    await this.reportHealth(Date.now());
    await this.considerShards(Date.now());
    // One line per flush that sent anything or failed; alarms that only settle dedup say nothing.
    const { appId, shard } = this.identity();
    const fields = {
      app: appId,
      shard: Number(shard),
      events,
      messages: this.messagesSent - before.messages,
      chunks: this.chunksSent - before.chunks,
      counters,
      backlog: this.bufferedRows,
      ms: Date.now() - started,
    };
    if (failure !== null) {
      // Our own backoff instead of the runtime's alarm retries, which give up after six.
      this.failures++;
      const delay = Math.min(60_000, 500 * 2 ** Math.min(this.failures, 7));
      log.error("batcher.flush_failed", { ...fields, attempt: this.failures, retry_ms: delay, error: errorText(failure) });
      this.flushFailures++;
      await this.ctx.storage.setAlarm(Date.now() + delay);
      return;
    }
    if (fields.messages + fields.counters > 0) log.info("batcher.flush", fields);
    this.failures = 0;
    this.transact(() => this.dedup.settle(Date.now()));
    this.pruneSeen();
    if (this.bufferedRows > 0) {
      const full = this.bufferedRows >= this.cfg.flush.maxRows || this.bufferedBytes >= this.cfg.flush.maxBytes;
      await this.ctx.storage.setAlarm(Date.now() + (full ? 0 : this.cfg.flush.maxAgeMs));
    } else if (this.tallies.waiting()) {
      await this.ctx.storage.setAlarm(Math.max(Date.now() + this.cfg.flush.maxAgeMs, this.lastTallyShip + TALLY_SHIP_INTERVAL_MS));
    } else {
      const due = this.dedup.dueAt();
      if (due !== null) await this.ctx.storage.setAlarm(Math.max(due, Date.now() + DEDUP_SETTLE_MS));
    }
  }

  /**
   * Sends the per-minute counters to the queue as the outbox sends rows: planned into a message
   * under a new stable batch id first, deleted only after the send succeeded, so a failed send
   * resends the same counters under the same id and ClickHouse drops the copy. At most every
   * few seconds; throws if the send fails.
   */
  async shipTallies(): Promise<number> {
    const now = Date.now();
    if (now - this.lastTallyShip < TALLY_SHIP_INTERVAL_MS) return 0;
    const { appId, shard } = this.identity();
    this.transact(() => this.recordTallies(this.outbox.takeTallies()));
    const pending = this.tallies.pending(appId, shard);
    for (const m of pending) {
      await eventsQueue(this.env, appId).send(m.body, { contentType: "text" });
      this.tallies.sent(m.batchId);
      // Charted as they leave, not once ClickHouse has them: an outage must not blank the charts.
      const sent = decodeQueueMessage(m.body);
      if (sent?.kind === "tallies") writePipelineCounts(this.env, sent.tallies.map((t) => ({ appId, stage: t.stage, reason: t.reason, n: t.n })));
    }
    if (pending.length > 0) this.lastTallyShip = now;
    return pending.length;
  }

  /**
   * Sends buffered rows to the queue. A message the queue can never take (over its size limit,
   * or refused alone twice while other messages went through) is archived to R2 as a dead letter
   * and counted, so it never holds up the rows behind it. Throws, keeping what was not sent,
   * when nothing could be sent at all: a queue that is down dead-letters nothing.
   */
  async flush(): Promise<number> {
    let sends = 0;
    let sentRows = 0;
    let delivered = false;
    let lastError: unknown = null;
    // Messages the queue refused in this flush: left out of later groups, decided at the end.
    const refused = new Map<string, Outgoing>();
    // Messages sent in this flush, their rows deleted in one go instead of one per send: a
    // restart before that resends them under the same batch ids, which the sink skips.
    const done = new Map<string, PlannedMessage>();
    const commit = (): void => {
      if (done.size === 0) return;
      sentRows += this.sent([...done.values()]);
      done.clear();
    };
    const unsent = (): PlannedMessage[] => this.outbox.pending().filter((m) => !refused.has(m.batchId) && !done.has(m.batchId));
    const send = async (batch: readonly Outgoing[]): Promise<boolean> => {
      sends++;
      try {
        await eventsQueue(this.env, this.identity().appId).sendBatch(batch.map((o) => ({ body: o.packed, contentType: "bytes" as const })));
      } catch (err) {
        lastError = err;
        return false;
      }
      for (const o of batch) {
        done.set(o.message.batchId, o.message);
        this.queueBytes.text += o.bytes;
        this.queueBytes.packed += o.packed.byteLength;
      }
      delivered = true;
      return true;
    };
    try {
      while (sends < MAX_SENDS_PER_ALARM) {
        let pending = unsent();
        if (pending.length === 0) {
          // The plan's first messages may all be sent already: their rows go before reading on.
          commit();
          const { appId, shard } = this.identity();
          this.outbox.plan(`${appId}:${shard}`);
          pending = unsent();
          if (pending.length === 0) break;
        }
        for (const group of groupForSend(pending)) {
          const fits: Outgoing[] = [];
          for (const message of group) {
            const { packed, bytes } = this.outbox.encode(message, this.identity().appId, this.origin());
            if (packed.byteLength > LIMITS.maxQueueMessageBytes) await this.deadLetter({ message, packed });
            else fits.push({ message, bytes, packed });
          }
          if (fits.length > 0 && !(await send(fits))) {
            // One at a time, to tell a message the queue will never take from a queue that takes nothing.
            for (const o of fits) if (fits.length === 1 || !(await send([o]))) refused.set(o.message.batchId, o);
          }
          if (sends >= MAX_SENDS_PER_ALARM) break;
        }
      }
      if (refused.size > 0) {
        if (!delivered) throw lastError;
        // The queue took other messages meanwhile: a second refusal is about the message itself.
        for (const o of refused.values()) if (!(await send([o]))) await this.deadLetter(o);
      }
    } finally {
      commit();
    }
    return sentRows;
  }

  // Calls' counters that rode in their chunk rows, added to the per-minute counters of their minute.
  private recordTallies(list: readonly ChunkTally[]): void {
    const byMinute = new Map<number, { at: number; accepted: number; deduplicated: number }>();
    for (const t of list) {
      const minute = tallyMinute(t.at);
      const sum = byMinute.get(minute) ?? { at: t.at, accepted: 0, deduplicated: 0 };
      sum.accepted += t.accepted;
      sum.deduplicated += t.deduplicated;
      byMinute.set(minute, sum);
      for (const c of t.capped) this.tallies.recordCapped(c.fingerprint, c.reason, c.n, t.at);
    }
    for (const s of byMinute.values()) {
      this.tallies.record("accepted", "", s.accepted, s.at);
      this.tallies.record("deduplicated", "", s.deduplicated, s.at);
    }
  }

  // Deletes sent messages and their rows, counting them; returns the rows.
  private sent(messages: readonly PlannedMessage[]): number {
    let rows = 0;
    let bytes = 0;
    const now = Date.now();
    this.transact(() => {
      for (const m of messages) rows += m.rows;
      const dropped = this.outbox.drop(messages);
      bytes = dropped.bytes;
      this.chunksSent += dropped.chunks.length;
      this.recordTallies(dropped.tallies);
      // The ids stay exact until ClickHouse confirms these batches.
      this.dedup.sentChunks(dropped.chunks, messages.map((m) => m.batchId), now);
      this.tallies.add("flushed", "", rows, now);
    });
    this.messagesSent += messages.length;
    this.bufferedRows -= rows;
    this.bufferedBytes -= bytes;
    return rows;
  }

  /**
   * Archives a message the queue cannot take, unchanged, where the dead-letter consumer puts
   * its own (so `npm run replay:dlq` lists it), then drops it from the buffer and counts it.
   */
  private async deadLetter({ message, packed }: Pick<Outgoing, "message" | "packed">): Promise<void> {
    const { appId } = this.identity();
    const now = new Date();
    const body = queueBodyText(packed) ?? "";
    // An EU batcher (made from the EU jurisdiction) keeps its dead letters in the EU bucket.
    await archiveBucket(this.env, locationOfId(this.ctx.id)).put(deadLetterKey(message.batchId, message.batchId, now), body, {
      httpMetadata: { contentType: "application/x-ndjson" },
      customMetadata: { app: appId, batch: message.batchId, kind: "events", rows: String(message.rows), attempts: "0", reason: UNSENDABLE },
    });
    log.error("batcher.dead_lettered", { app: appId, shard: Number(this.identity().shard), batch: message.batchId, events: message.rows, reason: UNSENDABLE });
    const bytes = this.transact(() => {
      this.tallies.add("dead_lettered", UNSENDABLE, message.rows, now.getTime());
      // Never confirmed, its ids stay exact for the dedup window: a resend is still a duplicate
      // of the archived copy, which a replay stores.
      const dropped = this.outbox.drop([message]);
      this.dedup.sentChunks(dropped.chunks, [message.batchId], now.getTime());
      this.recordTallies(dropped.tallies);
      return dropped.bytes;
    });
    this.bufferedRows -= message.rows;
    this.bufferedBytes -= bytes;
  }

  private identity(): { appId: string; shard: string } {
    if (this.known) return this.known;
    const meta = new Map(this.sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta").toArray().map((r) => [r.key, r.value]));
    const app = meta.get("app");
    const found = { appId: app ?? this.ctx.id.toString(), shard: meta.get("shard") ?? "0" };
    // Set once by the first ingest and never changed: remembered from then on.
    if (app !== undefined) this.known = found;
    return found;
  }

  // Where this shard's messages come from, for the sink to tell it which batches it stored.
  private origin(): { shard: number; eu?: true } {
    const shard = Number(this.identity().shard);
    return locationOfId(this.ctx.id) === "eu" ? { shard, eu: true } : { shard };
  }

  // An older version's `seen` table empties as its ids pass the dedup window, then goes.
  private pruneSeen(): void {
    const now = Date.now();
    if (!this.legacySeen || now - this.lastPrune < SEEN_PRUNE_INTERVAL_MS) return;
    this.lastPrune = now;
    this.sql.exec("DELETE FROM seen WHERE message_id IN (SELECT message_id FROM seen WHERE at < ? LIMIT 50000)", now - DEDUP_WINDOW_MS);
    if (this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM seen").one().n === 0) {
      this.sql.exec("DROP TABLE seen");
      this.legacySeen = false;
    }
  }
}
