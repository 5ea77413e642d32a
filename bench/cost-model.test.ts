import { describe, expect, it } from "vitest";
import { gbMonths, groupedRowsPerCall, line, oneAppAtScale, partsRate, perRequestUsdPerMillion, queueChunks, queueOperations, total, usdPerMillion } from "./cost-model";
import { PRICES } from "./prices";

describe("cost model", () => {
  it("bills a queue message one operation per started 64 KB, its metadata included", () => {
    expect(queueChunks(10)).toBe(1);
    expect(queueChunks(63_900)).toBe(1);
    // 100 bytes of metadata push it over 64,000 bytes.
    expect(queueChunks(63_901)).toBe(2);
    expect(queueChunks(120_000)).toBe(2);
    expect(queueChunks(128_000)).toBe(3);
  });

  it("counts a write, a read per delivery and a delete for every chunk", () => {
    // 3 operations for a small message delivered once; a retried 100 KB message: 2 × (1 + 3 + 1).
    expect(queueOperations([{ bytes: 1_000, deliveries: 1 }])).toBe(3);
    expect(queueOperations([{ bytes: 100_000, deliveries: 3 }])).toBe(10);
    expect(queueOperations([{ bytes: 1_000, deliveries: 1 }, { bytes: 100_000, deliveries: 1 }])).toBe(3 + 6);
  });

  it("turns units over a run into dollars per million events", () => {
    // 3 DO rows written per event at $1 per million rows: $3 per million events.
    expect(usdPerMillion(300, 100, PRICES.doRowsWritten)).toBeCloseTo(3, 10);
    // One Worker request per 100-event batch at $0.30 per million: $0.003 per million events.
    expect(usdPerMillion(10_000, 1_000_000, PRICES.workerRequests)).toBeCloseTo(0.003, 10);
    expect(usdPerMillion(5, 0, PRICES.workerRequests)).toBe(0);
    // 1 GB held for a whole month at $0.20 per GB-month.
    expect(usdPerMillion(gbMonths(1e9, 730), 1e6, PRICES.doStorageGbMonth)).toBeCloseTo(0.2, 10);
  });

  it("adds up the lines that are not left out", () => {
    const lines = [line("a", 100, 100, PRICES.doRowsWritten, ""), line("b", 1_000, 1_000_000, PRICES.workerRequests, ""), line("bound", 50, 100, PRICES.doRowsWritten, "", true)];
    expect(lines[0]?.perEvent).toBe(1);
    expect(total(lines)).toBeCloseTo(1 + 0.0003, 10);
  });

  it("makes one insert per full delivery of 100 messages and the parts each insert writes", () => {
    const r = partsRate(100_000, 70, 12);
    expect(r.insertsPerSecond).toBeCloseTo(100_000 / 7_000, 10);
    expect(r.partsPerSecond).toBeCloseTo((100_000 / 7_000) * 12, 10);
    expect(partsRate(10_000, 0, 12).partsPerSecond).toBe(0);
  });

  it("follows automatic sharding for one app at scale, and counts the shards a request reaches", () => {
    const hot = { eventsPerSecond: 5000, deviceCallsPerSecond: 500, windowMs: 60_000 };
    const prices = { doRequest: PRICES.doRequests, rowWritten: PRICES.doRowsWritten };
    // A device's 100 events in one chunk row, a server's few per shard in one too.
    const rows = { device: 1, serverCall: 1 };
    expect(oneAppAtScale(4000, 100, 0.2, hot, prices, rows)).toMatchObject({ shards: 1, callsPerRequest: 1, serverCallsPerRequest: 1 });
    const tenK = oneAppAtScale(10_000, 100, 0.2, hot, prices, rows);
    expect(tenK).toMatchObject({ shards: 4, perShard: 2500 });
    expect(tenK.serverCallsPerRequest).toBeCloseTo(4, 6);
    const hundredK = oneAppAtScale(100_000, 100, 0.2, hot, prices, rows);
    expect(hundredK.shards).toBe(40);
    // A server's 100 users over 40 shards: 40·(1 − (39/40)^100) ≈ 36.8 shards get one or more.
    expect(hundredK.serverCallsPerRequest).toBeCloseTo(36.82, 2);
    // Each call is a Durable Object request and writes its chunk row: $0.15 + $1 per million calls.
    expect(hundredK.serverIngestUsdPerMillion).toBeCloseTo((36.82 / 100) * (0.15 + 1), 3);
    // A device's request is one call: 0.8 · 1 + 0.2 · 36.82.
    expect(hundredK.callsPerRequest).toBeCloseTo(0.8 + 0.2 * 36.82, 2);
    expect(hundredK.ingestUsdPerMillion).toBeCloseTo(((0.8 + 0.2 * 36.82) / 100) * (0.15 + 1), 4);
    // A device's request that takes two chunk rows costs a row more, its call the same.
    const twoRows = oneAppAtScale(100_000, 100, 0.2, hot, prices, { device: 2, serverCall: 1 });
    expect(twoRows.ingestUsdPerMillion - hundredK.ingestUsdPerMillion).toBeCloseTo((0.8 / 100) * 1, 6);
    // 1,000 requests/s, 8.2 calls each, over 40 shards.
    expect(hundredK.callsPerShardPerSecond).toBeCloseTo((1000 * (0.8 + 0.2 * 36.82)) / 40, 0);
    // Capped at 64 shards, each past the mark; a server's request reaches most of them, so each
    // shard takes most of the servers' 2,000 requests/s, past what a Durable Object takes.
    const million = oneAppAtScale(1_000_000, 100, 0.2, hot, prices, rows);
    expect(million).toMatchObject({ shards: 64, perShard: 15_625 });
    expect(million.callsPerShardPerSecond).toBeGreaterThan(1000);
    // Requests from devices only are one call whatever the count.
    expect(oneAppAtScale(100_000, 100, 0, hot, prices, rows).callsPerRequest).toBeCloseTo(1, 10);
    // 2,500 two-event requests a second from devices: the events mark asks for 2 shards,
    // the calls mark for 10, which leave each shard 250 calls/s; each request still one call.
    expect(oneAppAtScale(5_000, 2, 0, hot, prices, rows)).toMatchObject({ shards: 10, callsPerRequest: 1 });
    // A server's calls carry several users: more shards would not spread them, so they raise nothing.
    expect(oneAppAtScale(4_000, 2, 1, hot, prices, rows).shards).toBe(1);
  });

  it("has a busy shard's calls share chunk rows when it stores those that come together, and an idle one's not", () => {
    const window = { windowMs: 4, maxCalls: 32 };
    // A call a second: each comes long after the one before and is stored alone.
    expect(groupedRowsPerCall(1, window, 0.1)).toBe(1);
    expect(groupedRowsPerCall(1000, { windowMs: 0, maxCalls: 32 }, 0.1)).toBe(1);
    // 1,000 calls a second, 4 ms: about 1 + 4 calls come within a group's window.
    const busy = groupedRowsPerCall(1000, window, 0.01);
    expect(busy).toBeGreaterThan(1 / 8);
    expect(busy).toBeLessThan(1 / 3);
    // Busier still: groups fill to their 32 calls.
    expect(groupedRowsPerCall(100_000, window, 0.001)).toBeCloseTo(1 / 32, 3);
    // Calls that each fill most of a chunk still take a row each.
    expect(groupedRowsPerCall(1000, window, 0.9)).toBeGreaterThan(0.85);
    // More calls a second share more: never more rows for a busier shard.
    expect(groupedRowsPerCall(2000, window, 0.01)).toBeLessThan(busy);
  });

  it("prices one app's calls with the rows they share when its shards store calls together", () => {
    const hot = { eventsPerSecond: 10_000, deviceCallsPerSecond: 500, windowMs: 60_000 };
    const prices = { doRequest: PRICES.doRequests, rowWritten: PRICES.doRowsWritten };
    const rows = { device: 1, serverCall: 1 };
    const grouping = { window: { windowMs: 4, maxCalls: 32 }, fill: { device: 0.1, serverCall: 0.01 } };
    const alone = oneAppAtScale(100_000, 100, 1, hot, prices, rows);
    const together = oneAppAtScale(100_000, 100, 1, hot, prices, rows, grouping);
    // The same calls, each still a Durable Object request: fewer rows only.
    expect(together.callsPerRequest).toBe(alone.callsPerRequest);
    expect(alone.rowsPerCall).toBe(1);
    expect(together.rowsPerCall).toBeLessThan(0.5);
    expect(together.serverIngestUsdPerMillion).toBeLessThan(alone.serverIngestUsdPerMillion / 2);
    // What is left is the requests: $0.15 per million calls.
    expect(together.serverIngestUsdPerMillion).toBeGreaterThan(usdPerMillion(together.serverCallsPerRequest, 100, PRICES.doRequests));
    // An app of one shard at 10 requests a second: a call rarely comes within 4 ms of another.
    const quiet = oneAppAtScale(1_000, 100, 0.2, hot, prices, rows, grouping);
    expect(quiet.rowsPerCall).toBeGreaterThan(0.99);
  });

  it("prices a device's request per event: an edge request, a Durable Object call and its chunk row, over the events it holds", () => {
    const prices = { workerRequest: PRICES.workerRequests, doRequest: PRICES.doRequests, rowWritten: PRICES.doRowsWritten };
    // An event a request: $0.30 + $0.15 + $1 per million of each.
    expect(perRequestUsdPerMillion(1, prices, 1)).toBeCloseTo(1.45, 10);
    expect(perRequestUsdPerMillion(100, prices, 1)).toBeCloseTo(0.0145, 10);
    expect(perRequestUsdPerMillion(100, prices, 2)).toBeCloseTo(0.0245, 10);
  });
});
