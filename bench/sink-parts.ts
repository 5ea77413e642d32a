// The sink's ClickHouse writes (docs/decisions/0018): parts written per insert (the events table
// plus each materialized view that gets rows), measured on the local engine with the migrations
// before 0013 and with all of them, and what that makes at 10k, 100k and 1M events/s: messages
// and queues, consumer inserts, and parts written per second with inserts written one by one
// (before) and gathered by ClickHouse (async inserts, after). Then the engine's CPU per row to
// insert the same rows in the consumer's format and others, and copied without parsing.
// `npx tsx bench/sink-parts.ts [--rows 7000]`
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { LIMITS } from "../schemas";
import { startClickHouseServer } from "../dev/clickhouse/server";
import { migrateClickHouse } from "../dev/migrate-clickhouse";
import { INSERT_SETTINGS } from "../workers/queue/counters";
import { report } from "./report";

const { values } = parseArgs({ options: { rows: { type: "string", default: "7000" } } });
const ROWS = Number(values.rows);
const MIGRATIONS = resolve(import.meta.dirname, "../schemas/sql/clickhouse");
// Cloudflare Queues: messages per consumer delivery and per second on one queue.
const DELIVERY_MESSAGES = 100;
const QUEUE_MESSAGES_PER_S = 5000;
// ClickHouse writes a gathered flush at least this often, or when this much data waits (INSERT_SETTINGS).
const FLUSH_INTERVAL_S = INSERT_SETTINGS.async_insert_busy_timeout_max_ms / 1000;
const FLUSH_MAX_BYTES = Number(INSERT_SETTINGS.async_insert_max_data_size);

// A delivery's rows: a mix of every event type (crashes, perf, network among tracks and pages),
// a third with redacted values, users identified half the time, all within the current hour.
const GENERATE = `
INSERT INTO staging (app_id, type, event, message_id, user_id, anonymous_id, session_id, timestamp, original_timestamp, sent_at, received_at,
  platform, os_name, app_version, device_type, browser, country, path, url, path_template,
  crash_type, crash_message, crash_fingerprint, crash_fatal, perf_metric, perf_value, perf_unit,
  net_method, net_host, net_path, net_template, net_status, net_outcome, duration_ms, properties, context, redactions, batch_id, row_format)
SELECT app, type, if(type IN ('track'), ['Order Completed', 'Product Viewed', 'Signed Up'][number % 3 + 1], ''), toString(generateUUIDv4(number)),
  if(number % 2 = 0, concat('user-', toString(number % 500)), ''), concat('anon-', toString(number % 700)), concat('s-', toString(number % 300)),
  ts, ts, ts, ts, ['web', 'ios', 'android'][number % 3 + 1], 'Mac OS', '2.4.1', 'desktop', 'Chrome', ['DE', 'US', 'FR', 'BR'][number % 4 + 1],
  concat('/products/', toString(number % 40)), concat('https://shop.example/products/', toString(number % 40)), '/products/:id',
  if(type = 'crash', 'TypeError', ''), if(type = 'crash', 'Cannot read properties of undefined', ''), if(type = 'crash', hex(number % 20), ''), toUInt8(type = 'crash' AND number % 4 = 0),
  if(type = 'perf', ['LCP', 'INP', 'CLS'][number % 3 + 1], ''), if(type = 'perf', (number % 4000) / 1.0, 0), if(type = 'perf', 'ms', ''),
  if(type = 'network', 'GET', ''), if(type = 'network', 'api.example.com', ''), if(type = 'network', concat('/orders/', toString(number)), ''), if(type = 'network', '/orders/:id', ''),
  if(type = 'network', 200, 0), if(type = 'network', 'ok', ''), if(type = 'network', (number % 900) / 1.0, 0),
  concat('{"plan":"pro","value":', toString(number % 10000), ',"sku":"sku-', toString(number % 97), '"}'),
  '{"page":{"title":"Shop"},"screen":{"width":1440,"height":900},"library":{"name":"telemetry-web","version":"1.4.2"}}',
  toUInt16(number % 3 = 0), concat(app, ':0:', toString(intDiv(number, 70))), 2
FROM (
  SELECT number, {app:String} AS app, now64(3) - (number % 60) AS ts,
         multiIf(number % 100 < 55, 'track', number % 100 < 75, 'page', number % 100 < 80, 'screen', number % 100 < 83, 'crash', number % 100 < 92, 'perf', 'network') AS type
  FROM numbers({rows:UInt64})
)`;

async function partsByTable(client: ClickHouseClient): Promise<Map<string, number>> {
  const rs = await client.query({ query: "SELECT table, count() AS n FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table", format: "JSONEachRow" });
  return new Map((await rs.json<{ table: string; n: string }>()).map((r) => [r.table, Number(r.n)]));
}

/** Parts written by one insert of the staged rows of `where`, by table. */
async function partsOfInsert(client: ClickHouseClient, where: string): Promise<Record<string, number>> {
  const before = await partsByTable(client);
  await client.command({ query: `INSERT INTO events SELECT * FROM staging WHERE ${where}`, clickhouse_settings: { max_partitions_per_insert_block: INSERT_SETTINGS.max_partitions_per_insert_block } });
  const after = await partsByTable(client);
  const out: Record<string, number> = {};
  for (const [table, n] of after) if (n > (before.get(table) ?? 0)) out[table] = n - (before.get(table) ?? 0);
  return out;
}

interface Variant {
  mixed: Record<string, number>;
  trackOnly: Record<string, number>;
  rowBytes: number;
  /** The engine's CPU per row, µs, to insert the staged rows in each format (with every view); null before. */
  insertCpu: Record<string, number> | null;
}

// The format the consumer sends (workers/queue/sink.ts), beside the text formats it could send,
// and rows copied within ClickHouse, which parse nothing.
const INSERT_FORMATS = ["JSONCompactEachRow", "JSONEachRow", "TabSeparated"] as const;
const CPU_ROUNDS = 5;

/**
 * Median CPU per row, µs, of inserting the staged rows into `events` in each format and as an
 * `INSERT … SELECT`. The engine runs in this process, so its CPU is this process's.
 */
async function insertCpu(client: ClickHouseClient, target: { url: string; username: string; password: string }): Promise<Record<string, number>> {
  const rows = ROWS;
  const bodies = new Map<string, string>();
  for (const f of INSERT_FORMATS) bodies.set(f, await (await client.query({ query: "SELECT * EXCEPT (inserted_at) FROM staging", format: f })).text());
  const auth = `Basic ${btoa(`${target.username}:${target.password}`)}`;
  const runs = new Map<string, number[]>();
  const timed = async (name: string, insert: () => Promise<void>): Promise<void> => {
    const c0 = process.cpuUsage();
    await insert();
    const dc = process.cpuUsage(c0);
    runs.set(name, [...(runs.get(name) ?? []), (dc.user + dc.system) / rows]);
  };
  for (let round = 0; round < CPU_ROUNDS; round++) {
    await timed("INSERT … SELECT", () => client.command({ query: "INSERT INTO events SELECT * FROM staging" }).then(() => undefined));
    for (const [f, body] of bodies) {
      await timed(f, async () => {
        const url = `${target.url}/?query=${encodeURIComponent(`INSERT INTO events (* EXCEPT (inserted_at)) FORMAT ${f}`)}&date_time_input_format=best_effort`;
        const res = await fetch(url, { method: "POST", body, headers: { authorization: auth } });
        if (!res.ok) throw new Error(`${f}: ${await res.text()}`);
        await res.body?.cancel();
      });
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return Object.fromEntries([...runs].map(([name, xs]) => [name, round1(median(xs))]));
}

async function measure(upTo: number): Promise<Variant> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-sink-parts-"));
  const dir = join(dataDir, "migrations");
  for (const f of await readdir(MIGRATIONS)) if (/^\d+/.test(f) && Number.parseInt(f, 10) <= upTo) await cp(join(MIGRATIONS, f), join(dir, f));
  const server = await startClickHouseServer({ dataDir: join(dataDir, "ch"), port: 0 });
  const target = { url: server.url, username: server.user, password: server.password };
  const client = createClient({ ...target, request_timeout: 300_000, log: { level: ClickHouseLogLevel.ERROR }, clickhouse_settings: { async_insert: 0 } });
  try {
    await migrateClickHouse({ ...target, dir });
    // Parts counted as written: none may merge away while they are counted.
    await client.command({ query: "SYSTEM STOP MERGES" });
    await client.command({ query: "CREATE TABLE staging AS events ENGINE = Memory" });
    await client.command({ query: GENERATE, query_params: { app: "app_bench_sink", rows: ROWS } });
    const rs = await client.query({ query: "SELECT avg(length(formatRow('JSONCompactEachRow', *))) AS b FROM staging", format: "JSONEachRow" });
    const rowBytes = Math.round(Number((await rs.json<{ b: number }>())[0]?.b ?? 0));
    const mixed = await partsOfInsert(client, "1");
    const trackOnly = await partsOfInsert(client, "type = 'track' AND redactions = 0");
    return { mixed, trackOnly, rowBytes, insertCpu: upTo === Number.POSITIVE_INFINITY ? await insertCpu(client, target) : null };
  } finally {
    await client.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const total = (parts: Record<string, number>): number => Object.values(parts).reduce((a, b) => a + b, 0);

// The AppBatchers' counters come in the same deliveries (every shard ships them every few
// seconds): their insert writes `pipeline_minutely` and its record in `ingest_batches`.
const TALLY_PARTS = 2;
// Rows of real SDK traffic are larger than the generated ones (user agent, library, screen and
// page context): about 71 to a 120 KB message, ~1,690 bytes each.
const SDK_ROW_BYTES = 1690;
// A consumer is handed a delivery at least this often while messages wait (max_batch_timeout).
const DELIVERY_TIMEOUT_S = 1;

interface Rate {
  eventsPerS: number;
  messagesPerS: number;
  queues: number;
  consumerInsertsPerS: number;
  before: { writesPerS: number; partsPerS: number };
  after: { writesPerS: number; partsPerS: number };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Before: each delivery is written alone (a delivery per 100 messages, at least one a second on
 * each queue). After: ClickHouse writes what arrived within a second, or sooner past the size
 * limit, whatever the number of queues and consumers.
 */
function rate(eventsPerS: number, rowBytes: number, partsBefore: number, partsAfter: number): Rate {
  const messagesPerS = eventsPerS / Math.floor(LIMITS.maxQueueMessageBytes / rowBytes);
  const queues = Math.ceil(messagesPerS / QUEUE_MESSAGES_PER_S);
  const deliveriesPerS = Math.max(messagesPerS / DELIVERY_MESSAGES, queues / DELIVERY_TIMEOUT_S);
  const flushesPerS = Math.max(1 / FLUSH_INTERVAL_S, (eventsPerS * rowBytes) / FLUSH_MAX_BYTES);
  return {
    eventsPerS,
    messagesPerS: Math.round(messagesPerS),
    queues,
    consumerInsertsPerS: round1(deliveriesPerS * 2),
    before: { writesPerS: round1(deliveriesPerS * 2), partsPerS: Math.round(deliveriesPerS * (partsBefore + TALLY_PARTS)) },
    after: { writesPerS: round1(flushesPerS * 2), partsPerS: Math.round(flushesPerS * (partsAfter + TALLY_PARTS)) },
  };
}

async function main(): Promise<void> {
  const before = await measure(12);
  const after = await measure(Number.POSITIVE_INFINITY);
  const [partsBefore, partsAfter] = [total(before.mixed), total(after.mixed)];
  console.log(`parts per events insert, mixed rows:   before ${partsBefore}  after ${partsAfter}`, after.mixed);
  console.log(`parts per events insert, plain tracks: before ${total(before.trackOnly)}  after ${total(after.trackOnly)}`);
  console.log(`the engine's CPU per row inserted, µs (median of ${CPU_ROUNDS}, every view): ${Object.entries(after.insertCpu ?? {}).map(([f, us]) => `${f} ${us}`).join(", ")}`);
  const sizes = [
    { name: "generated rows", rowBytes: after.rowBytes },
    { name: "SDK rows", rowBytes: SDK_ROW_BYTES },
  ];
  const tables = sizes.map(({ name, rowBytes }) => {
    const rowsPerMessage = Math.floor(LIMITS.maxQueueMessageBytes / rowBytes);
    const rates = [10_000, 100_000, 1_000_000].map((e) => rate(e, rowBytes, partsBefore, partsAfter));
    // Writes (events and counters) ClickHouse makes per 100,000 events at full deliveries, and gathered at 100k events/s.
    const per100k = { before: round1((100_000 / (rowsPerMessage * DELIVERY_MESSAGES)) * 2), after: round1((rates[1]?.after.writesPerS ?? 0) / 1) };
    console.log(`\n${name}: ${rowBytes} bytes a row → ${rowsPerMessage} rows a message; ClickHouse writes per 100k events: before ${per100k.before}, after ${per100k.after}`);
    console.log("  events/s  messages/s  queues  consumer inserts/s   before: writes/s  parts/s   after: writes/s  parts/s");
    for (const r of rates) {
      console.log(
        `${String(r.eventsPerS).padStart(10)}  ${String(r.messagesPerS).padStart(10)}  ${String(r.queues).padStart(6)}  ${String(r.consumerInsertsPerS).padStart(18)}  ${String(r.before.writesPerS).padStart(16)} ${String(r.before.partsPerS).padStart(8)}  ${String(r.after.writesPerS).padStart(15)} ${String(r.after.partsPerS).padStart(8)}`,
      );
    }
    return { name, rowBytes, rowsPerMessage, writesPer100kEvents: per100k, rates };
  });
  report("sink-parts", {
    figures: { rowsMeasured: ROWS, partsPerInsert: { before: before.mixed, after: after.mixed }, partsPerTrackInsert: { before: before.trackOnly, after: after.trackOnly }, insertCpuUsPerRow: after.insertCpu, tables },
    targets: [],
  });
}

await main();
