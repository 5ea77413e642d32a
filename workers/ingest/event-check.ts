import { Event, LIMITS } from "../../schemas";

/** One event checked against the wire contract: the parsed event, or why it was refused. */
export type CheckedEvent = { ok: true; event: Event } | { ok: false; message: string };

/**
 * Validates one event as `Event` does, with its exact output: unknown keys dropped, ids as
 * strings, defaults filled, members in the schema's order. Ordinary events are read by hand,
 * several times cheaper than the schema (and far cheaper in workerd, where zod cannot compile
 * its parsers); anything the hand reading is not sure of goes to the schema itself, so a refused
 * event always gets the schema's own message. A test holds the two to the same output.
 */
export function checkEvent(raw: unknown): CheckedEvent {
  const fast = readEvent(raw);
  if (fast !== null) return { ok: true, event: fast };
  const parsed = Event.safeParse(raw);
  if (parsed.success) return { ok: true, event: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return { ok: false, message: `${where}${issue?.message ?? "invalid event"}` };
}

type Json = Record<string, unknown>;

// What a reader returns when it cannot vouch for a value: the schema then decides.
const UNSURE = Symbol("unsure");
type Read = (v: unknown) => unknown;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const idOf: Read = (v) => (typeof v === "string" ? (v.length <= LIMITS.maxIdLength ? v : UNSURE) : typeof v === "number" && Number.isFinite(v) ? String(v) : UNSURE);
const timeOf: Read = (v) => ((typeof v === "string" && v.length <= 64) || (typeof v === "number" && Number.isFinite(v)) ? v : UNSURE);
const objectOf: Read = (v) => (isObject(v) ? v : UNSURE);
const booleanOf: Read = (v) => (typeof v === "boolean" ? v : UNSURE);
const finiteOf: Read = (v) => (typeof v === "number" && Number.isFinite(v) ? v : UNSURE);
const countOf: Read = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? v : UNSURE);
const statusOf: Read = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 999 ? v : UNSURE);
const durationOf: Read = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : UNSURE);
// Strings up to a length; `name` is required text (at least one character).
const text = (max: number): Read => (v) => (typeof v === "string" && v.length <= max ? v : UNSURE);
const name = (max: number): Read => (v) => (typeof v === "string" && v.length >= 1 && v.length <= max ? v : UNSURE);
const text256 = text(256);
const name256 = name(256);
const text512 = text(512);
const text2048 = text(2048);
const text8192 = text(8192);
const text16384 = text(16384);
const text16 = text(16);
const text1024 = text(1024);
const name128 = name(128);
const name16 = name(16);
const name4096 = name(4096);

// The schema's rules for one member, in its order: an optional member absent stays absent, a
// defaulted one takes its default, a required one absent is refused.
function optional(raw: Json, out: Json, key: string, read: Read): boolean {
  if (!(key in raw)) return true;
  const v = raw[key];
  if (v === undefined) {
    out[key] = undefined;
    return true;
  }
  const r = read(v);
  if (r === UNSURE) return false;
  out[key] = r;
  return true;
}

function required(raw: Json, out: Json, key: string, read: Read): boolean {
  const r = key in raw ? read(raw[key]) : UNSURE;
  if (r === UNSURE) return false;
  out[key] = r;
  return true;
}

function defaulted(raw: Json, out: Json, key: string, read: Read, fallback: () => unknown): boolean {
  const v = raw[key];
  if (v === undefined) {
    out[key] = fallback();
    return true;
  }
  const r = read(v);
  if (r === UNSURE) return false;
  out[key] = r;
  return true;
}

function frameOf(v: unknown): Json | typeof UNSURE {
  if (!isObject(v)) return UNSURE;
  const out: Json = {};
  const ok =
    optional(v, out, "function", text512) &&
    optional(v, out, "file", text2048) &&
    optional(v, out, "module", text512) &&
    optional(v, out, "line", countOf) &&
    optional(v, out, "column", countOf) &&
    optional(v, out, "inApp", booleanOf);
  return ok ? out : UNSURE;
}

const framesOf: Read = (v) => {
  if (!Array.isArray(v) || v.length > 128) return UNSURE;
  const out: Json[] = new Array<Json>(v.length);
  for (let i = 0; i < v.length; i++) {
    const f = frameOf(v[i]);
    if (f === UNSURE) return UNSURE;
    out[i] = f;
  }
  return out;
};

const emptyText = (): string => "";
const no = (): boolean => false;
const noFrames = (): Json[] => [];
const ms = (): string => "ms";

const errorOf: Read = (v) => {
  if (!isObject(v)) return UNSURE;
  const out: Json = {};
  const ok =
    required(v, out, "type", name256) &&
    defaulted(v, out, "message", text8192, emptyText) &&
    defaulted(v, out, "fatal", booleanOf, no) &&
    optional(v, out, "handled", booleanOf) &&
    optional(v, out, "stack", text16384) &&
    defaulted(v, out, "frames", framesOf, noFrames);
  return ok ? out : UNSURE;
};

const metricOf: Read = (v) => {
  if (!isObject(v)) return UNSURE;
  const out: Json = {};
  const ok = required(v, out, "name", name128) && required(v, out, "value", finiteOf) && defaulted(v, out, "unit", text16, ms);
  return ok ? out : UNSURE;
};

const requestOf: Read = (v) => {
  if (!isObject(v)) return UNSURE;
  const out: Json = {};
  const ok =
    required(v, out, "method", name16) &&
    required(v, out, "url", name4096) &&
    optional(v, out, "status", statusOf) &&
    optional(v, out, "duration", durationOf) &&
    optional(v, out, "requestBytes", countOf) &&
    optional(v, out, "responseBytes", countOf) &&
    optional(v, out, "error", text1024);
  return ok ? out : UNSURE;
};

/** The event as `Event` would return it, or null when the hand reading cannot vouch for it. */
function readEvent(raw: unknown): Event | null {
  if (!isObject(raw)) return null;
  const out: Json = {};
  const common =
    optional(raw, out, "messageId", idOf) &&
    optional(raw, out, "anonymousId", idOf) &&
    optional(raw, out, "userId", idOf) &&
    optional(raw, out, "timestamp", timeOf) &&
    optional(raw, out, "originalTimestamp", timeOf) &&
    optional(raw, out, "sentAt", timeOf) &&
    optional(raw, out, "receivedAt", timeOf) &&
    optional(raw, out, "context", objectOf) &&
    optional(raw, out, "integrations", objectOf) &&
    optional(raw, out, "properties", objectOf) &&
    optional(raw, out, "traits", objectOf);
  if (!common || (!out.userId && !out.anonymousId)) return null;
  const type = raw.type;
  out.type = type;
  let ok: boolean;
  switch (type) {
    case "track":
      ok = required(raw, out, "event", name256);
      break;
    case "page":
    case "screen":
      ok = optional(raw, out, "name", text256) && optional(raw, out, "category", text256);
      break;
    case "identify":
      ok = true;
      break;
    case "alias":
      ok = required(raw, out, "previousId", idOf);
      break;
    case "group":
      ok = required(raw, out, "groupId", idOf);
      break;
    case "crash":
      ok = required(raw, out, "error", errorOf);
      break;
    case "perf":
      ok = required(raw, out, "metric", metricOf);
      break;
    case "network":
      ok = required(raw, out, "request", requestOf);
      break;
    default:
      ok = false;
  }
  // Built member by member to the schema's shape above; the test compares the two outputs.
  return ok ? (out as Event) : null;
}
