// Archiving stored events to the app's lake: ClickHouse writes each file as Parquet (zstd) and its
// answer streams into R2 part by part; the manifests are written after the files
// (docs/decisions/0025-data-lake.md).
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { AppLocation } from "../../schemas";
import { archiveBucket } from "../apps/location";
import { listApps, OPERATOR } from "../apps/store";
import { sha256Hex } from "../lib/hash";
import { r2Store, uploadStream } from "../lib/stream-upload";
import { fileKey, floorHour, HOUR_MS, readAppManifest, recordFiles, type Column, type LakeFile } from "./manifest";

/** What archiving needs: ClickHouse and the buckets. */
export interface LakeDeps {
  client: ClickHouseClient;
  buckets: Pick<Env, "ARCHIVE" | "ARCHIVE_EU">;
  /** Rows per file before an hour is split into several (files of tens of MB); tests ask for less. */
  rowsPerFile?: number;
  /** Size of each uploaded part; 5 MiB unless a test asks for less. */
  partBytes?: number;
}

/**
 * An hour is archived once it has been over this long: `inserted_at` is set when ClickHouse takes
 * an insert, so by then no row of the hour is still on its way, whatever the events' timestamps.
 */
export const SETTLE_MS = 30 * 60_000;
// About 53 bytes a row in zstd Parquet, measured on web events (ids, JSON properties and context):
// a million rows is a file of about 50 MB.
export const ROWS_PER_FILE = 1_000_000;
// Hours holding rows archived per app and run, so a first run over months of history, or a long
// outage, catches up over several runs instead of outlasting one.
const HOURS_PER_RUN = 24;

const IN_HOUR = `app_id = {app:String}
  AND inserted_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND inserted_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
/** The rows of one file: an app-hour split by message id, so parts are disjoint and about equal. */
export const FILE_ROWS = `${IN_HOUR} AND cityHash64(message_id) % {parts:UInt64} = {part:UInt64}`;

const PARQUET_SETTINGS = { output_format_parquet_compression_method: "zstd", output_format_parquet_string_as_string: 1 } as const;

export async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  return (await client.query({ query, query_params: params, format: "JSONEachRow" })).json<T>();
}

/** The stored columns of `events` and a short id of that list, recorded with each file. */
export async function eventColumns(client: ClickHouseClient): Promise<{ id: string; columns: Column[] }> {
  const columns = await rows<Column>(
    client,
    "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events' AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position",
    {},
  );
  return { id: (await sha256Hex(JSON.stringify(columns))).slice(0, 12), columns };
}

// ClickHouse ends every Parquet file with this; an error it writes after the first bytes does not.
const PARQUET_MAGIC = "PAR1";

function wholeParquet(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let tail = new Uint8Array(0);
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const joined = new Uint8Array(tail.length + chunk.length);
        joined.set(tail);
        joined.set(chunk, tail.length);
        tail = joined.slice(-PARQUET_MAGIC.length);
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (new TextDecoder().decode(tail) !== PARQUET_MAGIC) controller.error(new Error("ClickHouse's answer is not a whole Parquet file"));
      },
    }),
  );
}

/** Writes the answer of `select` as one Parquet file at `key`, streamed from ClickHouse into R2. */
export async function writeParquet(deps: LakeDeps, bucket: R2Bucket, key: string, select: string, params: Record<string, unknown>): Promise<{ bytes: number }> {
  const { stream } = await deps.client.exec({ query: `${select} FORMAT Parquet`, query_params: params, clickhouse_settings: PARQUET_SETTINGS });
  return uploadStream(r2Store(bucket), key, wholeParquet(stream), { contentType: "application/vnd.apache.parquet", partBytes: deps.partBytes });
}

/** Where a set of files' rows come from: a table (or `{t:Identifier}`), a condition and its parameters. */
export interface RowsOf {
  from: string;
  where: string;
  params: Record<string, unknown>;
}

/**
 * Writes the rows as `parts` files split by message id (disjoint, about equal, each one query, as
 * replay's `present` check reads them); returns their manifest entries.
 */
export async function writeParts(deps: LakeDeps, bucket: R2Bucket, src: RowsOf, file: { parts: number; key: (part: number) => string; hour: number; hours?: number; schema: string; now: number }): Promise<LakeFile[]> {
  const params = { ...src.params, parts: file.parts };
  const stats = await rows<{ part: string; rows: string; min_ts: string; max_ts: string }>(
    deps.client,
    `SELECT cityHash64(message_id) % {parts:UInt64} AS part, count() AS rows, toUnixTimestamp64Milli(min(timestamp)) AS min_ts, toUnixTimestamp64Milli(max(timestamp)) AS max_ts
     FROM ${src.from} WHERE ${src.where} GROUP BY part ORDER BY part`,
    params,
  );
  const files: LakeFile[] = [];
  for (const s of stats) {
    const part = Number(s.part);
    const key = file.key(part + 1);
    const written = await writeParquet(deps, bucket, key, `SELECT * FROM ${src.from} WHERE ${src.where} AND cityHash64(message_id) % {parts:UInt64} = {part:UInt64} ORDER BY timestamp, message_id`, { ...params, part });
    files.push({
      key,
      hour: new Date(file.hour).toISOString(),
      ...(file.hours === undefined ? {} : { hours: file.hours }),
      part: part + 1,
      parts: file.parts,
      rows: Number(s.rows),
      bytes: written.bytes,
      minTimestamp: new Date(Number(s.min_ts)).toISOString(),
      maxTimestamp: new Date(Number(s.max_ts)).toISOString(),
      schema: file.schema,
      writtenAt: new Date(file.now).toISOString(),
    });
  }
  return files;
}

/** Writes the files of one app-hour; returns their manifest entries. */
function archiveHour(deps: LakeDeps, bucket: R2Bucket, appId: string, hour: number, hourRows: number, schema: string, now: number): Promise<LakeFile[]> {
  const parts = Math.max(1, Math.ceil(hourRows / (deps.rowsPerFile ?? ROWS_PER_FILE)));
  return writeParts(deps, bucket, { from: "events", where: IN_HOUR, params: { app: appId, from: hour, to: hour + HOUR_MS } }, { parts, key: (part) => fileKey(appId, hour, part, parts), hour, schema, now });
}

/** What one run archived for an app. */
export interface ArchiveResult {
  appId: string;
  hours: number;
  files: number;
  rows: number;
  /** Every stored hour before this is in the lake (ISO 8601), or null when the app has no rows yet. */
  archivedThrough: string | null;
}

/**
 * Archives an app's finished hours not yet in its lake: at most {@link HOURS_PER_RUN} hours with
 * rows, oldest first. Hours without rows cost nothing: one query finds the hours that have some.
 */
export async function archiveApp(deps: LakeDeps, app: { id: string; location: AppLocation }, now: number): Promise<ArchiveResult> {
  const bucket = archiveBucket(deps.buckets, app.location);
  const manifest = await readAppManifest(bucket, app.id);
  const from = manifest?.archivedThrough ? Date.parse(manifest.archivedThrough) : 0;
  const until = floorHour(now - SETTLE_MS);
  const result: ArchiveResult = { appId: app.id, hours: 0, files: 0, rows: 0, archivedThrough: manifest?.archivedThrough ?? null };
  if (until <= from) return result;
  const hours = await rows<{ hour: string; rows: string }>(
    deps.client,
    `SELECT toUnixTimestamp(toStartOfHour(inserted_at)) * 1000 AS hour, count() AS rows FROM events WHERE ${IN_HOUR}
     GROUP BY hour ORDER BY hour LIMIT {limit:UInt32}`,
    { app: app.id, from, to: until, limit: HOURS_PER_RUN },
  );
  if (hours.length === 0 && manifest === null) return result;
  const last = hours.at(-1);
  const through = hours.length === HOURS_PER_RUN && last !== undefined ? Number(last.hour) + HOUR_MS : until;
  const { id: schema, columns } = await eventColumns(deps.client);
  const files: LakeFile[] = [];
  for (const h of hours) files.push(...(await archiveHour(deps, bucket, app.id, Number(h.hour), Number(h.rows), schema, now)));
  const recorded = await recordFiles(bucket, app.id, { files, schemas: { [schema]: columns }, archivedThrough: through }, now);
  return { appId: app.id, hours: hours.length, files: files.length, rows: files.reduce((n, f) => n + f.rows, 0), archivedThrough: recorded.archivedThrough };
}

/** Runs `fn` for every live app, one after another; an app that fails is reported and the others go on. */
export async function forEachApp<T>(db: D1Database, fn: (app: { id: string; location: AppLocation }) => Promise<T>): Promise<{ done: T[]; failed: Array<{ appId: string; error: string }> }> {
  const done: T[] = [];
  const failed: Array<{ appId: string; error: string }> = [];
  for (const app of await listApps(db, OPERATOR)) {
    try {
      done.push(await fn(app));
    } catch (err) {
      failed.push({ appId: app.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { done, failed };
}

/** The cron's part: every live app's finished hours; an app that fails is left for the next run. */
export async function archiveAllApps(deps: LakeDeps & { db: D1Database }, now: number): Promise<{ archived: ArchiveResult[]; failed: Array<{ appId: string; error: string }> }> {
  const { done, failed } = await forEachApp(deps.db, (app) => archiveApp(deps, app, now));
  return { archived: done, failed };
}
