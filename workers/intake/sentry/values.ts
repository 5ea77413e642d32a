// Sentry payloads come from many SDKs and versions: every field is read defensively and a
// field of the wrong type is treated as absent, never as an error.

/** A JSON object as parsed, or an empty one. */
export type Json = Record<string, unknown>;

import { without } from "../../lib/json";

export { recordOf as obj } from "../../lib/json";

/** `v` when it is an array, else an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A non-empty string cut to `max` characters, or undefined; numbers become their decimal text. */
export function str(v: unknown, max = 1024): string | undefined {
  const s = typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
  if (s === undefined || s === "") return undefined;
  return s.length > max ? s.slice(0, max) : s;
}

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A non-negative integer (line and column numbers), or undefined. */
export function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

const ZONE = /(Z|[+-]\d\d:?\d\d)$/i;

/**
 * A Sentry timestamp in epoch milliseconds: seconds since the epoch as a number (or its text),
 * or RFC 3339 text, which Sentry reads as UTC when it names no zone.
 */
export function epochMs(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? Math.round(v * 1000) : undefined;
  if (typeof v !== "string" || v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const ms = Date.parse(ZONE.test(v) ? v : `${v}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `o` without its undefined members, so the stored JSON holds only what was sent (`without` in workers/lib/json). */
export function compact<T extends Json>(o: T): T {
  return without(o, undefined);
}

/**
 * The members of `o`, in order, whose JSON fits `budget` characters in all; a member too large
 * for what is left is skipped. Keeps what SDKs attach freely (extra data, custom contexts) from
 * pushing an event past the event size limit.
 * @example fit({a: 1, big: "x".repeat(9000)}, 100) // {a: 1}
 */
export function fit(o: Json, budget: number): Json | undefined {
  const out: Json = {};
  let left = budget;
  let kept = 0;
  for (const [k, v] of Object.entries(o)) {
    const size = k.length + 4 + (JSON.stringify(v)?.length ?? 0);
    if (size > left) continue;
    out[k] = v;
    left -= size;
    kept++;
  }
  return kept > 0 ? out : undefined;
}
