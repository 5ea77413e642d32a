import type { ClickHouseClient } from "@clickhouse/client-web";
import { tallyMinute } from "../../schemas";
import { describeClickHouseError } from "../lib/clickhouse";
import { sha256Hex } from "../lib/hash";
import { log } from "../lib/log";
import { writePipelineCounts, type MetricsEnv } from "../lib/metrics";

/** An `insert_deduplication_token` naming exactly this set of ids, in any order. */
export async function tokenOf(ids: readonly string[]): Promise<string> {
  const sorted = [...ids].sort();
  return sorted.length === 1 ? sorted[0] ?? "" : `set:${await sha256Hex(sorted.join("\n"))}`;
}

/** One app's count for a stage a queue consumer records itself, e.g. events dead-lettered by reason. */
export interface Count {
  appId: string;
  reason: string;
  n: number;
}

/**
 * Settings of every insert the queue consumers make. ClickHouse gathers the inserts that reach
 * it within a second (one per queue delivery, from every consumer invocation and every event
 * queue) into one part per table and view, instead of a part each (docs/decisions/0018). It
 * answers only once the rows are written, so a message is never acknowledged for rows still in
 * its buffer, and it drops an insert whose deduplication token it already wrote, gathered or
 * not. Up to 64 MB wait together: a full delivery (100 messages of up to 120 KB) joins others
 * rather than being written alone. A ClickHouse that does not gather inserts (the local engine)
 * writes each at once, with the same answers.
 */
export const INSERT_SETTINGS = {
  max_partitions_per_insert_block: "1000",
  async_insert: 1,
  wait_for_async_insert: 1,
  async_insert_deduplicate: 1,
  async_insert_busy_timeout_max_ms: 1000,
  async_insert_max_data_size: String(64 * 1024 * 1024),
} as const;

/**
 * Adds `counts` to the apps' `stage` counters for the current minute, best effort: what they
 * count has already been dealt with, and ClickHouse may be the thing that is down, so a count
 * that cannot be written is logged, never retried. `ids` name the events counted (e.g. queue
 * message ids and attempts): ClickHouse drops a repeated insert of the same ids, and only that.
 * The counts go to Analytics Engine too, whether or not ClickHouse took them.
 */
export async function recordCounts(client: ClickHouseClient, env: MetricsEnv, stage: string, counts: readonly Count[], ids: readonly string[]): Promise<void> {
  if (counts.length === 0) return;
  writePipelineCounts(env, counts.map((c) => ({ ...c, stage })));
  const minute = tallyMinute(Date.now());
  const values = counts.map((c) => ({ app_id: c.appId, minute, stage, reason: c.reason, n: c.n }));
  try {
    const token = `${stage}:${await tokenOf(ids)}`;
    await client.insert({ table: "pipeline_minutely", format: "JSONEachRow", values, clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token } });
  } catch (err) {
    log.warn("counters.not_written", { stage, apps: [...new Set(counts.map((c) => c.appId))], error: describeClickHouseError(err) });
  }
}
