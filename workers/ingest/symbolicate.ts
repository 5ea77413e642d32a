// Source-mapped crash frames at ingest: grouping needs the original names, so frames are mapped
// before the fingerprint is computed (docs/decisions/0009-source-maps-and-grouping-rules.md).
import { FlattenMap, isIgnored, originalPositionFor, type TraceMap } from "@jridgewell/trace-mapping";
import type { StackFrame } from "../../schemas";
import { isRecord, recordOf } from "../lib/json";
import { isRelease, readSourceMap, scriptBasename } from "../sourcemaps/store";
import type { GroupedFrame } from "./fingerprint";
import { errorText, log } from "../lib/log";

/** A crash frame after mapping: the original position, with the minified one kept in `minified`. */
export type MappedFrame = GroupedFrame;

/** Maps a crash's frames (innermost first) for its release; frames without a map come back as sent. */
export type Symbolicator = (release: string, frames: readonly StackFrame[]) => MappedFrame[];

interface Entry {
  map: TraceMap | null;
  cost: number;
  expires: number;
}

// Decoded maps stay in the isolate so ingest reads R2 once per map, not per crash. The budget
// counts a map's stored text three times over: decoded segments take more room than their VLQ.
const CACHE_BUDGET = 48 * 1024 * 1024;
const DECODED_FACTOR = 3;
// A re-uploaded map reaches every isolate within the positive TTL; a crash of a release whose
// maps are missing costs one R2 read a minute per file and isolate.
const FOUND_TTL_MS = 10 * 60_000;
const MISSING_TTL_MS = 60_000;
const FAILED_TTL_MS = 10_000;
// Each map is one R2 read, and a Worker has six connections open at a time.
const MAX_MAPS_PER_REQUEST = 6;

const cache = new Map<string, Entry>();
let cacheCost = 0;

const cacheKey = (appId: string, release: string, file: string): string => `${appId}\n${release}\n${file}`;

function remember(key: string, entry: Entry): void {
  const old = cache.get(key);
  if (old) {
    cacheCost -= old.cost;
    cache.delete(key);
  }
  if (entry.cost > CACHE_BUDGET) return;
  cache.set(key, entry);
  cacheCost += entry.cost;
  // Map iteration follows insertion order, and a hit is re-inserted: the first key is the least recently used.
  for (const [k, e] of cache) {
    if (cacheCost <= CACHE_BUDGET) break;
    cache.delete(k);
    cacheCost -= e.cost;
  }
}

function cached(key: string, now: number): Entry | undefined {
  const hit = cache.get(key);
  if (!hit) return undefined;
  if (hit.expires <= now) {
    cache.delete(key);
    cacheCost -= hit.cost;
    return undefined;
  }
  cache.delete(key);
  cache.set(key, hit);
  return hit;
}

/** Drops this isolate's copies of a release's maps, after an upload or a delete through it. */
export function forgetSourceMaps(appId: string, release: string): void {
  const prefix = cacheKey(appId, release, "");
  for (const [k, e] of cache) {
    if (!k.startsWith(prefix)) continue;
    cache.delete(k);
    cacheCost -= e.cost;
  }
}

// The map is decoded here, inside the guard, so a corrupt one is found once and never fails an event.
function decode(text: string): TraceMap {
  const map = new FlattenMap(text);
  originalPositionFor(map, { line: 1, column: 0 });
  return map;
}

// Requests that miss the same map at once each read it: a promise shared across requests would
// tie one request's wait to another's I/O, which Workers forbid.
async function load(bucket: Pick<R2Bucket, "get">, appId: string, release: string, file: string): Promise<TraceMap | null> {
  const key = cacheKey(appId, release, file);
  const hit = cached(key, Date.now());
  if (hit) return hit.map;
  const now = Date.now();
  let text: string | null;
  try {
    text = await readSourceMap(bucket, appId, release, file);
  } catch (err) {
    log.error("source_maps.read_failed", { app: appId, release, file, error: errorText(err) });
    remember(key, { map: null, cost: 0, expires: now + FAILED_TTL_MS });
    return null;
  }
  let map: TraceMap | null = null;
  if (text !== null) {
    try {
      map = decode(text);
    } catch (err) {
      log.warn("source_maps.undecodable", { app: appId, release, file, error: errorText(err) });
    }
  }
  remember(key, map ? { map, cost: (text?.length ?? 0) * DECODED_FACTOR, expires: now + FOUND_TTL_MS } : { map: null, cost: 0, expires: now + MISSING_TTL_MS });
  return map;
}

// Mirrors how normalize merges contexts: an event's own `app` replaces the batch's whole.
function releaseOf(event: Record<string, unknown>, batchContext: Record<string, unknown> | undefined): string {
  const own = recordOf(event.context);
  const app = recordOf("app" in own ? own.app : batchContext?.app);
  const v = app.version;
  return typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : "";
}

/** The (release, minified file) pairs a batch's crashes need maps for. */
function wantedMaps(events: readonly unknown[], batchContext: Record<string, unknown> | undefined): Array<{ release: string; file: string }> {
  const wanted = new Map<string, { release: string; file: string }>();
  for (const raw of events) {
    if (!isRecord(raw) || raw.type !== "crash") continue;
    const frames = recordOf(raw.error).frames;
    if (!Array.isArray(frames) || frames.length === 0) continue;
    const release = releaseOf(raw, batchContext);
    if (!isRelease(release)) continue;
    for (const f of frames) {
      const file = isRecord(f) && typeof f.file === "string" ? scriptBasename(f.file) : null;
      if (file) wanted.set(`${release}\n${file}`, { release, file });
      if (wanted.size >= MAX_MAPS_PER_REQUEST) return [...wanted.values()];
    }
  }
  return [...wanted.values()];
}

interface Original {
  file: string;
  line: number;
  column: number;
  name: string | null;
  ignored: boolean;
}

function originalOf(frame: StackFrame, maps: ReadonlyMap<string, TraceMap>): Original | null {
  if (frame.file === undefined || frame.line === undefined || frame.column === undefined || frame.line < 1 || frame.column < 1) return null;
  const base = scriptBasename(frame.file);
  const map = base ? maps.get(base) : undefined;
  if (!map) return null;
  // Stack traces count columns from 1, source maps from 0.
  const pos = originalPositionFor(map, { line: frame.line, column: frame.column - 1 });
  if (pos.source === null) return null;
  return { file: pos.source, line: pos.line, column: pos.column + 1, name: pos.name, ignored: isIgnored(map, pos.source) };
}

/**
 * Maps frames with the given maps (by minified file basename). A frame's original name is the
 * name the map gives at its caller's call site, where the minifier renamed the function being
 * called; a frame the map names nothing for keeps its minified name. Frames whose original
 * source is a dependency (`node_modules`, or on the map's ignore list) are not in-app.
 */
export function mapFrames(frames: readonly StackFrame[], maps: ReadonlyMap<string, TraceMap>): MappedFrame[] {
  const originals = frames.map((f) => originalOf(f, maps));
  return frames.map((frame, i): MappedFrame => {
    const original = originals[i];
    if (!original) return frame;
    const name = originals[i + 1]?.name ?? frame.function;
    const dependency = original.ignored || /(^|[/\\])node_modules[/\\]/.test(original.file);
    return {
      ...frame,
      ...(name === undefined ? {} : { function: name }),
      file: original.file,
      line: original.line,
      column: original.column,
      inApp: !dependency,
      minified: {
        ...(frame.function === undefined ? {} : { function: frame.function }),
        file: frame.file,
        line: frame.line,
        column: frame.column,
      },
    };
  });
}

/**
 * Loads the source maps a batch's crashes need (their release's maps for the minified files in
 * their frames, from the isolate's cache or R2) and returns what maps their frames at
 * normalization; `undefined` when no crash of the batch could use a map, so other events pay
 * nothing. A map that is missing, unreadable or corrupt leaves its frames as sent.
 */
export async function loadSymbolicator(
  bucket: Pick<R2Bucket, "get">,
  appId: string,
  events: readonly unknown[],
  batchContext: Record<string, unknown> | undefined,
): Promise<Symbolicator | undefined> {
  const wanted = wantedMaps(events, batchContext);
  if (wanted.length === 0) return undefined;
  const loaded = await Promise.all(wanted.map(async (w) => ({ ...w, map: await load(bucket, appId, w.release, w.file) })));
  const byRelease = new Map<string, Map<string, TraceMap>>();
  for (const { release, file, map } of loaded) {
    if (!map) continue;
    const maps = byRelease.get(release) ?? new Map<string, TraceMap>();
    maps.set(file, map);
    byRelease.set(release, maps);
  }
  if (byRelease.size === 0) return undefined;
  return (release, frames) => {
    const maps = byRelease.get(release);
    if (!maps) return [...frames];
    try {
      return mapFrames(frames, maps);
    } catch (err) {
      log.error("source_maps.mapping_failed", { release, error: errorText(err) });
      return [...frames];
    }
  };
}
