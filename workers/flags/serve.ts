// What devices get: an app's flags evaluated for one caller, and its configuration, served from
// the isolate (decision record 0023). Each isolate keeps an app's parsed definitions under the
// app's change count (apps.flags_version) and asks D1 for that count at most every RECHECK_MS;
// only when it moved does it read the definitions again. So a steady stream of calls reads
// nothing from D1, and a change is served everywhere within RECHECK_MS (FLAGS_RECHECK_MS) of being saved.
import { z } from "zod";
import type { Flag, FlagSubject, FlagValue } from "../../schemas";
import { HttpError } from "../lib/errors";
import { zodMessage } from "../lib/validate";
import type { AppConfig } from "./config";
import { evaluateFlags, murmur3 } from "./evaluate";
import { flagsVersion, getConfig, listFlags } from "./store";

/** How long an isolate serves an app's definitions before it checks they are still current, unless FLAGS_RECHECK_MS says otherwise. */
export const RECHECK_MS = 5_000;
const MAX_APPS = 2_000;

/** An app's definitions as one isolate holds them. */
export interface AppFlags {
  version: number;
  flags: Flag[];
  config: AppConfig;
}

interface Entry {
  loading: Promise<AppFlags | null>;
  checkedAt: number;
  value: AppFlags | null;
}

const cache = new Map<string, Entry>();

async function load(db: D1Database, appId: string, held: AppFlags | null): Promise<AppFlags | null> {
  const version = await flagsVersion(db, appId);
  if (version === null) return null;
  if (held && held.version === version) return held;
  const [stored, config] = await Promise.all([listFlags(db, appId), getConfig(db, appId)]);
  return { version, flags: stored.map((s) => s.flag), config: config.config };
}

/**
 * The app's flags and configuration, from this isolate when they were checked in the last
 * RECHECK_MS; null for an app that does not exist (or no longer does). Concurrent calls on a
 * cold isolate share one read.
 */
export async function appFlags(db: D1Database, appId: string, now = Date.now(), recheckMs = RECHECK_MS): Promise<AppFlags | null> {
  const hit = cache.get(appId);
  if (hit && now - hit.checkedAt < recheckMs) return hit.value ?? hit.loading;
  if (cache.size >= MAX_APPS && !hit) cache.clear();
  const loading = load(db, appId, hit?.value ?? null);
  const entry: Entry = { loading, checkedAt: now, value: null };
  cache.set(appId, entry);
  try {
    entry.value = await loading;
    return entry.value;
  } catch (err) {
    // A failed read is not remembered: the next call tries again.
    if (cache.get(appId) === entry) {
      if (hit) cache.set(appId, hit);
      else cache.delete(appId);
    }
    throw err;
  }
}

/** Forgets every app's definitions, for tests that change them and look at once. */
export function clearFlagsCache(): void {
  cache.clear();
}

const Text = z.string().trim().max(200);
const MAX_TRAITS_BYTES = 8 * 1024;

/** A caller as a device describes itself, in `/v1/config`'s query or `/v1/flags`' body. */
export const CallerInput = z.object({
  userId: Text.optional(),
  anonymousId: Text.optional(),
  platform: Text.optional(),
  os: Text.optional(),
  appVersion: Text.optional(),
  locale: Text.optional(),
  traits: z.record(z.string().max(100), z.unknown()).optional(),
});
export type CallerInput = z.infer<typeof CallerInput>;

/** The caller from a query string's parameters, with `traits` as a JSON object in one parameter. */
export function callerFromQuery(query: (name: string) => string | undefined): CallerInput {
  const raw: Record<string, unknown> = {};
  for (const name of ["userId", "anonymousId", "platform", "os", "appVersion", "locale"] as const) {
    const v = query(name);
    if (v !== undefined && v !== "") raw[name] = v;
  }
  const traits = query("traits");
  if (traits !== undefined && traits !== "") {
    if (traits.length > MAX_TRAITS_BYTES) throw new HttpError(400, "invalid_body", `traits are at most ${MAX_TRAITS_BYTES} bytes`);
    try {
      raw.traits = JSON.parse(traits);
    } catch {
      throw new HttpError(400, "invalid_body", "traits must be a JSON object, URL-encoded");
    }
  }
  return caller(raw);
}

/** Checks a caller given as JSON, answering 400 with what is wrong. */
export function caller(raw: unknown): CallerInput {
  const parsed = CallerInput.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, "invalid_body", zodMessage(parsed.error.issues));
  if (parsed.data.traits && JSON.stringify(parsed.data.traits).length > MAX_TRAITS_BYTES) throw new HttpError(400, "invalid_body", `traits are at most ${MAX_TRAITS_BYTES} bytes`);
  return parsed.data;
}

/** One flag as a device gets it. */
export interface ServedFlag {
  variant: string;
  value: FlagValue;
}

/** What `/v1/config` and `/v1/flags` answer, and its ETag. */
export interface Served {
  body: string;
  etag: string;
}

/** Each of the app's flags for the caller: its variant and value. */
export function flagsFor(app: AppFlags, who: CallerInput, country: string | undefined): Record<string, ServedFlag> {
  const subject: FlagSubject = { ...who, ...(country ? { country } : {}) };
  const flags: Record<string, ServedFlag> = {};
  for (const [key, a] of Object.entries(evaluateFlags(app.flags, subject))) flags[key] = { variant: a.variant, value: a.value };
  return flags;
}

/**
 * The caller's answer: the SDK's switches (`sdk`), the app's configuration, each flag's variant
 * for the caller, and the version they come from. The ETag is a hash of the answer itself, so
 * it changes exactly when what this caller gets does, not when another caller's rule changes.
 */
export function serve(app: AppFlags, sdk: object, who: CallerInput, country: string | undefined): Served {
  const body = JSON.stringify({ ...sdk, config: app.config, flags: flagsFor(app, who, country), version: app.version });
  // Two 32-bit hashes: a collision would keep a device on its old answer until the next change.
  const etag = `"${murmur3(body).toString(36)}-${murmur3(body, 0x9747b28c).toString(36)}"`;
  return { body, etag };
}

/** True when an `If-None-Match` header names the ETag (or is `*`), weak or strong. */
export function notModified(ifNoneMatch: string | undefined | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}
