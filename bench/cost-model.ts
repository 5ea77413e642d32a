// The arithmetic of the cost benchmark (bench/cost.ts): billable units measured over a run,
// multiplied by published prices (bench/prices.ts), as dollars per million accepted events.
import { Company } from "../durable-objects/call-group";
import { shardsWanted, type HotShard } from "../workers/apps/shards";
import type { Price } from "./prices";

/** Bytes Cloudflare Queues bills as one operation (a KB is 1,000 bytes there). */
export const QUEUE_CHUNK_BYTES = 64_000;
/** Internal metadata Queues adds to every message, counted in its size. */
export const QUEUE_MESSAGE_OVERHEAD_BYTES = 100;
/** The memory every Durable Object is billed for, in GB. */
export const DO_MEMORY_GB = 0.128;
const HOURS_PER_MONTH = 730;

/** Operations one write, read or delete of a message costs: one per started 64 KB. */
export function queueChunks(messageBytes: number): number {
  return Math.max(1, Math.ceil((messageBytes + QUEUE_MESSAGE_OVERHEAD_BYTES) / QUEUE_CHUNK_BYTES));
}

/** One message as the queue saw it: its size and how many times it was delivered (1 without retries). */
export interface QueueMessage {
  bytes: number;
  deliveries: number;
}

/** Queue operations of messages written once, read once per delivery and deleted once. */
export function queueOperations(messages: readonly QueueMessage[]): number {
  let ops = 0;
  for (const m of messages) ops += queueChunks(m.bytes) * (2 + Math.max(1, m.deliveries));
  return ops;
}

/** GB-months of storage held by `bytes` for `hours`. */
export function gbMonths(bytes: number, hours: number): number {
  return (bytes / 1e9) * (hours / HOURS_PER_MONTH);
}

/** Dollars per million events for `units` used by `events` events at `price`. */
export function usdPerMillion(units: number, events: number, price: Pick<Price, "usd" | "per">): number {
  if (events <= 0) return 0;
  return (units / events) * 1e6 * (price.usd / price.per);
}

/** One billable line: what was counted over the run, per event, and what a million events cost. */
export interface CostLine {
  component: string;
  unit: string;
  units: number;
  perEvent: number;
  usdPerMillion: number;
  /** Left out of the total (a bound, or a figure whose price could not be grounded). */
  excluded?: boolean;
  how: string;
}

/** A line for `units` of `price` used by `events` events. */
export function line(component: string, units: number, events: number, price: Price, how: string, excluded = false): CostLine {
  return { component, unit: price.unit, units, perEvent: events > 0 ? units / events : 0, usdPerMillion: usdPerMillion(units, events, price), how, ...(excluded ? { excluded } : {}) };
}

/** The sum of the lines that are not excluded. */
export function total(lines: readonly CostLine[]): number {
  return lines.reduce((sum, l) => sum + (l.excluded ? 0 : l.usdPerMillion), 0);
}

/** Inserts and parts per second ClickHouse gets at one event rate. */
export interface PartsRate {
  eventsPerSecond: number;
  insertsPerSecond: number;
  partsPerSecond: number;
}

/**
 * What the current consumer makes of `eventsPerSecond`: one insert per queue delivery of up to
 * `messagesPerDelivery` messages of `rowsPerMessage` rows each (deliveries are full at these
 * rates), each insert writing `partsPerInsert` parts (the table and each materialized view).
 */
export function partsRate(eventsPerSecond: number, rowsPerMessage: number, partsPerInsert: number, messagesPerDelivery = 100): PartsRate {
  const insertsPerSecond = rowsPerMessage > 0 ? eventsPerSecond / (rowsPerMessage * messagesPerDelivery) : 0;
  return { eventsPerSecond, insertsPerSecond, partsPerSecond: insertsPerSecond * partsPerInsert };
}

/** One app taking all of `eventsPerSecond` under automatic sharding, and what its fan-out costs. */
export interface OneAppAtScale {
  eventsPerSecond: number;
  /** The count automatic sharding settles on (decision record 0035), and each shard's rate then. */
  shards: number;
  perShard: number;
  /** Durable Object calls a request makes on average, one per shard its events' devices reach. */
  callsPerRequest: number;
  /** The ingest calls each shard then takes a second, against a Durable Object's ~1,000 requests/s. */
  callsPerShardPerSecond: number;
  /** Chunk rows a call writes on average: fewer than one where a shard stores calls together. */
  rowsPerCall: number;
  /** What those calls cost: each a Durable Object request, and the chunk rows it writes. */
  ingestUsdPerMillion: number;
  /** The same when every request comes from a server, each event of another user. */
  serverCallsPerRequest: number;
  serverIngestUsdPerMillion: number;
}

/** What an ingest call is billed: a Durable Object request, and each SQLite row it writes. */
export interface CallPrices {
  doRequest: Pick<Price, "usd" | "per">;
  rowWritten: Pick<Price, "usd" | "per">;
}

/**
 * What a device's request costs per million events when it holds `eventsPerRequest` events,
 * whatever the app's shard count: an edge request, one Durable Object call, and the call's
 * chunk rows (`rowsPerCall`). Clients that send each event alone (analytics.js unless its
 * batching is on) pay it once an event.
 */
export function perRequestUsdPerMillion(eventsPerRequest: number, prices: CallPrices & { workerRequest: Pick<Price, "usd" | "per"> }, rowsPerCall: number): number {
  return usdPerMillion(1, eventsPerRequest, prices.workerRequest) + usdPerMillion(1, eventsPerRequest, prices.doRequest) + usdPerMillion(rowsPerCall, eventsPerRequest, prices.rowWritten);
}

/**
 * Where automatic sharding takes one app of `eventsPerSecond` (each raise judged on the rate
 * per shard the one before left), and the ingest calls a request then makes, with what they
 * cost. Events are placed by device (decision record 0036): a request from one device is one
 * call; a server's request of `eventsPerRequest` users reaches n·(1 − (1 − 1/n)^k) of `n` shards
 * on average, as devices hash evenly. `serverShare` of the requests come from servers. A call
 * writes a chunk row per chunk it stores: `rows.device` for a device's whole request,
 * `rows.serverCall` for a server's few events on one shard; with `grouping`, the calls a shard
 * takes together share their rows (`groupedRowsPerCall`).
 */
export function oneAppAtScale(eventsPerSecond: number, eventsPerRequest: number, serverShare: number, hot: HotShard, prices: CallPrices, rows: CallRows, grouping?: CallGrouping): OneAppAtScale {
  // What one of `n` shards takes: devices hash evenly, and a device's request is one call.
  const loadOn = (n: number) => ({ eventsPerSecond: eventsPerSecond / n, deviceCallsPerSecond: ((1 - serverShare) * eventsPerSecond) / eventsPerRequest / n });
  let shards = 1;
  for (let next = shardsWanted(loadOn(1), 1, hot); next !== null; next = shardsWanted(loadOn(shards), shards, hot)) shards = next;
  const serverCallsPerRequest = shards * (1 - (1 - 1 / shards) ** eventsPerRequest);
  const callsPerRequest = (1 - serverShare) * 1 + serverShare * serverCallsPerRequest;
  const requestsPerShardPerSecond = eventsPerSecond / eventsPerRequest / shards;
  // A server's request on one shard is a device's: all its events in one call.
  const serverCallRows = shards === 1 ? rows.device : rows.serverCall;
  const serverCallFill = shards === 1 ? (grouping?.fill.device ?? 0) : (grouping?.fill.serverCall ?? 0);
  let rowsPerRequest = (1 - serverShare) * rows.device + serverShare * serverCallsPerRequest * serverCallRows;
  let serverRowsPerRequest = serverCallsPerRequest * serverCallRows;
  if (grouping) {
    // The calls a shard takes together share chunk rows (decision record 0040).
    const deviceCalls = 1 - serverShare;
    const serverCalls = serverShare * serverCallsPerRequest;
    const fill = (deviceCalls * grouping.fill.device + serverCalls * serverCallFill) / Math.max(1e-9, callsPerRequest);
    rowsPerRequest = Math.min(rowsPerRequest, callsPerRequest * groupedRowsPerCall(requestsPerShardPerSecond * callsPerRequest, grouping.window, fill));
    serverRowsPerRequest = Math.min(serverRowsPerRequest, serverCallsPerRequest * groupedRowsPerCall(requestsPerShardPerSecond * serverCallsPerRequest, grouping.window, serverCallFill));
  }
  const usd = (calls: number, written: number): number => usdPerMillion(calls, eventsPerRequest, prices.doRequest) + usdPerMillion(written, eventsPerRequest, prices.rowWritten);
  return {
    eventsPerSecond,
    shards,
    perShard: eventsPerSecond / shards,
    callsPerRequest,
    callsPerShardPerSecond: requestsPerShardPerSecond * callsPerRequest,
    rowsPerCall: rowsPerRequest / callsPerRequest,
    ingestUsdPerMillion: usd(callsPerRequest, rowsPerRequest),
    serverCallsPerRequest,
    serverIngestUsdPerMillion: usd(serverCallsPerRequest, serverRowsPerRequest),
  };
}

/** Chunk rows a call writes alone: `device` for a device's whole request, `serverCall` for a server's few events on one shard. */
export interface CallRows {
  device: number;
  serverCall: number;
}

/**
 * How a shard stores calls that come together (durable-objects/call-group.ts), and what share
 * of a chunk row each kind of call fills packed (its packed bytes over a chunk's 96,000).
 */
export interface CallGrouping {
  window: { windowMs: number; maxCalls: number };
  fill: { device: number; serverCall: number };
}

/**
 * Chunk rows per call at a shard taking `callsPerSecond` calls at random (Poisson) times,
 * grouped as `CallGroup` groups them: a call that comes within the window of the one before
 * opens a group, which takes every call for the window (up to `maxCalls`) and writes
 * ceil(sum of their fills) rows; any other call writes its own (and, after `LONE_GROUPS` groups
 * of one call in a row, only every `PROBE_EVERY`th close call opens a group). Simulated over
 * 20,000 calls from a fixed seed, so the same inputs give the same figure.
 * @example groupedRowsPerCall(1, { windowMs: 4, maxCalls: 32 }, 0.1) // ≈ 1: calls a second apart are stored alone
 */
export function groupedRowsPerCall(callsPerSecond: number, window: { windowMs: number; maxCalls: number }, fill: number): number {
  const calls = 20_000;
  if (callsPerSecond <= 0 || window.windowMs <= 0) return Math.max(1, Math.ceil(fill));
  let seed = 12345;
  const uniform = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed + 0.5) / 4294967296;
  };
  const meanGapMs = 1000 / callsPerSecond;
  let at = 0;
  let last = Number.NEGATIVE_INFINITY;
  let open: { until: number; calls: number; fill: number } | null = null;
  let rows = 0;
  const company = new Company();
  const rowsFor = (f: number): number => Math.max(1, Math.ceil(f - 1e-9));
  const close = (g: { calls: number; fill: number }): void => {
    rows += rowsFor(g.fill);
    company.stored(g.calls);
  };
  for (let i = 0; i < calls; i++) {
    at += -Math.log(uniform()) * meanGapMs;
    if (open && at >= open.until) {
      close(open);
      open = null;
    }
    let near = at - last < window.windowMs;
    last = at;
    if (near && !open) near = company.opens();
    if (!open && !near) {
      rows += rowsFor(fill);
      continue;
    }
    open ??= { until: at + window.windowMs, calls: 0, fill: 0 };
    open.calls++;
    open.fill += fill;
    if (open.calls >= window.maxCalls) {
      close(open);
      open = null;
    }
  }
  if (open) close(open);
  return rows / calls;
}
