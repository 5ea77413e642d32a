// The lake's dependencies bound to this Worker's ClickHouse and buckets.
import { config } from "../../schemas";
import { clickhouseClient, insertFile } from "../lib/clickhouse";
import type { LakeDeps } from "./archive";
import type { ReplayDeps } from "./replay";

/** Runs `fn` with the Worker's lake dependencies and closes its ClickHouse client after. */
export async function withLakeDeps<T>(env: Env, fn: (deps: LakeDeps & { db: D1Database; clickhouse: ReturnType<typeof config>["clickhouse"] }) => Promise<T>): Promise<T> {
  const cfg = config(env).clickhouse;
  const client = clickhouseClient(cfg);
  try {
    return await fn({ client, buckets: env, db: env.DB, clickhouse: cfg });
  } finally {
    await client.close();
  }
}

/** Replay into the Worker's ClickHouse (or `cfg`'s) from `bucket`; closes its client after. */
export async function withReplayDeps<T>(cfg: ReturnType<typeof config>["clickhouse"], bucket: R2Bucket, fn: (deps: ReplayDeps) => Promise<T>): Promise<T> {
  const client = clickhouseClient(cfg);
  try {
    return await fn({ bucket, client, insert: (body, settings) => insertFile(cfg, { table: "events", format: "Parquet", body, settings }) });
  } finally {
    await client.close();
  }
}
