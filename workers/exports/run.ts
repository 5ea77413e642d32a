// Running exports: the hourly cron records the latest whole period of every enabled schedule
// and attempts every run that is due, a failed one again at later cron runs until MAX_ATTEMPTS,
// then alerts. For raw events ClickHouse writes the file itself (FORMAT CSVWithNames or Parquet);
// a view's or saved insight's rows come from the dashboard's CSV code (./sources.ts), as CSV or,
// through a temporary ClickHouse table, as Parquet (./parquet.ts). Either streams into the destination part by part, so no export is held whole or capped in rows
// (docs/decisions/0026-scheduled-exports.md).
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { DashboardEnv } from "../../dashboard/app/env.server";
import type { AppLocation, ExportFormat, ExportRun, ExportSchedule } from "../../schemas";
import type { NotifyDeps } from "../alerts/notify";
import { toLocation } from "../apps/store";
import { describeClickHouseError } from "../lib/clickhouse";
import { uploadStream } from "../lib/stream-upload";
import { alertExportFailed } from "./alert";
import { destinationStore } from "./destinations";
import { latestPeriod, objectKey, retryAt, type Period } from "./period";
import { writeViewParquet } from "./parquet";
import { csvStream, sourceFile } from "./sources";
import { claimRun, dueRuns, enabledSchedules, ensureRun, finishRun, runnableSchedule, type RunnableSchedule } from "./store";

/** What running exports needs: D1, the buckets, ClickHouse, the sealing secret, and the webhook queue for alerts. */
export interface ExportDeps extends NotifyDeps {
  /** The platform's bucket for a data location (archiveBucket). */
  bucketFor: (location: AppLocation) => R2Bucket;
  client: ClickHouseClient;
  /** How views and saved insights read ClickHouse: the dashboard's query code with this connection (read-only use). */
  clickhouseReads: DashboardEnv["clickhouse"];
  sealSecret: string;
  /** S3 endpoints on this machine are allowed (development and tests only). */
  localMode: boolean;
  /** The size of each uploaded part; 5 MiB unless a test asks for less. */
  partBytes?: number;
}

// A run whose Worker died mid-way stays "running": after this long another cron run takes it.
const STALE_RUN_MS = 30 * 60_000;
// Runs attempted per cron run, so one hour's backlog cannot outlast the invocation.
const RUNS_PER_CRON = 50;

const CLICKHOUSE_FORMAT: Record<ExportFormat, string> = { csv: "CSVWithNames", parquet: "Parquet" };
const CONTENT_TYPE: Record<ExportFormat, string> = { csv: "text/csv; charset=utf-8", parquet: "application/vnd.apache.parquet" };

// Every stored column but the sink's bookkeeping, in the order events happened.
const EVENTS_QUERY = `SELECT * EXCEPT (batch_id, inserted_at) FROM events
  WHERE app_id = {app:String} AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
  ORDER BY timestamp, message_id`;

/** What a run writes: the object's key, its rows and bytes. */
interface Written {
  objectKey: string;
  rows: number;
  bytes: number;
}

/** Writes one period of a schedule to its destination. */
async function writePeriod(deps: ExportDeps, runnable: RunnableSchedule, period: Period): Promise<Written> {
  const { schedule, location, secretAccessKey } = runnable;
  const { store, prefix } = destinationStore(deps.bucketFor, schedule.destination, toLocation(location), secretAccessKey, { localMode: deps.localMode });
  const key = objectKey(prefix, schedule.appId, schedule.id, schedule.frequency, period.start, schedule.format);
  if (schedule.source.kind !== "events") {
    // A view's rows are counted as they stream out; a read failing mid-way aborts the upload.
    const env: DashboardEnv = { db: deps.db, sessionSecret: "", clickhouse: deps.clickhouseReads, development: deps.localMode, setupToken: null };
    const file = await sourceFile(env, runnable.orgId, schedule.appId, schedule.source, schedule.frequency, period);
    if (schedule.format === "parquet") {
      const written = await writeViewParquet(deps.client, file, (stream) => uploadStream(store, key, stream, { contentType: CONTENT_TYPE.parquet, partBytes: deps.partBytes }));
      return { objectKey: key, ...written };
    }
    const csv = csvStream(file);
    const written = await uploadStream(store, key, csv.stream, { contentType: CONTENT_TYPE.csv, partBytes: deps.partBytes });
    return { objectKey: key, rows: csv.rows(), bytes: written.bytes };
  }
  const params = { app: schedule.appId, from: period.start, to: period.end };
  // The file itself does not say how many rows it holds (Parquet's count is in its footer).
  const counted = await deps.client.query({ query: `SELECT count() AS n FROM (${EVENTS_QUERY})`, query_params: params, format: "JSONEachRow" });
  const [count] = await counted.json<{ n: string | number }>();
  // The server holds the answer (spilling to disk past its buffer) until the query has finished, so
  // an error mid-way fails the request instead of ending a file early with ClickHouse's message in it.
  const { stream } = await deps.client.exec({ query: `${EVENTS_QUERY} FORMAT ${CLICKHOUSE_FORMAT[schedule.format]}`, query_params: params, clickhouse_settings: { wait_end_of_query: 1 } });
  const written = await uploadStream(store, key, stream, { contentType: CONTENT_TYPE[schedule.format], partBytes: deps.partBytes });
  return { objectKey: key, rows: Number(count?.n ?? 0), bytes: written.bytes };
}

/**
 * One attempt of a run. A run someone else holds is left alone (null). A failure is recorded
 * with the time of the next attempt, or, after the last, as failed with an alert.
 */
export async function attemptRun(deps: ExportDeps, run: ExportRun, now: number, opts: { force?: boolean } = {}): Promise<ExportRun | null> {
  if (!(await claimRun(deps.db, run.id, now, { staleAfterMs: STALE_RUN_MS, force: opts.force }))) return null;
  const attempts = opts.force && (run.status === "ok" || run.status === "failed") ? 1 : run.attempts + 1;
  let runnable: Awaited<ReturnType<typeof runnableSchedule>> = null;
  try {
    runnable = await runnableSchedule(deps.db, deps.sealSecret, run.scheduleId);
    if (!runnable) return await finishRun(deps.db, run.id, { ok: false, error: "the schedule or its app is gone", retryAt: null }, now);
    const written = await writePeriod(deps, runnable, { start: run.periodStart, end: run.periodEnd });
    return await finishRun(deps.db, run.id, { ok: true, ...written }, Date.now());
  } catch (err) {
    const next = retryAt(attempts, now);
    const finished = await finishRun(deps.db, run.id, { ok: false, error: describeClickHouseError(err), retryAt: next }, now);
    if (next === null && runnable) await alertExportFailed(deps, runnable.schedule, finished, now);
    return finished;
  }
}

/** What a cron run did: runs recorded, and each attempt's outcome. */
export interface ExportCronResult {
  recorded: number;
  ok: number;
  retrying: number;
  failed: number;
}

/** The cron's work: record each enabled schedule's latest whole period, then attempt what is due. */
export async function runDueExports(deps: ExportDeps, now: number): Promise<ExportCronResult> {
  const result: ExportCronResult = { recorded: 0, ok: 0, retrying: 0, failed: 0 };
  for (const schedule of await enabledSchedules(deps.db)) {
    const run = await ensureRun(deps.db, schedule, latestPeriod(schedule.frequency, now), now);
    if (run.attempts === 0 && run.status === "pending") result.recorded++;
  }
  // One at a time: each export streams through this Worker, and its memory holds one part per upload.
  for (const run of await dueRuns(deps.db, now, RUNS_PER_CRON)) {
    const done = await attemptRun(deps, run, now);
    if (done?.status === "ok") result.ok++;
    else if (done?.status === "retrying") result.retrying++;
    else if (done?.status === "failed") result.failed++;
  }
  return result;
}

/** "Run now": the period (the latest whole one unless given) exported at once, again if it was before. */
export async function runNow(deps: ExportDeps, schedule: ExportSchedule, period: Period, now: number): Promise<ExportRun | null> {
  const run = await ensureRun(deps.db, schedule, period, now);
  return attemptRun(deps, run, now, { force: true });
}
