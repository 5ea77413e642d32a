// Source maps in R2, by app and release: the one place that names, checks, writes, lists, reads
// and deletes them, for the admin API and for symbolication at ingest.
import { deletePrefix } from "../lib/r2";

/**
 * The largest map accepted: the Worker that maps crashes parses the whole map within its 128 MB
 * (docs/decisions/0009-source-maps-and-grouping-rules.md).
 */
export const MAX_SOURCE_MAP_BYTES = 25 * 1024 * 1024;

const PREFIX = "sourcemaps/";
// Versions as teams write them (`1.4.0`, `1.4.0+212`, `shop@2026.11.30`, a commit hash); no
// slash, so a release is one level of the R2 key.
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+@-]{0,199}$/;
// The basename of the minified JavaScript file a map belongs to, e.g. `app.3f2a1b.js`.
const FILE = /^[A-Za-z0-9_$][A-Za-z0-9._~@+$-]{0,199}\.(?:js|mjs|cjs)$/;

/** Whether a release name can key source maps: `isRelease("1.4.0+212") === true`. */
export const isRelease = (release: string): boolean => RELEASE.test(release);

/** Whether a name is a minified JavaScript file's basename: `isScriptName("app.3f2a1b.js") === true`. */
export const isScriptName = (file: string): boolean => FILE.test(file);

/**
 * The basename a stack frame's file is looked up by, without host, path, query or hash; null
 * when it is not a JavaScript file: `scriptBasename("https://cdn.example/js/app.3f2a1b.js?v=2") === "app.3f2a1b.js"`.
 */
export function scriptBasename(file: string): string | null {
  const path = file.replace(/[?#].*$/, "");
  const base = path.slice(path.lastIndexOf("/") + 1);
  return FILE.test(base) ? base : null;
}

const releasePrefix = (appId: string, release: string): string => `${PREFIX}${appId}/${release}/`;
const keyOf = (appId: string, release: string, file: string): string => `${releasePrefix(appId, release)}${file}.map`;

/** A source map as parsed: the fields a v3 map (or an index map of sections) must have. */
export type SourceMapJson = Record<string, unknown> & { version: 3 };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === "string" || s === null);

function plainMapProblem(m: Record<string, unknown>, where: string): string | null {
  if (m.version !== 3) return `${where}version must be 3`;
  if (typeof m.mappings !== "string") return `${where}mappings must be a string`;
  if (!isStrings(m.sources)) return `${where}sources must be a list of file names`;
  if (m.names !== undefined && !isStrings(m.names)) return `${where}names must be a list of names`;
  return null;
}

/**
 * Parses and checks a source map v3 (plain, or an index map of sections), dropping
 * `sourcesContent`, which mapping frames never reads. Returns the map, or what is wrong with it.
 */
export function parseSourceMap(text: string): SourceMapJson | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "the body is not JSON";
  }
  if (!isObject(parsed)) return "a source map is a JSON object";
  if (Array.isArray(parsed.sections)) {
    if (parsed.version !== 3) return "version must be 3";
    for (const [i, section] of parsed.sections.entries()) {
      const map = isObject(section) ? section.map : undefined;
      if (!isObject(section) || !isObject(section.offset) || !isObject(map)) return `sections[${i}] needs an offset and a map`;
      const problem = plainMapProblem(map, `sections[${i}].map: `);
      if (problem) return problem;
      delete map.sourcesContent;
    }
  } else {
    const problem = plainMapProblem(parsed, "");
    if (problem) return problem;
  }
  delete parsed.sourcesContent;
  return parsed as SourceMapJson;
}

/** Stores a checked map for the minified `file` of an app's release, replacing any earlier one; returns its stored size. */
export async function putSourceMap(bucket: R2Bucket, appId: string, release: string, file: string, map: SourceMapJson): Promise<number> {
  const body = JSON.stringify(map);
  await bucket.put(keyOf(appId, release, file), body, { httpMetadata: { contentType: "application/json" } });
  return new TextEncoder().encode(body).byteLength;
}

/** One stored map of a release, as listed. */
export interface StoredSourceMap {
  file: string;
  bytes: number;
  uploaded: string;
}

/** The maps of an app's release, by minified file name. */
export async function listSourceMaps(bucket: R2Bucket, appId: string, release: string): Promise<StoredSourceMap[]> {
  const prefix = releasePrefix(appId, release);
  const out: StoredSourceMap[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) out.push({ file: o.key.slice(prefix.length).replace(/\.map$/, ""), bytes: o.size, uploaded: o.uploaded.toISOString() });
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Deletes every map of an app's release; returns how many there were. */
export async function deleteSourceMaps(bucket: R2Bucket, appId: string, release: string): Promise<number> {
  const files = await listSourceMaps(bucket, appId, release);
  const keys = files.map((f) => keyOf(appId, release, f.file));
  // R2 deletes at most 1,000 keys a call.
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
  return keys.length;
}

/** Deletes every map of every release of an app, when the app itself is deleted; returns how many there were. */
export function deleteAppSourceMaps(bucket: R2Bucket, appId: string): Promise<number> {
  return deletePrefix(bucket, `${PREFIX}${appId}/`);
}

/** The stored map text for a minified file of an app's release, or null when none was uploaded. */
export async function readSourceMap(bucket: Pick<R2Bucket, "get">, appId: string, release: string, file: string): Promise<string | null> {
  const object = await bucket.get(keyOf(appId, release, file));
  return object ? object.text() : null;
}
