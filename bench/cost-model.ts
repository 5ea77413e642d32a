// The arithmetic of the cost benchmark (bench/cost.ts): billable units measured over a run,
// multiplied by published prices (bench/prices.ts), as dollars per million accepted events.
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
 * `rows.serverCall` for a server's few events on one shard.
 */
export function oneAppAtScale(eventsPerSecond: number, eventsPerRequest: number, serverShare: number, hot: HotShard, prices: CallPrices, rows: { device: number; serverCall: number }): OneAppAtScale {
  // What one of `n` shards takes: devices hash evenly, and a device's request is one call.
  const loadOn = (n: number) => ({ eventsPerSecond: eventsPerSecond / n, deviceCallsPerSecond: ((1 - serverShare) * eventsPerSecond) / eventsPerRequest / n });
  let shards = 1;
  for (let next = shardsWanted(loadOn(1), 1, hot); next !== null; next = shardsWanted(loadOn(shards), shards, hot)) shards = next;
  const serverCallsPerRequest = shards * (1 - (1 - 1 / shards) ** eventsPerRequest);
  const callsPerRequest = (1 - serverShare) * 1 + serverShare * serverCallsPerRequest;
  // A server's request on one shard is a device's: all its events in one call.
  const serverRowsPerRequest = shards === 1 ? rows.device : serverCallsPerRequest * rows.serverCall;
  const rowsPerRequest = (1 - serverShare) * rows.device + serverShare * serverRowsPerRequest;
  const usd = (calls: number, written: number): number => usdPerMillion(calls, eventsPerRequest, prices.doRequest) + usdPerMillion(written, eventsPerRequest, prices.rowWritten);
  return {
    eventsPerSecond,
    shards,
    perShard: eventsPerSecond / shards,
    callsPerRequest,
    callsPerShardPerSecond: ((eventsPerSecond / eventsPerRequest) * callsPerRequest) / shards,
    ingestUsdPerMillion: usd(callsPerRequest, rowsPerRequest),
    serverCallsPerRequest,
    serverIngestUsdPerMillion: usd(serverCallsPerRequest, serverRowsPerRequest),
  };
}
