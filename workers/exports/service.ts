// Running exports with this Worker's bindings (D1, the archive buckets, the webhook queue, and a
// ClickHouse client for the one call, closed after it), and ExportsService, the entrypoint the
// dashboard reaches through its EXPORTS service binding (no route on the internet leads to it).
import { WorkerEntrypoint } from "cloudflare:workers";
import { config, isDevelopment } from "../../schemas";
import { localD1Env } from "../../schemas/local-d1";
import { archiveBucket } from "../apps/location";
import { clickhouseClient } from "../lib/clickhouse";
import type { ExportResult, ExportsApi } from "./api";
import { exportsApi } from "./calls";
import type { ExportDeps } from "./run";
import type { ExportRun, ExportSchedule } from "../../schemas";

/** How long an export's query may run before its answer starts: within a cron invocation's 15 minutes. */
const EXPORT_QUERY_TIMEOUT_MS = 10 * 60_000;

/** Calls `fn` with the export dependencies of this Worker. */
export async function exportDeps<T>(env: Env, fn: (deps: ExportDeps) => Promise<T>): Promise<T> {
  const cfg = config(env);
  // An export's answer starts only when its query has ended (run.ts): a big period may take minutes.
  const client = clickhouseClient(cfg.clickhouse, { requestTimeoutMs: EXPORT_QUERY_TIMEOUT_MS });
  try {
    return await fn({ db: env.DB, bucketFor: (location) => archiveBucket(env, location), client, clickhouseReads: cfg.clickhouse, sealSecret: cfg.oauthKeySecret, localMode: isDevelopment(env), queue: env.WEBHOOKS, dashboardUrl: cfg.dashboardUrl });
  } finally {
    await client.close();
  }
}

const workerExportsApi = (env: Env): ExportsApi =>
  exportsApi({ db: env.DB, sealSecret: config(env).oauthKeySecret, localMode: isDevelopment(env), withExportDeps: (fn) => exportDeps(env, fn) });

/** What the dashboard calls on the edge Worker for exports. */
export class ExportsService extends WorkerEntrypoint<Env> implements ExportsApi {
  createExport(orgId: string, appId: string, input: unknown, by: string): Promise<ExportResult<{ schedule: ExportSchedule }>> {
    return workerExportsApi(localD1Env(this.env)).createExport(orgId, appId, input, by);
  }

  runExport(orgId: string, appId: string, scheduleId: string): Promise<ExportResult<{ run: ExportRun }>> {
    return workerExportsApi(localD1Env(this.env)).runExport(orgId, appId, scheduleId);
  }
}
