import type { ClickHouseClient } from "@clickhouse/client-web";
import { config, decodeQueueMessage, decodeSinkMessage, EVENT_COLUMNS, messageIdOfRow, rowsWithBatchId, type Config, type SinkMessageHead, type TallyMessage } from "../../schemas";
import { batcherStub } from "../apps/location";
import { backoff } from "../lib/backoff";
import { clickhouseClient, clickHouseErrorName, describeClickHouseError, insertPacked, isDataError } from "../lib/clickhouse";
import { errorText, log } from "../lib/log";
import { writePipelineCounts } from "../lib/metrics";
import { INSERT_SETTINGS, recordCounts, tokenOf, type Count } from "./counters";
import { messageText } from "./dead-letters";
import { joinMembers, packText, queueBodyText, readFrame, unpackText } from "./packed";

const INSERT_ATTEMPTS = 3;

/**
 * A message of event rows as the sink reads it: its header, and its rows either packed as the
 * batcher stored them, each carrying its chunk's batch id (decision record 0034), or as lines
 * (messages of versions before, and dead letters replayed), which get the message's batch id.
 */
type EventBatch = SinkMessageHead & {
  kind: "events";
  count: number;
  packed: Uint8Array | null;
  lines: string[] | null;
};

type Batch = EventBatch | TallyMessage;

interface Delivery<T extends Batch> {
  message: Message<unknown>;
  sink: T;
}

/**
 * What one delivery did, for its log line and the `inserted` counters in Analytics Engine:
 * event rows inserted by app, rows not inserted again (batches already stored, earlier copies
 * dropped), messages dead-lettered and handed back, counters stored, time spent inserting.
 */
interface Report {
  stored: Map<string, number>;
  duplicates: number;
  deadLettered: number;
  retried: number;
  counters: number;
  insertMs: number;
  error?: string;
}

/** A delivery's ClickHouse client and settings, bindings and report, shared by its two inserts. */
interface Run {
  client: ClickHouseClient;
  clickhouse: Config["clickhouse"];
  env: Env;
  report: Report;
}

/** Writes the batches of one kind of message in one insert under one deduplication token. */
type Write<T> = (run: Run, batches: readonly T[], token: string) => Promise<void>;

// Events dead-lettered by this consumer, counted in the app's pipeline counters.
interface DeadLettered {
  messageId: string;
  appId: string;
  rows: number;
  reason: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Queue redelivery delay: doubles with each delivery up to 5-10 minutes, half of it random so
 * the consumers that met one outage do not all come back at the same second.
 * `retryDelaySeconds(3) // 4 to 8`.
 */
export function retryDelaySeconds(attempts: number, random = Math.random): number {
  return Math.max(1, Math.ceil(backoff(Math.max(0, attempts), 1000, 600_000, random) / 1000));
}

/** Pause before the next insert attempt within one delivery: 200-400 ms, then 400-800 ms. */
export function insertRetryDelayMs(attempt: number, random = Math.random): number {
  return backoff(attempt - 1, 400, 5_000, random);
}

/** Of `ids` (batch ids, or markers like `crash_drops:<batch id>`), those `ingest_batches` holds for `apps`. */
async function storedIds(client: ClickHouseClient, apps: readonly string[], ids: readonly string[]): Promise<Set<string>> {
  const rs = await client.query({
    query: "SELECT DISTINCT batch_id FROM ingest_batches WHERE app_id IN {apps:Array(String)} AND batch_id IN {ids:Array(String)}",
    query_params: { apps: [...new Set(apps)], ids },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ batch_id: string }>();
  return new Set(rows.map((r) => r.batch_id));
}

/** Batch ids among `deliveries` that ClickHouse already holds. */
async function alreadyStored(client: ClickHouseClient, deliveries: readonly Delivery<Batch>[]): Promise<Set<string>> {
  return storedIds(
    client,
    deliveries.map((d) => d.sink.appId),
    deliveries.map((d) => d.sink.batchId),
  );
}

// Query parameters travel in the request's URL, which a Worker's fetch takes up to 16 KB long
// (ClickHouse up to 1 MiB): ids are looked up in groups that leave room for the batch ids beside
// them and for the URL's escapes.
const LOOKUP_ID_CHARS = 5_000;

/** `items` in groups whose lengths add up to at most `max` each. */
function byLength(items: readonly string[], max: number): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let size = 0;
  for (const item of items) {
    if (group.length > 0 && size + item.length > max) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(item);
    size += item.length + 3;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * The rows the batchers marked for checking (`check`) whose messageId `event_ids` already holds
 * for the app: copies of events stored by an earlier batch, which tier 1 of decision record 0021
 * no longer held. Keyed by batch id, the rows' indices.
 */
async function storedBefore(client: ClickHouseClient, batches: readonly EventBatch[]): Promise<Map<string, Set<number>>> {
  const asked: Array<{ batchId: string; appId: string; index: number; id: string }> = [];
  for (const b of batches) {
    if (!b.check || b.check.length === 0) continue;
    const rows = linesOf(b);
    for (const index of b.check) {
      const row = rows[index];
      const id = row === undefined ? null : messageIdOfRow(row);
      if (id !== null) asked.push({ batchId: b.batchId, appId: b.appId, index, id });
    }
    // A delivery's messages unpack to up to a megabyte each: one at a time is held, and a
    // message whose rows must be left out is unpacked again.
    if (b.packed !== null) b.lines = null;
  }
  const found = new Map<string, Set<number>>();
  if (asked.length === 0) return found;
  const held = new Set<string>();
  for (const ids of byLength([...new Set(asked.map((a) => a.id))], LOOKUP_ID_CHARS)) {
    const rs = await client.query({
      query: `SELECT DISTINCT app_id, message_id FROM event_ids
              WHERE app_id IN {apps:Array(String)} AND id_hash IN (SELECT cityHash64(arrayJoin({ids:Array(String)})))
                AND message_id IN {ids:Array(String)} AND batch_id NOT IN {batches:Array(String)}`,
      // Rows of this very insert, met again by a retry after an answer that never came, are not copies.
      query_params: { apps: [...new Set(asked.map((a) => a.appId))], ids, batches: batches.flatMap((b) => b.chunks ?? [b.batchId]) },
      format: "JSONEachRow",
    });
    for (const r of await rs.json<{ app_id: string; message_id: string }>()) held.add(`${r.app_id}\n${r.message_id}`);
  }
  for (const a of asked) {
    if (!held.has(`${a.appId}\n${a.id}`)) continue;
    const rows = found.get(a.batchId) ?? new Set<number>();
    rows.add(a.index);
    found.set(a.batchId, rows);
  }
  return found;
}

/**
 * A message's rows, one per line: unpacked once, for the rows to check or to leave out. Rows
 * that do not unpack are none here: their members go to ClickHouse as they are, which refuses
 * them, and the message is set aside like any refused data instead of holding up the delivery.
 */
function linesOf(b: EventBatch): string[] {
  if (b.lines === null) {
    try {
      b.lines = b.packed === null ? [] : unpackText(b.packed).split("\n").filter((r) => r.length > 0);
    } catch {
      b.lines = [];
    }
  }
  return b.lines;
}

const writeEvents: Write<EventBatch> = async ({ client, clickhouse, env, report }, batches, token) => {
  // Each batch's rows as gzip members, which read end to end as one text of rows.
  const members: Uint8Array[] = [];
  const drop = await storedBefore(client, batches);
  const dropped: Count[] = [];
  for (const b of batches) {
    const skip = drop.get(b.batchId);
    if (b.packed !== null && !skip) members.push(b.packed);
    else {
      const lines = linesOf(b);
      const rows = skip ? lines.filter((_, i) => !skip.has(i)) : lines;
      // Rows that carry their chunk's batch id keep it.
      if (rows.length > 0) members.push(packText(`\n${rowsWithBatchId(rows, b.batchId)}`));
    }
    if (skip) dropped.push({ appId: b.appId, reason: "stored_before", n: skip.size });
  }
  if (members.length > 0) {
    await insertPacked(clickhouse, {
      table: "events",
      columns: EVENT_COLUMNS,
      format: "JSONCompactEachRow",
      body: joinMembers(members),
      settings: { ...INSERT_SETTINGS, insert_deduplication_token: token },
    });
  }
  for (const b of batches) {
    const skipped = drop.get(b.batchId)?.size ?? 0;
    report.stored.set(b.appId, (report.stored.get(b.appId) ?? 0) + b.count - skipped);
    report.duplicates += skipped;
  }
  await recordCounts(client, env, "deduplicated", dropped, batches.map((b) => b.batchId));
};

const crashDropsMarker = (batchId: string): string => `crash_drops:${batchId}`;

/**
 * The capped crashes of tally batches, per issue and hour, into `crash_drops_hourly`, skipping
 * batches whose drops are already there (0010_crash_drops_batches.sql records them in
 * `ingest_batches` under their marker). Runs before the counters' insert, so a batch whose
 * counters are stored has its drops stored too, and a retry after either insert failed writes
 * only what is missing.
 */
async function writeCrashDrops(client: ClickHouseClient, batches: readonly TallyMessage[]): Promise<void> {
  const withDrops = batches.filter((b) => b.tallies.some((t) => t.fingerprint !== undefined));
  if (withDrops.length === 0) return;
  const stored = await storedIds(
    client,
    withDrops.map((b) => b.appId),
    withDrops.map((b) => crashDropsMarker(b.batchId)),
  );
  const todo = withDrops.filter((b) => !stored.has(crashDropsMarker(b.batchId)));
  if (todo.length === 0) return;
  const values = todo.flatMap((b) =>
    b.tallies.flatMap((t) =>
      t.fingerprint === undefined ? [] : [{ app_id: b.appId, hour: Math.floor(t.minute / 3600) * 3600, fingerprint: t.fingerprint, reason: t.reason, dropped: t.n, batch_id: b.batchId }],
    ),
  );
  const token = crashDropsMarker(await tokenOf(todo.map((b) => b.batchId)));
  await client.insert({ table: "crash_drops_hourly", format: "JSONEachRow", values, clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token } });
}

// Counters carry their batch id, so `ingest_batches` learns which tally batches are stored.
// A capped crash's counter names its issue; the pipeline counts it by cap alone.
const writeTallies: Write<TallyMessage> = async ({ client, report }, batches, token) => {
  await writeCrashDrops(client, batches);
  const values = batches.flatMap((b) => b.tallies.map((t) => ({ app_id: b.appId, minute: t.minute, stage: t.stage, reason: t.reason, n: t.n, batch_id: b.batchId })));
  await client.insert({ table: "pipeline_minutely", format: "JSONEachRow", values, clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token } });
  report.counters += values.length;
};

/**
 * Inserts the batches of several messages as one insert. The deduplication token names exactly
 * this set of batches, so a retry of the same set is dropped by ClickHouse itself.
 */
async function insert<T extends Batch>(run: Run, deliveries: readonly Delivery<T>[], write: Write<T>): Promise<void> {
  // A batch id names the same rows forever, and a resent flush can bring two copies of one
  // batch in the same delivery: its rows go in once (every copy is acked with the outcome).
  const batches = [...new Map(deliveries.map((d) => [d.sink.batchId, d.sink])).values()];
  const token = await tokenOf(batches.map((b) => b.batchId));
  const started = Date.now();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await write(run, batches, token);
        return;
      } catch (err) {
        if (isDataError(err) || attempt >= INSERT_ATTEMPTS) throw err;
        await sleep(insertRetryDelayMs(attempt));
      }
    }
  } finally {
    run.report.insertMs += Date.now() - started;
  }
}

/**
 * The ClickHouse sink: one insert per queue batch and kind of message (event rows into
 * `events`, AppBatcher counters into `pipeline_minutely`, and before them the counters of
 * capped crashes into `crash_drops_hourly`). Batches already stored are
 * acknowledged without inserting; an outage retries the messages with growing delays; data
 * ClickHouse refuses is isolated message by message and the poison ones go to the dead-letter
 * queue, their events counted as dead-lettered in the app's pipeline counters. Each delivery
 * logs one line (`sink.batch`) and writes its apps' `inserted` counters to Analytics Engine.
 */
export async function handleSinkBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const started = Date.now();
  const clickhouse = config(env).clickhouse;
  const run: Run = { client: clickhouseClient(clickhouse), clickhouse, env, report: { stored: new Map(), duplicates: 0, deadLettered: 0, retried: 0, counters: 0, insertMs: 0 } };
  const dead: DeadLettered[] = [];
  const apps = new Set<string>();
  try {
    const events: Delivery<EventBatch>[] = [];
    const tallies: Delivery<TallyMessage>[] = [];
    for (const message of batch.messages) {
      const decoded = readMessage(message.body);
      if (!decoded) await deadLetter(run, message, "not a sink message");
      else {
        apps.add(decoded.appId);
        if (decoded.kind === "tallies") tallies.push({ message, sink: decoded });
        else events.push({ message, sink: decoded });
      }
    }
    await Promise.all([store(run, events, writeEvents, dead), store(run, tallies, writeTallies, dead)]);
    await countDeadLetters(run, dead);
  } catch (err) {
    run.report.error ??= errorText(err);
    throw err;
  } finally {
    await run.client.close();
    logDelivery(batch, [...apps], run.report, Date.now() - started);
    writePipelineCounts(env, [...run.report.stored].map(([appId, n]) => ({ appId, stage: "inserted", reason: "", n })));
  }
}

/**
 * A queue message as the sink reads it: a framed message's header alone, its rows left packed;
 * any other body unpacked and decoded. Null when it is no message.
 */
function readMessage(body: unknown): Batch | null {
  const frame = readFrame(body);
  if (frame) {
    // The header line alone decodes as a message of no rows.
    const head = decodeSinkMessage(frame.head);
    if (head?.count === undefined) return null;
    const { rows: _none, ...rest } = head;
    return { ...rest, kind: "events", count: head.count, packed: frame.packed, lines: null };
  }
  const decoded = decodeQueueMessage(queueBodyText(body));
  if (decoded === null || decoded.kind === "tallies") return decoded;
  const { rows, ...head } = decoded;
  return { ...head, count: rows.length, packed: null, lines: rows };
}

// Rows of a message of events; none for counters.
const eventCount = (b: Batch): number => (b.kind === "events" ? b.count : 0);

// One line per delivery; a warning when any message went back to the queue or to the dead letters.
function logDelivery(batch: MessageBatch<unknown>, apps: string[], r: Report, ms: number): void {
  const fields = {
    queue: batch.queue,
    messages: batch.messages.length,
    apps: apps.sort(),
    stored: [...r.stored.values()].reduce((a, b) => a + b, 0),
    duplicates: r.duplicates,
    dead_lettered: r.deadLettered,
    retried: r.retried,
    counters: r.counters,
    insert_ms: r.insertMs,
    ms,
    error: r.error,
  };
  if (r.retried + r.deadLettered > 0 || r.error !== undefined) log.warn("sink.batch", fields);
  else log.info("sink.batch", fields);
}

async function store<T extends Batch>(run: Run, deliveries: readonly Delivery<T>[], write: Write<T>, dead: DeadLettered[]): Promise<void> {
  if (deliveries.length === 0) return;
  let todo = deliveries;
  try {
    const stored = await alreadyStored(run.client, deliveries);
    todo = deliveries.filter((d) => !stored.has(d.sink.batchId));
    for (const d of deliveries) if (stored.has(d.sink.batchId)) run.report.duplicates += eventCount(d.sink);
    if (todo.length > 0) await insert(run, todo, write);
    todo = [];
    await acknowledge(run, deliveries);
  } catch (err) {
    if (!isDataError(err)) {
      // ClickHouse unavailable: the messages wait in the queue, the reason in the delivery's line.
      run.report.error ??= describeClickHouseError(err);
      retry(run, todo);
      return;
    }
    await isolate(run, todo, write, dead);
  }
}

function retry<T extends Batch>(run: Run, deliveries: readonly Delivery<T>[]): void {
  for (const d of deliveries) d.message.retry({ delaySeconds: retryDelaySeconds(d.message.attempts) });
  run.report.retried += deliveries.length;
}

async function isolate<T extends Batch>(run: Run, deliveries: readonly Delivery<T>[], write: Write<T>, dead: DeadLettered[]): Promise<void> {
  for (const d of deliveries) {
    try {
      await insert(run, [d], write);
      await acknowledge(run, [d]);
    } catch (err) {
      if (!isDataError(err)) retry(run, [d]);
      else if ((await deadLetter(run, d.message, describeClickHouseError(err), d.sink.appId)) && d.sink.kind === "events") {
        dead.push({ messageId: d.message.id, appId: d.sink.appId, rows: d.sink.count, reason: refusalReason(err) });
      }
    }
  }
}

/**
 * Acknowledges stored batches once their batchers know they are stored: a batcher keeps the
 * batch's ids in its exact tier until then (decision record 0021). A batcher that cannot be
 * told gets its messages again, which are found stored and told again.
 */
async function acknowledge<T extends Batch>({ env, report }: Run, deliveries: readonly Delivery<T>[]): Promise<void> {
  const byShard = new Map<string, { appId: string; shard: number; eu: boolean; batchIds: Set<string>; deliveries: Delivery<T>[] }>();
  for (const d of deliveries) {
    const shard = "shard" in d.sink ? d.sink.shard : undefined;
    if (shard === undefined) {
      d.message.ack();
      continue;
    }
    const eu = "eu" in d.sink && d.sink.eu === true;
    const key = `${eu ? "eu" : ""}\n${d.sink.appId}\n${shard}`;
    const group = byShard.get(key) ?? { appId: d.sink.appId, shard, eu, batchIds: new Set<string>(), deliveries: [] };
    group.batchIds.add(d.sink.batchId);
    group.deliveries.push(d);
    byShard.set(key, group);
  }
  await Promise.all(
    [...byShard.values()].map(async (g) => {
      try {
        await batcherStub(env, g.eu ? "eu" : "default", g.appId, g.shard).stored([...g.batchIds]);
        for (const d of g.deliveries) d.message.ack();
      } catch (err) {
        log.warn("sink.batcher_not_told", { app: g.appId, shard: g.shard, batches: g.batchIds.size, error: errorText(err) });
        for (const d of g.deliveries) d.message.retry({ delaySeconds: retryDelaySeconds(d.message.attempts) });
        report.retried += g.deliveries.length;
      }
    }),
  );
}

/** ClickHouse's name for why it refused data, as a counter's reason: `cannot_parse_datetime`. */
function refusalReason(err: unknown): string {
  return clickHouseErrorName(err)?.toLowerCase() ?? "refused_by_clickhouse";
}

async function deadLetter({ env, report }: Run, message: Message<unknown>, reason: string, appId?: string): Promise<boolean> {
  try {
    await env.DEAD_LETTERS.send(await messageText(message), { contentType: "text" });
    message.ack();
    log.error("sink.dead_lettered", { app: appId, message: message.id, attempts: message.attempts, reason });
    report.deadLettered++;
    return true;
  } catch (err) {
    log.error("sink.dead_letter_queue_unavailable", { app: appId, message: message.id, reason, error: errorText(err) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    report.retried++;
    return false;
  }
}

// The token names the queue messages, so a redelivered one counts once.
async function countDeadLetters({ client, env }: Run, dead: readonly DeadLettered[]): Promise<void> {
  const counts = dead.map((d) => ({ appId: d.appId, reason: d.reason, n: d.rows }));
  await recordCounts(client, env, "dead_lettered", counts, dead.map((d) => d.messageId));
}
