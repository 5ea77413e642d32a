// The data lake's layout in an app's bucket and its manifests (docs/decisions/0025-data-lake.md).
// Hive-style partitions, so DuckDB, Spark and ClickHouse's s3() read them by glob:
//   lake/app=<app>/manifest.json                                  what is archived, by day
//   lake/app=<app>/date=YYYY-MM-DD/manifest.json                  that day's files
//   lake/app=<app>/date=YYYY-MM-DD/hour=HH/part-NNNN-of-NNNN.parquet
//   lake/app=<app>/date=YYYY-MM-DD/hour=all/part-NNNN-of-NNNN.parquet   a compacted day (./compact.ts)
// The hour is the hour the rows were stored in ClickHouse (`inserted_at`), so an hour is final
// once it is over and a late event lands in the hour it arrived in.
import { z } from "zod";
import { deletePrefix } from "../lib/r2";

export const LAKE_FORMAT = 1;
const HOUR_MS = 3_600_000;

export const lakePrefix = (appId: string): string => `lake/app=${appId}/`;
export const appManifestKey = (appId: string): string => `${lakePrefix(appId)}manifest.json`;
export const dayOf = (hourStart: number): string => new Date(hourStart).toISOString().slice(0, 10);
export const dayManifestKey = (appId: string, day: string): string => `${lakePrefix(appId)}date=${day}/manifest.json`;
export const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
export { HOUR_MS };

const pad = (n: number): string => String(n).padStart(4, "0");

/**
 * A compacted day's files keep the hour level (`hour=all`): Spark's and DuckDB's Hive partition
 * discovery refuse a glob whose files sit at different depths.
 */
export const DAY_FILES = "hour=all";
export const dayFileKey = (appId: string, day: string, part: number, parts: number): string => `${lakePrefix(appId)}date=${day}/${DAY_FILES}/part-${pad(part)}-of-${pad(parts)}.parquet`;

/** The key of one file of an app-hour; part numbers count from 1, zero-padded so keys sort in order. */
export function fileKey(appId: string, hourStart: number, part: number, parts: number): string {
  const hh = new Date(hourStart).toISOString().slice(11, 13);
  return `${lakePrefix(appId)}date=${dayOf(hourStart)}/hour=${hh}/part-${pad(part)}-of-${pad(parts)}.parquet`;
}

const Column = z.object({ name: z.string(), type: z.string() });
export type Column = z.infer<typeof Column>;

const LakeFile = z.object({
  key: z.string(),
  /** Start of the stored hour, ISO 8601. */
  hour: z.string(),
  /** Stored hours the file holds from `hour`: 24 for a compacted day; absent for one hour. */
  hours: z.number().int().positive().optional(),
  part: z.number().int().positive(),
  parts: z.number().int().positive(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** The events' own time range (their `timestamp`), ISO 8601. */
  minTimestamp: z.string(),
  maxTimestamp: z.string(),
  /** Key of the file's columns in its day manifest's `schemas`. */
  schema: z.string(),
  writtenAt: z.string(),
});
export type LakeFile = z.infer<typeof LakeFile>;

/** The stored hours [from, to) of a file's rows. */
export const storedRange = (f: Pick<LakeFile, "hour" | "hours">): { from: number; to: number } => {
  const from = Date.parse(f.hour);
  return { from, to: from + (f.hours ?? 1) * HOUR_MS };
};

const DayManifest = z.object({
  format: z.literal(LAKE_FORMAT),
  app: z.string(),
  date: z.string(),
  schemas: z.record(z.string(), z.array(Column)),
  files: z.array(LakeFile),
});
export type DayManifest = z.infer<typeof DayManifest>;

const DaySummary = z.object({ date: z.string(), files: z.number().int(), rows: z.number().int(), bytes: z.number().int() });
export type DaySummary = z.infer<typeof DaySummary>;

const AppManifest = z.object({
  format: z.literal(LAKE_FORMAT),
  app: z.string(),
  /** Every stored hour before this instant (ISO 8601) is in the lake; null before the first run that found rows. */
  archivedThrough: z.string().nullable(),
  /** Every day before this instant (ISO 8601) has been considered for compaction; absent before the first. */
  compactedThrough: z.string().optional(),
  days: z.array(DaySummary),
  updatedAt: z.string(),
});
export type AppManifest = z.infer<typeof AppManifest>;

async function readJson<T>(bucket: R2Bucket, key: string, schema: z.ZodType<T>): Promise<T | null> {
  const object = await bucket.get(key);
  if (object === null) return null;
  const parsed = schema.safeParse(await object.json());
  if (!parsed.success) throw new Error(`lake manifest ${key} is not one this version reads: ${parsed.error.message}`);
  return parsed.data;
}

const putJson = async (bucket: R2Bucket, key: string, value: unknown): Promise<void> => {
  await bucket.put(key, JSON.stringify(value), { httpMetadata: { contentType: "application/json" } });
};

export const readAppManifest = (bucket: R2Bucket, appId: string): Promise<AppManifest | null> => readJson(bucket, appManifestKey(appId), AppManifest);
export const readDayManifest = (bucket: R2Bucket, appId: string, day: string): Promise<DayManifest | null> => readJson(bucket, dayManifestKey(appId, day), DayManifest);

/** What changed in an app's lake: files written (replacing entries of the same key) and files removed. */
export interface LakeChange {
  files: readonly LakeFile[];
  removed?: readonly { key: string; hour: string }[];
  schemas: Record<string, Column[]>;
  /** Every stored hour before this is now archived; 0 leaves the manifest's as it is. */
  archivedThrough: number;
  /** Every day before this is now compacted or left as it is; absent leaves the manifest's as it is. */
  compactedThrough?: number;
}

/**
 * Records a change: each day manifest first, then the app's, so a crash in between leaves at
 * worst files no manifest lists, never a listed file missing.
 */
export async function recordFiles(bucket: R2Bucket, appId: string, change: LakeChange, now: number): Promise<AppManifest> {
  const app = (await readAppManifest(bucket, appId)) ?? { format: LAKE_FORMAT, app: appId, archivedThrough: null, days: [], updatedAt: "" };
  const days = new Map(app.days.map((d) => [d.date, d]));
  const byDay = new Map<string, { written: LakeFile[]; removed: Set<string> }>();
  const dayChange = (hour: string): { written: LakeFile[]; removed: Set<string> } => {
    const date = hour.slice(0, 10);
    const known = byDay.get(date);
    if (known !== undefined) return known;
    const fresh = { written: [], removed: new Set<string>() };
    byDay.set(date, fresh);
    return fresh;
  };
  for (const f of change.files) dayChange(f.hour).written.push(f);
  for (const r of change.removed ?? []) dayChange(r.hour).removed.add(r.key);
  for (const [date, { written, removed }] of byDay) {
    const day: DayManifest = (await readDayManifest(bucket, appId, date)) ?? { format: LAKE_FORMAT, app: appId, date, schemas: {}, files: [] };
    const replaced = new Set([...written.map((f) => f.key), ...removed]);
    day.files = [...day.files.filter((f) => !replaced.has(f.key)), ...written].sort((a, b) => a.key.localeCompare(b.key));
    for (const f of written) day.schemas[f.schema] = change.schemas[f.schema] ?? day.schemas[f.schema] ?? [];
    await putJson(bucket, dayManifestKey(appId, date), day);
    days.set(date, { date, files: day.files.length, rows: sum(day.files, (f) => f.rows), bytes: sum(day.files, (f) => f.bytes) });
  }
  const through = Math.max(change.archivedThrough, app.archivedThrough === null ? 0 : Date.parse(app.archivedThrough));
  const compacted = Math.max(change.compactedThrough ?? 0, app.compactedThrough === undefined ? 0 : Date.parse(app.compactedThrough));
  const next: AppManifest = {
    format: LAKE_FORMAT,
    app: appId,
    archivedThrough: through === 0 ? null : new Date(through).toISOString(),
    ...(compacted === 0 ? {} : { compactedThrough: new Date(compacted).toISOString() }),
    days: [...days.values()].sort((a, b) => a.date.localeCompare(b.date)),
    updatedAt: new Date(now).toISOString(),
  };
  await putJson(bucket, appManifestKey(appId), next);
  return next;
}

/**
 * The files of stored hours [from, to) (all when not given) whose keys come after `after`, in key order, at most
 * `limit`; day manifests are read only for days that can hold such files.
 */
export async function filesAfter(bucket: R2Bucket, appId: string, range: { from?: number; to?: number; after?: string; limit: number }): Promise<LakeFile[]> {
  const manifest = await readAppManifest(bucket, appId);
  if (manifest === null) return [];
  const from = range.from ?? 0;
  const to = range.to ?? Infinity;
  const firstDay = dayOf(from);
  const lastDay = Number.isFinite(to) ? dayOf(Math.max(from, to - 1)) : "9999-12-31";
  // Days before the one of the `after` key are done.
  const afterDay = range.after === undefined ? "" : (/date=(\d{4}-\d{2}-\d{2})\//.exec(range.after)?.[1] ?? "");
  const out: LakeFile[] = [];
  for (const day of manifest.days) {
    if (day.date < firstDay || day.date > lastDay || day.date < afterDay) continue;
    const m = await readDayManifest(bucket, appId, day.date);
    for (const f of m?.files ?? []) {
      // A compacted day's file is in any range that overlaps its day.
      const stored = storedRange(f);
      if (stored.from < to && stored.to > from && (range.after === undefined || f.key > range.after)) out.push(f);
    }
    if (out.length >= range.limit) break;
  }
  return out.sort((a, b) => a.key.localeCompare(b.key)).slice(0, range.limit);
}

const sum = <T>(items: readonly T[], of: (item: T) => number): number => items.reduce((n, item) => n + of(item), 0);

/** Deletes every object of an app's lake, when the app is deleted; returns how many there were. */
export const deleteAppLake = (bucket: R2Bucket, appId: string): Promise<number> => deletePrefix(bucket, lakePrefix(appId));
