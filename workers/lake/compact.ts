// Daily compaction of an app's lake: once a UTC day is archived to its last hour, a day of a small
// app (24 files of kilobytes) is rewritten as one file, or as few as its rows allow, under
// `date=…/hour=all/`. ClickHouse does the rewriting from the lake's own files (ClickHouse may no
// longer hold the day): they are loaded into a temporary table and selected back as Parquet
// (docs/decisions/0025-data-lake.md).
import type { AppLocation } from "../../schemas";
import { archiveBucket } from "../apps/location";
import { insertFile } from "../lib/clickhouse";
import { eventColumns, forEachApp, ROWS_PER_FILE, rows, writeParts, type LakeDeps } from "./archive";
import { DAY_FILES, dayFileKey, HOUR_MS, lakePrefix, readAppManifest, readDayManifest, recordFiles, type LakeFile } from "./manifest";
import { withScratchTable } from "../lib/scratch";

const DAY_MS = 24 * HOUR_MS;
// Days gone through per app and run, so the first run over a long history catches up over several.
const DAYS_PER_RUN = 31;
// A day needing more files than this keeps its hourly ones: they already average ~170,000 rows
// (about 9 MB), and the temporary table holding the day stays a few GB of ClickHouse's disk at most.
const MAX_FILES_PER_DAY = 4;

/** What compaction needs beyond archiving: the ClickHouse connection files are inserted through. */
export type CompactDeps = LakeDeps & { clickhouse: Parameters<typeof insertFile>[0] };

const dayStart = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const isDayFile = (f: LakeFile): boolean => f.key.includes(`/${DAY_FILES}/`);

/** Rewrites a day's hourly files as `parts` files; returns them, or null when the day is already compacted. */
async function compactDay(deps: CompactDeps, bucket: R2Bucket, appId: string, date: string, parts: number, now: number): Promise<LakeFile[] | null> {
  const day = await readDayManifest(bucket, appId, date);
  const hourly = (day?.files ?? []).filter((f) => !isDayFile(f));
  if (hourly.length === 0) return null;
  const { id: schema, columns } = await eventColumns(deps.client);
  return withScratchTable(deps.client, "lake_compact_", { like: "events" }, async (t) => {
    for (const f of hourly) {
      const object = await bucket.get(f.key);
      if (object === null) throw new Error(`lake file ${f.key} is in the manifest but not in the bucket`);
      await insertFile(deps.clickhouse, { table: t, format: "Parquet", body: object.body, settings: { insert_deduplicate: "0" } });
    }
    // Nothing is written unless the files held every row their manifest lists.
    const [loaded] = await rows<{ n: string }>(deps.client, "SELECT count() AS n FROM {t:Identifier}", { t });
    const expected = hourly.reduce((n, f) => n + f.rows, 0);
    if (Number(loaded?.n) !== expected) throw new Error(`lake day ${date} of ${appId}: its files hold ${loaded?.n ?? 0} rows, its manifest says ${expected}`);
    const files = await writeParts(deps, bucket, { from: "{t:Identifier}", where: "1", params: { t } }, { parts, key: (part) => dayFileKey(appId, date, part, parts), hour: dayStart(date), hours: 24, schema, now });
    // The day manifest now lists the day's files and not the hourly ones: readers of the manifest see each row once.
    await recordFiles(bucket, appId, { files, removed: hourly, schemas: { [schema]: columns }, archivedThrough: 0 }, now);
    return files;
  });
}

/**
 * Deletes a compacted day's Parquet files its manifest no longer lists (the hourly files it
 * replaced, or those a run that stopped after the manifest left behind); returns how many.
 */
async function sweepDay(bucket: R2Bucket, appId: string, date: string): Promise<number> {
  const prefix = `${lakePrefix(appId)}date=${date}/`;
  const stored = (await bucket.list({ prefix })).objects.map((o) => o.key).filter((k) => k.endsWith(".parquet"));
  if (!stored.some((k) => k.startsWith(`${prefix}${DAY_FILES}/`))) return 0;
  const listed = new Set((await readDayManifest(bucket, appId, date))?.files.map((f) => f.key));
  const stale = stored.filter((k) => !listed.has(k));
  if (stale.length > 0) await bucket.delete(stale);
  return stale.length;
}

/** What one run compacted for an app. */
export interface CompactResult {
  appId: string;
  days: number;
  filesBefore: number;
  filesAfter: number;
}

/**
 * Compacts an app's days archived to their last hour and not yet gone through, oldest first, at
 * most {@link DAYS_PER_RUN}. A day is rewritten when it needs fewer files than it has (at most
 * {@link MAX_FILES_PER_DAY}); `compactedThrough` moves past a day only once its old files are
 * deleted, so a run that stops half-way is finished by the next.
 */
export async function compactApp(deps: CompactDeps, app: { id: string; location: AppLocation }, now: number): Promise<CompactResult> {
  const bucket = archiveBucket(deps.buckets, app.location);
  const result: CompactResult = { appId: app.id, days: 0, filesBefore: 0, filesAfter: 0 };
  const manifest = await readAppManifest(bucket, app.id);
  if (manifest === null || manifest.archivedThrough === null) return result;
  const from = manifest.compactedThrough === undefined ? 0 : Date.parse(manifest.compactedThrough);
  const finished = Math.floor(Date.parse(manifest.archivedThrough) / DAY_MS) * DAY_MS;
  if (finished <= from) return result;
  let through = finished;
  let seen = 0;
  for (const day of manifest.days) {
    const start = dayStart(day.date);
    if (start < from) continue;
    if (start >= finished) break;
    if (seen++ === DAYS_PER_RUN) {
      through = start;
      break;
    }
    const parts = Math.max(1, Math.ceil(day.rows / (deps.rowsPerFile ?? ROWS_PER_FILE)));
    if (parts < day.files && parts <= MAX_FILES_PER_DAY) {
      const files = await compactDay(deps, bucket, app.id, day.date, parts, now);
      if (files !== null) {
        result.days += 1;
        result.filesBefore += day.files;
        result.filesAfter += files.length;
      }
    }
    await sweepDay(bucket, app.id, day.date);
  }
  await recordFiles(bucket, app.id, { files: [], schemas: {}, archivedThrough: 0, compactedThrough: through }, now);
  return result;
}

/** The cron's part: every live app's finished days; an app that fails is left for the next run. */
export async function compactAllApps(deps: CompactDeps & { db: D1Database }, now: number): Promise<{ compacted: CompactResult[]; failed: Array<{ appId: string; error: string }> }> {
  const { done, failed } = await forEachApp(deps.db, (app) => compactApp(deps, app, now));
  return { compacted: done, failed };
}
