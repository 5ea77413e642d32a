import type { ClickHouseClient } from "@clickhouse/client-web";
import { config, decodeSinkMessage, EVENT_COLUMNS, toCompactRow, withBatchId, type SinkMessage } from "../../schemas";
import { clickhouseClient, describeClickHouseError, isDataError } from "../lib/clickhouse";

const INSERT_ATTEMPTS = 3;

interface Delivery {
  message: Message<unknown>;
  sink: SinkMessage;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Queue redelivery delay: grows with attempts up to five minutes, with jitter. */
export function retryDelaySeconds(attempts: number): number {
  const base = Math.min(300, 2 ** Math.min(attempts, 9));
  return Math.max(1, Math.round(base * (0.75 + Math.random() * 0.5)));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Batch ids among `deliveries` that ClickHouse already holds. */
async function alreadyStored(client: ClickHouseClient, deliveries: readonly Delivery[]): Promise<Set<string>> {
  const rs = await client.query({
    query: "SELECT DISTINCT batch_id FROM ingest_batches WHERE app_id IN {apps:Array(String)} AND batch_id IN {ids:Array(String)}",
    query_params: { apps: [...new Set(deliveries.map((d) => d.sink.appId))], ids: deliveries.map((d) => d.sink.batchId) },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ batch_id: string }>();
  return new Set(rows.map((r) => r.batch_id));
}

/**
 * Inserts the rows of several messages as one insert. The deduplication token names exactly
 * this set of batches, so a retry of the same set is dropped by ClickHouse itself.
 */
async function insert(client: ClickHouseClient, deliveries: readonly Delivery[]): Promise<void> {
  // A batch id names the same rows forever, and a resent flush can bring two copies of one
  // batch in the same delivery: its rows go in once (every copy is acked with the outcome).
  const batches = [...new Map(deliveries.map((d) => [d.sink.batchId, d.sink])).values()];
  const ids = batches.map((b) => b.batchId).sort();
  const token = batches.length === 1 ? ids[0] ?? "" : `set:${await sha256Hex(ids.join("\n"))}`;
  const values: string[] = [];
  for (const b of batches) for (const row of b.rows) values.push(withBatchId(toCompactRow(row), b.batchId));
  for (let attempt = 1; ; attempt++) {
    try {
      await client.insert({
        table: "events",
        format: "JSONCompactEachRow",
        columns: [...EVENT_COLUMNS] as [string, ...string[]],
        values,
        clickhouse_settings: { insert_deduplication_token: token, max_partitions_per_insert_block: "1000" },
      });
      return;
    } catch (err) {
      if (isDataError(err) || attempt >= INSERT_ATTEMPTS) throw err;
      await sleep(200 * 4 ** (attempt - 1));
    }
  }
}

/**
 * The ClickHouse sink: one insert per queue batch. Batches already stored are acknowledged
 * without inserting; an outage retries the messages with growing delays; data ClickHouse
 * refuses is isolated message by message and the poison ones go to the dead-letter queue.
 */
export async function handleSinkBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const client = clickhouseClient(config(env).clickhouse);
  try {
    const deliveries: Delivery[] = [];
    for (const message of batch.messages) {
      const sink = decodeSinkMessage(message.body);
      if (sink) deliveries.push({ message, sink });
      else await deadLetter(env, message, "not a sink message");
    }
    if (deliveries.length === 0) return;
    let todo = deliveries;
    try {
      const stored = await alreadyStored(client, deliveries);
      todo = deliveries.filter((d) => !stored.has(d.sink.batchId));
      for (const d of deliveries) if (stored.has(d.sink.batchId)) d.message.ack();
      if (todo.length > 0) await insert(client, todo);
      for (const d of todo) d.message.ack();
    } catch (err) {
      if (!isDataError(err)) {
        console.error(`sink: ClickHouse unavailable, retrying ${todo.length} messages`, describeClickHouseError(err));
        for (const d of todo) d.message.retry({ delaySeconds: retryDelaySeconds(d.message.attempts) });
        return;
      }
      await isolate(client, env, todo);
    }
  } finally {
    await client.close();
  }
}

async function isolate(client: ClickHouseClient, env: Env, deliveries: readonly Delivery[]): Promise<void> {
  for (const d of deliveries) {
    try {
      await insert(client, [d]);
      d.message.ack();
    } catch (err) {
      if (isDataError(err)) await deadLetter(env, d.message, describeClickHouseError(err));
      else d.message.retry({ delaySeconds: retryDelaySeconds(d.message.attempts) });
    }
  }
}

async function deadLetter(env: Env, message: Message<unknown>, reason: string): Promise<void> {
  console.error(`sink: message ${message.id} sent to the dead-letter queue: ${reason}`);
  try {
    await env.DEAD_LETTERS.send(typeof message.body === "string" ? message.body : JSON.stringify(message.body ?? null), { contentType: "text" });
    message.ack();
  } catch (err) {
    console.error("sink: dead-letter queue unavailable", err);
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}
