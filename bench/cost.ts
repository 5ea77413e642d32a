// The cost model you can run: drives a realistic load through a fresh local stack (three apps,
// one hot with 4 shards, Segment-shaped 100-event batches), counts every unit Cloudflare and
// ClickHouse bill for it, and prints dollars per million accepted events by component beside
// PostHog's and Segment's list prices, with the ClickHouse parts/s the design makes at scale.
// `npm run bench:cost -- [--events 100000] [--concurrency 4]`
import { readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ClickHouseTarget } from "../dev/clickhouse/target";
import { startLocalStack } from "../dev/stack";
import { CHUNK_MAX_PACKED_BYTES, chunksFor } from "../durable-objects/outbox";
import { BatchRequest, DEFAULT_CALL_GROUP, DEFAULT_HOT_SHARD, DEFAULT_POLICY, utf8Length } from "../schemas";
import { shardOfEvent } from "../workers/apps/shards";
import { placeOf, prepareBatch } from "../workers/ingest/pipeline";
import { parseTime } from "../workers/ingest/skew";
import { createRedactor } from "../workers/lib/redact";
import { INSERT_SETTINGS } from "../workers/queue/counters";
import { packText } from "../workers/queue/packed";
import { DO_MEMORY_GB, gbMonths, line, oneAppAtScale, partsRate, perRequestUsdPerMillion, queueChunks, queueOperations, total, usdPerMillion, type CostLine, type QueueMessage } from "./cost-model";
import { makeRequests, rng, SERVER_SHARE } from "./fixtures";
import { PRICES, VENDORS } from "./prices";
import { report } from "./report";
import { admin, agent, BodyTemplate, chQuery, cpuByPart, postBatch, workerEntry } from "./stack-load";

const { values } = parseArgs({ options: { events: { type: "string", default: "100000" }, concurrency: { type: "string", default: "4" } } });
const TARGET_EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const ADMIN_TOKEN = "bench-admin-token";
const RUN = `c${Date.now().toString(36)}`;
const APPS = [
  { id: `app_hot_${RUN}`, share: 0.6, shardCount: 4 },
  { id: `app_a_${RUN}`, share: 0.2, shardCount: 1 },
  { id: `app_b_${RUN}`, share: 0.2, shardCount: 1 },
];
// wrangler.toml's flush thresholds and the write-key and suppression caches' lifetimes.
const FLUSH_MAX_AGE_S = 1;
const FLUSH_MAX_BYTES = 1_048_576;
const D1_CACHE_S = 30;
const DEDUP_HOURS = 24;
const RETENTION_HOURS = 90 * 24;
const RATES = [10_000, 100_000, 1_000_000];
// wrangler.toml's SHARD_HOT_EVENTS_PER_S and SHARD_HOT_WINDOW_MS, and the requests' size here.
const EVENTS_PER_REQUEST = 100;
// The requests a Durable Object takes a second before it answers `overloaded` (DESIGN.md).
const DO_REQUESTS_PER_S = 1000;
// Requests of fewer events, as clients that send each event alone or flush every few send them.
const REQUEST_SIZES = [1, 10, 20, 100];
const TARGETS = { usdPerMillion: 0.1, rowsWrittenPerEvent: 0.05 };

/** A statement without rows to read back (SYSTEM, OPTIMIZE, INSERT … SELECT). */
async function chExec(ch: ClickHouseTarget, query: string, params: Record<string, string> = {}): Promise<void> {
  const u = new URL(ch.url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(`param_${k}`, v);
  const res = await fetch(u, { method: "POST", headers: { "X-ClickHouse-User": ch.username, "X-ClickHouse-Key": ch.password }, body: query });
  const text = await res.text();
  if (!res.ok) throw new Error(`${query.slice(0, 60)}: ${text}`);
}

// Active parts per table, by name: new names after an insert are the parts it wrote.
async function partNames(ch: ClickHouseTarget): Promise<Map<string, Set<string>>> {
  const rows = await chQuery<{ table: string; name: string }>(ch, "SELECT table, name FROM system.parts WHERE database = currentDatabase() AND active", {});
  const out = new Map<string, Set<string>>();
  for (const r of rows) out.set(r.table, (out.get(r.table) ?? new Set()).add(r.name));
  return out;
}

function newParts(before: Map<string, Set<string>>, after: Map<string, Set<string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [table, names] of after) {
    const n = [...names].filter((name) => !before.get(table)?.has(name)).length;
    if (n > 0) out[table] = n;
  }
  return out;
}

// Row bytes as the edge stores them, from the same pipeline the Worker runs, the shards a
// request reaches, and the chunk rows its calls store: on each shard its rows packed as the
// batcher packs them (`packed`, a call's bytes).
function prepared(body: string, shardCount: number): { events: number; bytes: number; shards: number; chunks: number; packed: number[] } {
  const req = BatchRequest.parse(JSON.parse(body));
  const out = prepareBatch(req.batch, {
    appId: "app_bench",
    receivedAt: Date.now(),
    sentAt: parseTime(req.sentAt),
    context: req.context,
    ip: "203.0.113.77",
    userAgent: "",
    geo: { country: "DE", region: "BE", city: "Berlin" },
    ipMode: "truncate",
    redactor: createRedactor(DEFAULT_POLICY, "ab".repeat(32)),
  });
  // New apps place events by device (decision record 0036): a request makes one ingest call per shard it reaches.
  const byShard = new Map<number, string[]>();
  for (const e of out.events) {
    const shard = shardOfEvent(placeOf(e), { count: shardCount, key: "device" });
    const rows = byShard.get(shard);
    if (rows) rows.push(e.encoded);
    else byShard.set(shard, [e.encoded]);
  }
  let chunks = 0;
  const packed: number[] = [];
  for (const rows of byShard.values()) {
    const text = `\n${rows.join("\n")}`;
    const bytes = packText(text).byteLength;
    packed.push(bytes);
    chunks += chunksFor(utf8Length(text), bytes);
  }
  return { events: out.events.length, bytes: out.bytes, shards: byShard.size, chunks, packed };
}

interface ShardStats {
  shard: number;
  bufferedRows: number;
  counters: Record<string, number>;
  messages: number;
  storage: { rowsRead: number; rowsWritten: number; bytes: number };
  queueBytes: { text: number; packed: number };
  dedup: { heldIds: number; filterIds: number; filterBytes: number };
  stores: { calls: number; groups: number; chunks: number };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const fmt = (usd: number): string => (usd >= 0.01 ? `$${usd.toFixed(3)}` : `$${usd.toPrecision(2)}`);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bench-cost-"));
  await mkdir(join(import.meta.dirname, "results"), { recursive: true });
  // No cron: its work is per minute, not per event.
  const stack = await startLocalStack(dir, { ADMIN_TOKEN, DASHBOARD: "off", LOCAL_CRON: "off" });
  const ch = stack.clickhouse;
  try {
    const keys: string[] = [];
    for (const app of APPS) {
      await admin(stack.edge, ADMIN_TOKEN, "/admin/apps", { id: app.id, name: app.id, rateLimit: 0, shardCount: app.shardCount });
      keys.push(((await admin(stack.edge, ADMIN_TOKEN, `/admin/apps/${app.id}/keys`, { name: "bench" })).key as { key: string }).key);
    }
    const r = rng(11);
    const templates = APPS.map(() => makeRequests(r, 20, EVENTS_PER_REQUEST, { runId: `${RUN}-@@`, devices: 20_000, serverShare: SERVER_SHARE }));
    const sizes = templates.map((list, a) => list.map((body) => prepared(body.replaceAll("@@", "0"), APPS[a]?.shardCount ?? 1)));
    const bodies = templates.map((list) => list.map((t) => new BodyTemplate(t)));
    const meanRowBytes = sizes.map((list) => sum(list.map((s) => s.bytes)) / Math.max(1, sum(list.map((s) => s.events))));

    // Merges stopped, every part an insert writes stays visible to be counted.
    await chExec(ch, "SYSTEM STOP MERGES");
    const partsBefore = await partNames(ch);
    // An idle object may be evicted, and its meter and counters start again at zero: the shards
    // are read every two seconds and figures that went down are added to what came before them.
    interface Carried {
      read: number;
      written: number;
      counters: Record<string, number>;
      messages: number;
      queueBytes: { text: number; packed: number };
      stores: { calls: number; groups: number; chunks: number };
    }
    const meters = new Map<string, { read: number; written: number; carried: Carried; last: ShardStats }>();
    const restarted = (s: ShardStats, m: { read: number; written: number; last: ShardStats }): boolean =>
      s.storage.rowsWritten < m.written || s.storage.rowsRead < m.read || s.messages < m.last.messages || s.stores.calls < m.last.stores.calls || Object.entries(m.last.counters).some(([k, v]) => (s.counters[k] ?? 0) < v);
    const sample = async (): Promise<ShardStats[]> => {
      const all: ShardStats[] = [];
      for (const app of APPS) {
        for (const s of (await admin(stack.edge, ADMIN_TOKEN, `/admin/apps/${app.id}/shards`)).shards as ShardStats[]) {
          const key = `${app.id}:${s.shard}`;
          const m = meters.get(key) ?? { read: 0, written: 0, carried: { read: 0, written: 0, counters: {}, messages: 0, queueBytes: { text: 0, packed: 0 }, stores: { calls: 0, groups: 0, chunks: 0 } }, last: s };
          if (restarted(s, m)) {
            const counters = { ...m.carried.counters };
            for (const [k, v] of Object.entries(m.last.counters)) counters[k] = (counters[k] ?? 0) + v;
            const queueBytes = { text: m.carried.queueBytes.text + m.last.queueBytes.text, packed: m.carried.queueBytes.packed + m.last.queueBytes.packed };
            const stores = { calls: m.carried.stores.calls + m.last.stores.calls, groups: m.carried.stores.groups + m.last.stores.groups, chunks: m.carried.stores.chunks + m.last.stores.chunks };
            m.carried = { read: m.carried.read + m.read, written: m.carried.written + m.written, counters, messages: m.carried.messages + m.last.messages, queueBytes, stores };
          }
          meters.set(key, { ...m, read: s.storage.rowsRead, written: s.storage.rowsWritten, last: s });
          all.push(s);
        }
      }
      return all;
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sample();
        await new Promise((done) => setTimeout(done, 2_000));
      }
    })();
    // The load goes to the Worker's own socket, past wrangler dev's proxy (bench/stack-load.ts).
    const entry = await workerEntry(stack.child.pid, stack.edge);
    const cpuBefore = cpuByPart(stack.child.pid);
    const requestsByApp = APPS.map(() => 0);
    let doCalls = 0;
    // Chunk rows the calls would store alone, by the same packing (`prepared`).
    let callRows = 0;
    const latencies: number[] = [];
    let accepted = 0;
    let counter = 0;
    const from = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (accepted < TARGET_EVENTS) {
          const x = Math.random();
          const a = x < (APPS[0]?.share ?? 0) ? 0 : x < (APPS[0]?.share ?? 0) + (APPS[1]?.share ?? 0) ? 1 : 2;
          const list = bodies[a] ?? [];
          const t = counter % list.length;
          const body = list[t]?.body(counter++) ?? "";
          doCalls += sizes[a]?.[t]?.shards ?? 1;
          callRows += sizes[a]?.[t]?.chunks ?? 1;
          const t0 = performance.now();
          const res = await postBatch(`${entry}/v1/batch`, keys[a] ?? "", body);
          latencies.push(performance.now() - t0);
          requestsByApp[a] = (requestsByApp[a] ?? 0) + 1;
          if (res.status === 200) accepted += (JSON.parse(res.text) as { accepted?: number }).accepted ?? 0;
        }
      }),
    );
    const loadSeconds = (Date.now() - from) / 1000;

    const apps = `[${APPS.map((a) => `'${a.id}'`).join(",")}]`;
    // Done when ClickHouse holds every row the batchers stored (a request's repeated ids are
    // answered as accepted and stored once) and no shard holds any.
    // A stage's total over its reasons: `capped` is `capped/issue_cap` plus `capped/app_cap`.
    const ofStage = (counters: Record<string, number>, stage: string): number => sum(Object.entries(counters).map(([k, v]) => (k === stage || k.startsWith(`${stage}/`) ? v : 0)));
    const counted = (stage: string): number => sum([...meters.values()].map((m) => ofStage(m.carried.counters, stage) + ofStage(m.last.counters, stage)));
    let stored = 0;
    while (Date.now() - from < 300_000) {
      stored = Number((await chQuery<{ n: string }>(ch, "SELECT count() AS n FROM events WHERE app_id IN {apps:Array(String)}", { apps }))[0]?.n ?? 0);
      const held = sum([...meters.values()].map((m) => m.last.bufferedRows));
      if (stored >= counted("accepted") && held === 0 && counted("accepted") > 0) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    const activeSeconds = (Date.now() - from) / 1000;
    // Their ids move to dedup's filters a minute after ClickHouse confirmed them (an alarm per
    // shard, counted in the flush alarms above): that writes rows too.
    while (Date.now() - from < 600_000 && sum([...meters.values()].map((m) => m.last.dedup.heldIds)) > 0) await new Promise((done) => setTimeout(done, 1_000));
    const cpuAfter = cpuByPart(stack.child.pid);
    const workerdCpuS = (cpuAfter.workerd ?? 0) - (cpuBefore.workerd ?? 0);
    const clickhouseCpuS = (cpuAfter.clickhouse ?? 0) - (cpuBefore.clickhouse ?? 0);

    // Durable Objects, from each shard's own meter.
    sampling = false;
    await sampler;
    const shards = await sample();
    const rowsRead = sum([...meters.values()].map((m) => m.carried.read + m.read));
    const rowsWritten = sum([...meters.values()].map((m) => m.carried.written + m.written));
    // What the shards' calls stored: calls, the stores they took (calls that come together are one, decision record 0040), chunk rows.
    const storedBy = (k: "calls" | "groups" | "chunks"): number => sum([...meters.values()].map((m) => m.carried.stores[k] + m.last.stores[k]));
    const stores = { calls: storedBy("calls"), groups: storedBy("groups"), chunks: storedBy("chunks") };
    const dbBytes = sum(shards.map((s) => s.storage.bytes));
    const requests = sum(requestsByApp);
    // One alarm per shard per flush age while it holds rows, and one more per full flush.
    const alarms = Math.ceil(shards.length * activeSeconds / FLUSH_MAX_AGE_S + (sum(meanRowBytes) / APPS.length) * accepted / FLUSH_MAX_BYTES);
    const meanLatencyS = sum(latencies) / Math.max(1, latencies.length) / 1000;
    // A shard is billed while active: its calls' wall time, never more than the whole run per shard.
    const doActiveSeconds = Math.min(shards.length * activeSeconds, doCalls * meanLatencyS);

    // Queue messages: counted by each shard as sent, with their rows; sized from the rows' stored
    // bytes, message by message where ClickHouse's ingest_batches names them.
    const eventMessages = sum([...meters.values()].map((m) => m.carried.messages + m.last.messages));
    const flushedRows = counted("flushed");
    const rowsPerMessage = flushedRows / Math.max(1, eventMessages);
    const batches = await chQuery<{ app_id: string; batch_id: string; rows: string }>(
      ch,
      "SELECT app_id, batch_id, max(rows) AS rows FROM ingest_batches WHERE app_id IN {apps:Array(String)} GROUP BY app_id, batch_id",
      { apps },
    );
    const isTally = (id: string): boolean => /:t\d+$/.test(id);
    const eventBatches = batches.filter((b) => !isTally(b.batch_id) && !b.batch_id.startsWith("crash_drops:"));
    const tallyMessages = batches.filter((b) => isTally(b.batch_id)).length;
    const log = readFileSync(join(dir, "stack.log"), "utf8");
    const retried = sum([...log.matchAll(/retrying (\d+) messages/g)].map((m) => Number(m[1])));
    const deadLetters = [...log.matchAll(/sent to the dead-letter queue|archived as a dead letter/g)].length;
    const rowBytesOf = (appId: string): number => meanRowBytes[APPS.findIndex((a) => a.id === appId)] ?? 0;
    const meanAll = sum(meanRowBytes) / APPS.length;
    // The shards send event messages packed (gzip): each message's text bytes scaled by the
    // packed-to-text ratio of everything they sent.
    const textBytes = sum([...meters.values()].map((m) => m.carried.queueBytes.text + m.last.queueBytes.text));
    const packedBytes = sum([...meters.values()].map((m) => m.carried.queueBytes.packed + m.last.queueBytes.packed));
    const packing = textBytes > 0 ? packedBytes / textBytes : 1;
    const sized =
      eventBatches.length === eventMessages
        ? eventBatches.map((b) => ({ bytes: (Number(b.rows) * rowBytesOf(b.app_id) + 256) * packing, deliveries: 1 }))
        : Array.from({ length: eventMessages }, () => ({ bytes: (rowsPerMessage * meanAll + 256) * packing, deliveries: 1 }));
    const messages: QueueMessage[] = [...sized, ...Array.from({ length: tallyMessages }, () => ({ bytes: 2_000, deliveries: 1 }))];
    const meanChunks = sum(messages.map((m) => queueChunks(m.bytes))) / Math.max(1, messages.length);
    const queueOps = queueOperations(messages) + retried * meanChunks;
    // A consumer invocation takes up to 100 messages: at least this many.
    const consumerCalls = Math.ceil(messages.length / 100);

    // Counters still leave the shards a few seconds after the load: wait for a quiet moment (no
    // new part for 6 s), so the probe below is the only writer.
    let partsAfter = await partNames(ch);
    for (let i = 0; i < 10; i++) {
      await new Promise((done) => setTimeout(done, 6_000));
      const again = await partNames(ch);
      const quiet = Object.keys(newParts(partsAfter, again)).length === 0;
      partsAfter = again;
      if (quiet) break;
    }
    const runParts = newParts(partsBefore, partsAfter);
    const eventInserts = runParts.events ?? 0;
    // A full delivery's rows (100 messages), copied under another app id, written at once.
    const probeRows = Math.min(stored, Math.round(rowsPerMessage * 100));
    await chExec(
      ch,
      "INSERT INTO events SETTINGS async_insert = 0 SELECT * REPLACE ('app_cost_probe' AS app_id, 'probe' AS batch_id) FROM (SELECT * FROM events WHERE app_id = {app:String} LIMIT {n:UInt32})",
      { app: APPS[0]?.id ?? "", n: String(probeRows) },
    );
    const probeParts = newParts(partsAfter, await partNames(ch));
    const partsPerInsert = sum(Object.values(probeParts));
    await chExec(ch, "SYSTEM START MERGES");
    for (const table of Object.keys(runParts)) await chExec(ch, `OPTIMIZE TABLE ${table} FINAL`);
    const disk = await chQuery<{ table: string; bytes: string }>(ch, "SELECT table, sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = currentDatabase() AND active GROUP BY table ORDER BY bytes DESC", {});
    const diskBytes = sum(disk.map((d) => Number(d.bytes)));
    const eventsBytes = Number(disk.find((d) => d.table === "events")?.bytes ?? 0);

    const n = accepted;
    const lines: CostLine[] = [
      line("Workers requests", requests + consumerCalls, n, PRICES.workerRequests, `${requests} edge requests + ≥ ${consumerCalls} consumer invocations (up to 100 messages each)`),
      line("Workers CPU", workerdCpuS * 1000, n, PRICES.workerCpuMs, "utime+stime of the workerd process running the Worker (not wrangler dev's proxy) from the first request until ClickHouse held every event; lumps Worker, Durable Objects and consumer together (an upper bound: DO CPU is billed as duration)"),
      line("DO requests", doCalls + alarms, n, PRICES.doRequests, `${doCalls} ingest calls (one per shard a request's devices reach) + ~${alarms} alarms (one per shard per ${FLUSH_MAX_AGE_S} s flush age while active, one per ${FLUSH_MAX_BYTES} bytes flushed)`),
      line("DO duration", doActiveSeconds * DO_MEMORY_GB, n, PRICES.doDurationGbS, `min(shards × active seconds, calls × mean request latency ${(meanLatencyS * 1000).toFixed(1)} ms) × 128 MB`),
      line("DO SQLite rows written", rowsWritten, n, PRICES.doRowsWritten, "every statement's cursor rowsWritten, summed by the AppBatcher (stats().storage)"),
      line("DO SQLite rows read", rowsRead, n, PRICES.doRowsRead, "every statement's cursor rowsRead"),
      line("DO SQLite storage", gbMonths(dbBytes, DEDUP_HOURS), n, PRICES.doStorageGbMonth, `databaseSize of the shards after the drain (${dbBytes} bytes), held ${DEDUP_HOURS} h (the dedup window)`),
      line("DO setAlarm writes (bound)", doCalls + alarms, n, PRICES.doRowsWritten, "secondary sources bill each setAlarm() as a row written; at most one per call and alarm; not in the total", true),
      line("Queues", queueOps, n, PRICES.queueOperations, `${eventMessages} event + ${tallyMessages} counter messages (${rowsPerMessage.toFixed(1)} rows each; event messages packed to ${(100 * packing).toFixed(0)} % of their text), ${meanChunks.toFixed(2)} × 64 KB each, write + read + delete, ${retried} retries`),
      line("R2 class A", deadLetters, n, PRICES.r2ClassA, `${deadLetters} dead letters archived; no source maps uploaded in the run (a crash's map is read at most once a minute per file and isolate)`),
      line("D1 rows read", APPS.length * Math.ceil(activeSeconds / D1_CACHE_S) * 3, n, PRICES.d1RowsRead, `write key (2 rows) and suppression list (≤ 1) read once per ${D1_CACHE_S} s per app and isolate; one isolate here`),
      line("D1 rows written", 0, n, PRICES.d1RowsWritten, "none per event (shard health rows only when a shard goes stale)"),
      line("ClickHouse Cloud compute (estimate)", clickhouseCpuS / 3600, n, PRICES.clickhouseComputeVcpuHour, `${clickhouseCpuS.toFixed(1)} CPU s of the local ClickHouse (chDB) for the inserts and their views, as vCPU-hours at the Scale tier's rate`),
      line("ClickHouse Cloud storage (estimate)", (2 * (diskBytes / 1e12) * RETENTION_HOURS) / 730, n, PRICES.clickhouseStorageTbMonth, `${(diskBytes / Math.max(1, stored)).toFixed(1)} bytes on disk per event after merging (events ${(eventsBytes / Math.max(1, stored)).toFixed(1)}), kept 90 days, data + one backup`),
    ];
    const cloudflare = total(lines.filter((l) => !l.component.startsWith("ClickHouse")));
    const all = total(lines);

    // Gathered by ClickHouse (INSERT_SETTINGS: async_insert), a table is written once per busy
    // timeout, or each time the buffer fills, and never more often than inserts arrive.
    const flushEveryS = INSERT_SETTINGS.async_insert_busy_timeout_max_ms / 1000;
    const parts = RATES.map((eps) => {
      const p = partsRate(eps, rowsPerMessage, partsPerInsert);
      const flushes = Math.min(p.insertsPerSecond, Math.max(1 / flushEveryS, (eps * meanAll) / Number(INSERT_SETTINGS.async_insert_max_data_size)));
      return { ...p, gatheredPartsPerSecond: flushes * partsPerInsert };
    });
    // One app taking the whole rate: automatic sharding raises its count, and a server's
    // request then reaches more shards, each one a Durable Object request. The run's own ingest
    // calls give way to that app's; everything else per event as measured.
    // A call is a Durable Object request and writes its chunk rows: both scale with the calls.
    const ingestCallsUsd = usdPerMillion(doCalls, n, PRICES.doRequests) + usdPerMillion(Math.min(stores.chunks, rowsWritten), n, PRICES.doRowsWritten);
    const hot = sizes[0] ?? [];
    const devices = hot.slice(Math.round(hot.length * SERVER_SHARE));
    const servers = hot.slice(0, Math.round(hot.length * SERVER_SHARE));
    const rowsPerCall = {
      device: sum(devices.map((s) => s.chunks)) / Math.max(1, devices.length),
      // A server's request over many shards: each call holds a few events, in one chunk row.
      serverCall: servers.length > 0 ? sum(servers.map((s) => s.chunks)) / Math.max(1, sum(servers.map((s) => s.shards))) : 1,
    };
    // The share of a chunk row each kind of call fills packed, for the calls a shard stores together.
    const fill = {
      device: sum(devices.flatMap((s) => s.packed)) / Math.max(1, devices.length) / CHUNK_MAX_PACKED_BYTES,
      serverCall: sum(servers.flatMap((s) => s.packed)) / Math.max(1, sum(servers.map((s) => s.shards))) / CHUNK_MAX_PACKED_BYTES,
    };
    const grouping = { window: DEFAULT_CALL_GROUP, fill };
    const callPricesAtScale = { doRequest: PRICES.doRequests, rowWritten: PRICES.doRowsWritten };
    const oneApp = RATES.map((eps) => {
      const scale = oneAppAtScale(eps, EVENTS_PER_REQUEST, SERVER_SHARE, DEFAULT_HOT_SHARD, callPricesAtScale, rowsPerCall, grouping);
      const alone = oneAppAtScale(eps, EVENTS_PER_REQUEST, SERVER_SHARE, DEFAULT_HOT_SHARD, callPricesAtScale, rowsPerCall);
      const rest = cloudflare - ingestCallsUsd;
      return {
        ...scale,
        cloudflareUsdPerMillion: rest + scale.ingestUsdPerMillion,
        serversOnlyUsdPerMillion: rest + scale.serverIngestUsdPerMillion,
        callsStoredAlone: { rowsPerCall: alone.rowsPerCall, cloudflareUsdPerMillion: rest + alone.ingestUsdPerMillion, serversOnlyUsdPerMillion: rest + alone.serverIngestUsdPerMillion },
      };
    });
    // The same per-event costs, for a device sending requests of fewer events: each request its
    // own edge request, Durable Object call and chunk row, whatever the shard count.
    const callPrices = { workerRequest: PRICES.workerRequests, doRequest: PRICES.doRequests, rowWritten: PRICES.doRowsWritten };
    const perEventRest = cloudflare - usdPerMillion(requests, n, PRICES.workerRequests) - ingestCallsUsd;
    const bySize = REQUEST_SIZES.map((k) => ({ eventsPerRequest: k, cloudflareUsdPerMillion: perEventRest + perRequestUsdPerMillion(k, callPrices, 1) }));
    console.log(`\n${n} events accepted in ${loadSeconds.toFixed(1)} s (${counted("deduplicated")} of them repeated ids, stored once), ${stored} in ClickHouse after ${activeSeconds.toFixed(1)} s, ${shards.length} shards\n`);
    console.log("component                                 per event      $ per million events");
    for (const l of lines) console.log(`${l.component.padEnd(40)} ${l.perEvent.toPrecision(3).padStart(10)} ${l.unit.padEnd(14).slice(0, 14)} ${fmt(l.usdPerMillion).padStart(10)}${l.excluded ? " (not in total)" : ""}`);
    console.log(`${"Cloudflare total".padEnd(66)}${fmt(cloudflare).padStart(10)}`);
    console.log(`${"with the ClickHouse Cloud estimate".padEnd(66)}${fmt(all).padStart(10)}`);
    console.log(`PostHog list price: $${VENDORS.posthog.usdPerMillion.from}–$${VENDORS.posthog.usdPerMillion.to} per million; Segment: $${VENDORS.segment.usdPerMillion.from}–$${VENDORS.segment.usdPerMillion.to}`);
    console.log(`\nClickHouse: ${eventInserts} inserts into events here (${(eventInserts / activeSeconds).toFixed(2)}/s), ${partsPerInsert} parts per insert of ${probeRows} rows (${JSON.stringify(probeParts)})`);
    console.log("events/s     inserts/s    parts/s  parts/s gathered (one insert per delivery of 100 messages; gathered: async_insert)");
    for (const p of parts) console.log(`${String(p.eventsPerSecond).padEnd(12)} ${p.insertsPerSecond.toFixed(1).padStart(9)} ${p.partsPerSecond.toFixed(0).padStart(10)} ${p.gatheredPartsPerSecond.toFixed(0).padStart(16)}`);
    console.log(
      `\none app at that rate, automatic sharding (${DEFAULT_HOT_SHARD.eventsPerSecond} events/s a shard over ${DEFAULT_HOT_SHARD.windowMs / 1000} s), ${EVENTS_PER_REQUEST}-event requests, ${SERVER_SHARE * 100} % of them from servers (all: the last column):`,
    );
    console.log(
      `each call a Durable Object request and its chunk rows: alone, ${rowsPerCall.device.toFixed(2)} for a device's request and ${rowsPerCall.serverCall.toFixed(2)} for a server's call, which fill ${(100 * fill.device).toFixed(1)} % and ${(100 * fill.serverCall).toFixed(1)} % of a row packed; a shard stores the calls that come within ${DEFAULT_CALL_GROUP.windowMs} ms of each other together (up to ${DEFAULT_CALL_GROUP.maxCalls}), sharing rows`,
    );
    console.log(`this run: ${stores.calls} calls in ${stores.groups} stores, ${stores.chunks} chunk rows (${callRows} had each call been stored alone) of ${rowsWritten} rows written`);
    console.log("events/s     shards   per shard   DO calls/request   calls/s a shard   rows/call   calls and rows $/M   Cloudflare $/M   servers only $/M   (calls stored alone: Cloudflare, servers only)");
    for (const a of oneApp) {
      console.log(
        `${String(a.eventsPerSecond).padEnd(12)} ${String(a.shards).padStart(6)} ${a.perShard.toFixed(0).padStart(11)} ${a.callsPerRequest.toFixed(1).padStart(18)} ${a.callsPerShardPerSecond.toFixed(0).padStart(17)} ${a.rowsPerCall.toFixed(2).padStart(11)} ${fmt(a.ingestUsdPerMillion).padStart(20)} ${fmt(a.cloudflareUsdPerMillion).padStart(16)} ${fmt(a.serversOnlyUsdPerMillion).padStart(18)}   (${fmt(a.callsStoredAlone.cloudflareUsdPerMillion)}, ${fmt(a.callsStoredAlone.serversOnlyUsdPerMillion)})`,
      );
    }
    const overloaded = oneApp.filter((a) => a.callsPerShardPerSecond > DO_REQUESTS_PER_S);
    if (overloaded.length > 0) {
      console.log(`past a Durable Object's ~${DO_REQUESTS_PER_S} requests/s at ${overloaded.map((a) => a.eventsPerSecond).join(", ")} events/s: a server's request of many users reaches nearly every shard, whatever the count`);
    }
    console.log(`\na device's requests of fewer events (each an edge request, a Durable Object call and its chunk row; the rest per event as in this run):`);
    console.log(bySize.map((b) => `${b.eventsPerRequest} a request: ${fmt(b.cloudflareUsdPerMillion)}`).join("   "));

    report("cost", {
      figures: {
        run: { events: n, stored, batchers: { accepted: counted("accepted"), duplicates: counted("deduplicated"), capped: counted("capped"), flushed: counted("flushed") }, loadSeconds, activeSeconds, concurrency: CONCURRENCY, shards: shards.length, requests, meanRequestMs: meanLatencyS * 1000, stores, callRowsAlone: callRows },
        units: { doCalls, alarms, rowsRead, rowsWritten, rowsWrittenPerEvent: rowsWritten / n, rowsReadPerEvent: rowsRead / n, doDatabaseBytes: dbBytes, eventMessages, tallyMessages, consumerCalls, rowsPerMessage, packing, queueOps, retried, deadLetters, workerdCpuUsPerEvent: (workerdCpuS * 1e6) / n, clickhouseCpuUsPerEvent: (clickhouseCpuS * 1e6) / n },
        usdPerMillion: Object.fromEntries(lines.map((l) => [l.component, Number(l.usdPerMillion.toPrecision(3))])),
        lines,
        totalUsdPerMillion: { cloudflare, withClickHouse: all },
        vendors: VENDORS,
        clickhouse: { insertsPerSecondHere: eventInserts / activeSeconds, eventInserts, partsDuringRun: runParts, partsPerInsert, probeRows, probeParts, bytesOnDiskPerEvent: diskBytes / Math.max(1, stored), eventsBytesPerEvent: eventsBytes / Math.max(1, stored), disk },
        partsPerSecond: parts,
        oneAppAtScale: oneApp,
        byRequestSize: bySize,
        prices: PRICES,
      },
      targets: [
        { name: "Cloudflare cost per million accepted events", target: `<= $${TARGETS.usdPerMillion}`, met: cloudflare <= TARGETS.usdPerMillion },
        ...oneApp
          .filter((a) => a.eventsPerSecond === 100_000)
          .flatMap((a) => [
            { name: `the same for one app at 100,000 events/s (automatic sharding, ${SERVER_SHARE * 100} % of requests from servers)`, target: `<= $${TARGETS.usdPerMillion}`, met: a.cloudflareUsdPerMillion <= TARGETS.usdPerMillion },
            { name: "the same with every request a server's batch of many users", target: `<= $${TARGETS.usdPerMillion}`, met: a.serversOnlyUsdPerMillion <= TARGETS.usdPerMillion },
          ]),
        { name: "DO SQLite rows written per accepted event", target: `<= ${TARGETS.rowsWrittenPerEvent}`, met: rowsWritten / n <= TARGETS.rowsWrittenPerEvent },
        { name: "stored by the batchers minus stored in ClickHouse", target: "= 0", met: stored === counted("accepted") },
      ],
    });
  } finally {
    agent.destroy();
    await stack.stop();
    // The stack's output (the Worker's errors among it), for reading after the run.
    await copyFile(join(dir, "stack.log"), join(import.meta.dirname, "results", "cost-stack.log")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
