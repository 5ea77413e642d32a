import type { ClickHouseClient } from "@clickhouse/client-web";
import { tallyMinute } from "../../schemas";
import { describeClickHouseError } from "../lib/clickhouse";
import { sha256Hex } from "../lib/hash";

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

export const INSERT_SETTINGS = { max_partitions_per_insert_block: "1000" };

/**
 * Adds `counts` to the apps' `stage` counters for the current minute, best effort: what they
 * count has already been dealt with, and ClickHouse may be the thing that is down, so a count
 * that cannot be written is logged, never retried. `ids` name the events counted (e.g. queue
 * message ids and attempts): ClickHouse drops a repeated insert of the same ids, and only that.
 */
export async function recordCounts(client: ClickHouseClient, stage: string, counts: readonly Count[], ids: readonly string[]): Promise<void> {
  if (counts.length === 0) return;
  const minute = tallyMinute(Date.now());
  const values = counts.map((c) => ({ app_id: c.appId, minute, stage, reason: c.reason, n: c.n }));
  try {
    const token = `${stage}:${await tokenOf(ids)}`;
    await client.insert({ table: "pipeline_minutely", format: "JSONEachRow", values, clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token } });
  } catch (err) {
    console.error(`pipeline counter ${stage} not written`, describeClickHouseError(err));
  }
}
