// The Worker's only DDL: a scratch table made for one job (a person's deletion or the daily
// compaction in the lake, a view's Parquet export), filled, read and dropped. Its ClickHouse user
// may create and drop tables under these prefixes only (dev/deploy/clickhouse-users.ts grants
// them), so every scratch table is made here.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { randomHex } from "../apps/keys";

export const SCRATCH_TABLE_PREFIXES = ["lake_forget_", "lake_compact_", "export_"] as const;
export type ScratchPrefix = (typeof SCRATCH_TABLE_PREFIXES)[number];

/** A scratch table's shape: a copy of `events`' columns, or its own columns and sort key. */
export type ScratchShape = { like: "events" } | { columns: string; orderBy: string };

/**
 * Runs `use` with a new table `<prefix><random hex>` and drops it after, whatever happens. On
 * disk (MergeTree), never Memory: a job may hold millions of rows, and on a replicated service
 * (ClickHouse Cloud) a Memory table's rows stay on the replica that took the insert, where the
 * next request may not go.
 */
export async function withScratchTable<T>(client: ClickHouseClient, prefix: ScratchPrefix, shape: ScratchShape, use: (table: string) => Promise<T>): Promise<T> {
  const t = `${prefix}${randomHex(8)}`;
  const definition = "like" in shape ? "AS events ENGINE = MergeTree ORDER BY tuple()" : `(${shape.columns}) ENGINE = MergeTree ORDER BY ${shape.orderBy}`;
  await client.command({ query: `CREATE TABLE {t:Identifier} ${definition}`, query_params: { t } });
  try {
    return await use(t);
  } finally {
    await client.command({ query: "DROP TABLE IF EXISTS {t:Identifier}", query_params: { t } });
  }
}
