import type { Flag, FlagAnswer, FlagAttribute, FlagCondition, FlagServe, FlagSubject } from "../../schemas/flags";
import { satisfies } from "./semver";

// Evaluates flags for one caller at the edge: pure, synchronous, no I/O, no node: modules.
//
// Bucketing: a caller's id is its userId, else its anonymousId, else none. With an id, a flag's
// rollout bucket is MurmurHash3 (x86, 32 bits, UTF-8) of `${flag.key}.${id}` over 2^32, in [0, 1),
// and a rollout of R admits a bucket below R/100: the same caller gets the same answer everywhere,
// and raising a rollout only ever adds callers. The flag key in the input spreads each flag's
// callers independently of other flags'. A split picks its variant by a second hash, of
// `${flag.key}.split.${id}`, so which variant a caller gets is independent of whether the rollout
// let it in. A caller with no id cannot be kept stable, so only a full (100 %) rollout admits it,
// and a split serves it as it would a caller whose id is "" (one fixed variant per flag).

const ANONYMOUS_ID = "";

// UTF-8 bytes of the hashed string; one buffer per isolate, grown when a longer key comes by.
let bytes = new Uint8Array(256);

function utf8(s: string): number {
  if (bytes.length < s.length * 3) bytes = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) bytes[n++] = c;
    else if (c < 0x800) {
      bytes[n++] = 0xc0 | (c >> 6);
      bytes[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = s.charCodeAt(i + 1);
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          bytes[n++] = 0xf0 | (c >> 18);
          bytes[n++] = 0x80 | ((c >> 12) & 0x3f);
          bytes[n++] = 0x80 | ((c >> 6) & 0x3f);
          bytes[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd; // a lone surrogate, as TextEncoder writes it
      }
      bytes[n++] = 0xe0 | (c >> 12);
      bytes[n++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** MurmurHash3 x86_32 of the string's UTF-8 bytes, as an unsigned 32-bit integer. */
export function murmur3(s: string, seed = 0): number {
  const len = utf8(s);
  const b = bytes;
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = b[blocks] ?? 0;
    if (tail > 1) k |= (b[blocks + 1] ?? 0) << 8;
    if (tail > 2) k |= (b[blocks + 2] ?? 0) << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A caller's bucket for a flag, in [0, 1). */
export function bucket(input: string): number {
  return murmur3(input) / 4294967296;
}

function callerId(subject: FlagSubject): string | undefined {
  if (subject.userId) return subject.userId;
  if (subject.anonymousId) return subject.anonymousId;
  return undefined;
}

// The three attributes a client may spell in any case (iOS / ios, US / us).
const CASE_INSENSITIVE = new Set(["country", "platform", "os"]);

const ATTRIBUTES: Record<FlagAttribute, (s: FlagSubject) => string | undefined> = {
  platform: (s) => s.platform,
  os: (s) => s.os,
  app_version: (s) => s.appVersion,
  country: (s) => s.country,
  locale: (s) => s.locale,
  user_id: (s) => s.userId,
  anonymous: (s) => (s.userId ? "false" : "true"),
};

/** A trait as text: strings, finite numbers and booleans; anything else (null, objects, arrays) counts as missing. */
function traitText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function traitNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function trait(subject: FlagSubject, key: string): unknown {
  const traits = subject.traits;
  return traits && Object.hasOwn(traits, key) ? traits[key] : undefined;
}

// An `in` list may hold a thousand ids: a set, built the second time the same condition object is
// tested, so flags held by the isolate look up in O(1) while flags read afresh for one request
// (each condition tested once) do not pay for a set they would use once.
const valueSets = new WeakMap<object, Set<string> | null>();

function inValues(c: { values: readonly string[] }, value: string, fold: boolean): boolean {
  const set = valueSets.get(c);
  if (set) return set.has(value);
  if (set === null) {
    const built = new Set(fold ? c.values.map((x) => x.toLowerCase()) : c.values);
    valueSets.set(c, built);
    return built.has(value);
  }
  valueSets.set(c, null);
  return fold ? c.values.some((x) => x.toLowerCase() === value) : c.values.includes(value);
}

export function conditionHolds(c: FlagCondition, subject: FlagSubject): boolean {
  switch (c.op) {
    case "in":
    case "not_in": {
      const fold = c.attribute !== undefined && CASE_INSENSITIVE.has(c.attribute);
      const raw = c.attribute !== undefined ? ATTRIBUTES[c.attribute](subject) : c.trait !== undefined ? traitText(trait(subject, c.trait)) : undefined;
      if (raw === undefined || raw === "") return c.op === "not_in";
      const found = inValues(c, fold ? raw.toLowerCase() : raw, fold);
      return c.op === "in" ? found : !found;
    }
    case "semver": {
      const version = subject.appVersion;
      return version !== undefined && version !== "" && satisfies(version, c.range);
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const n = traitNumber(trait(subject, c.trait));
      if (n === undefined) return false;
      return c.op === "gt" ? n > c.value : c.op === "gte" ? n >= c.value : c.op === "lt" ? n < c.value : n <= c.value;
    }
    case "contains": {
      const t = trait(subject, c.trait);
      return typeof t === "string" && t.includes(c.value);
    }
    case "exists":
    case "not_exists": {
      const t = trait(subject, c.trait);
      const present = t !== undefined && t !== null;
      return c.op === "exists" ? present : !present;
    }
  }
}

function answer(flag: Flag, variant: string, reason: FlagAnswer["reason"]): FlagAnswer {
  // At most 20 variants: a scan is cheaper than building a map for flags read afresh per request.
  const found = flag.variants.find((v) => v.key === variant);
  // A flag that passed the schema names only its own variants; null is the safe answer otherwise.
  return { variant, value: found ? found.value : null, reason };
}

function served(flag: Flag, serve: FlagServe, id: string | undefined): string {
  if ("variant" in serve) return serve.variant;
  const b = bucket(`${flag.key}.split.${id ?? ANONYMOUS_ID}`) * 100;
  let cumulative = 0;
  let last: string | undefined;
  for (const s of serve.split) {
    if (s.weight <= 0) continue;
    cumulative += s.weight;
    last = s.variant;
    if (b < cumulative) return s.variant;
  }
  // Weights that add up to a hair under 100 leave the top of the range to the last variant.
  return last ?? serve.split[0]?.variant ?? flag.offVariant;
}

export function evaluateFlag(flag: Flag, subject: FlagSubject): FlagAnswer {
  if (!flag.enabled) return answer(flag, flag.offVariant, "off");
  const id = callerId(subject);
  let rolloutBucket = -1;
  for (let i = 0; i < flag.rules.length; i++) {
    const rule = flag.rules[i];
    if (!rule || !rule.conditions.every((c) => conditionHolds(c, subject))) continue;
    if (rule.rollout < 100) {
      if (id === undefined || rule.rollout <= 0) continue;
      if (rolloutBucket < 0) rolloutBucket = bucket(`${flag.key}.${id}`);
      if (rolloutBucket >= rule.rollout / 100) continue;
    }
    return answer(flag, served(flag, rule.serve, id), i);
  }
  return answer(flag, served(flag, flag.fallthrough, id), "fallthrough");
}

export function evaluateFlags(flags: readonly Flag[], subject: FlagSubject): Record<string, FlagAnswer> {
  const out: Record<string, FlagAnswer> = {};
  for (const flag of flags) out[flag.key] = evaluateFlag(flag, subject);
  return out;
}
