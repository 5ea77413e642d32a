// Running exports with this Worker's bindings: D1, the archive buckets, the webhook queue, and a
// ClickHouse client for the one call, closed after it.
import { config, isDevelopment } from "../../schemas";
import { clickhouseClient } from "../lib/clickhouse";
import type { ExportDeps } from "./run";

/** Calls `fn` with the export dependencies of this Worker. */
export async function exportDeps<T>(env: Env, fn: (deps: ExportDeps) => Promise<T>): Promise<T> {
  const cfg = config(env);
  const client = clickhouseClient(cfg.clickhouse);
  try {
    return await fn({ db: env.DB, buckets: env, client, sealSecret: cfg.oauthKeySecret, localMode: isDevelopment(env), queue: env.WEBHOOKS, dashboardUrl: cfg.dashboardUrl });
  } finally {
    await client.close();
  }
}
