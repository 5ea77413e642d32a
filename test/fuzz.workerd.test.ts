// Hostile input against the edge Worker. Thousands of generated and mutated requests, from a
// seeded generator so a failing run can be replayed (`FUZZ_SEED=n npm test`; the seed is
// printed). Whatever a client sends, the answer must be one of the documented statuses in the
// documented shape, and every event answered as accepted must still reach ClickHouse once.
// Times are relative to now: an accepted event older than the 90-day retention is dropped by
// ClickHouse's TTL by design, so the generator only makes old times that are refused.
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, inject, it, vi } from "vitest";
import { ApiError, BatchResponse, EVENT_TYPES, RejectCode, toWellFormed } from "../schemas";
import worker from "../workers/index";
import { basicAuth, chQuery, createTestApp, post, trackEvent, type TestApp } from "./seed";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** mulberry32: tiny, fast and the same sequence everywhere for a given seed. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** A whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  id(): string {
    return this.int(0, 0xffffffff).toString(16).padStart(8, "0") + this.int(0, 0xffffffff).toString(16).padStart(8, "0");
  }
}

// Pieces of text that have broken parsers, databases and regexes before: quotes, escapes,
// control characters, BOMs, direction overrides, lone surrogate halves.
const ATOMS = ["a", "Z", "0", " ", "-", "_", "/", "\\", '"', "'", "<", ">", "&", "%", "{", "}", "é", "ß", "日本", "😀", "\u0000", "\u0007", "\n", "\t", "\u200b", "\u202e", "\u2028", "\ufeff", "\ud800", "\udfff", "\uffff", "@", "jane@example.com", "4242 4242 4242 4242"];
const HOUR_MS = 3_600_000;
const NOW = Date.now();
const NUMBERS = [0, -0, 1, -1, 0.5, 42, 200, 1e21, -1e21, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e-7, 946_684_799_999, NOW - HOUR_MS];
// Times around every boundary the edge and ClickHouse care about: 2000, the 23 h clamp, the
// largest date JavaScript knows, years ClickHouse cannot store, and things that are not times.
const TIMES: Json[] = [
  new Date(NOW - HOUR_MS).toISOString(), new Date(NOW - 30 * 24 * HOUR_MS).toISOString(), new Date(NOW + 22 * HOUR_MS).toISOString(), new Date(NOW + 48 * HOUR_MS).toISOString(),
  "1999-12-31T23:59:59Z", "2400-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "+010000-01-01T00:00:00Z", "+275760-09-13T00:00:00.000Z",
  "1970-01-01", "", "now", "2026-13-45T99:99:99Z", "2026-01-01T00:00:00+25:00", "x".repeat(80), "1795000000000",
  -1, 0, 1.5, 946_684_799_999, NOW - HOUR_MS, NOW + 48 * HOUR_MS, 1e13, 253_402_300_800_000, 8.64e15, 8.64e15 + 1, 1e300,
];
const STRING_FIELDS = ["type", "messageId", "anonymousId", "userId", "event", "name", "previousId", "groupId", "category"];
const OBJECT_FIELDS = ["context", "properties", "traits", "integrations", "error", "metric", "request"];
const TIME_FIELDS = ["timestamp", "sentAt", "originalTimestamp", "receivedAt"];
const ALL_FIELDS = [...STRING_FIELDS, ...OBJECT_FIELDS, ...TIME_FIELDS];
const WEIRD_KEYS = ["__proto__", "constructor", "prototype", "", "$set", "a.b", "x".repeat(300), "日本", "\u0000", "password", "toString"];

function text(rng: Rng, maxAtoms = 12): string {
  let s = "";
  for (let i = rng.int(0, maxAtoms); i > 0; i--) s += rng.pick(ATOMS);
  return s;
}

/** Sets a key as an own property, so `__proto__` is sent as data instead of changing the prototype. */
function setOwn(obj: Obj, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function jsonValue(rng: Rng, depth = 0): Json {
  switch (rng.int(0, depth > 3 ? 4 : 6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.chance(0.5) ? rng.pick(NUMBERS) : rng.int(-1_000_000, 1_000_000);
    case 3:
    case 4:
      return text(rng);
    case 5:
      return Array.from({ length: rng.int(0, 4) }, () => jsonValue(rng, depth + 1));
    default: {
      const obj: Obj = {};
      for (let i = rng.int(0, 4); i > 0; i--) setOwn(obj, rng.chance(0.2) ? rng.pick(WEIRD_KEYS) : text(rng, 3), jsonValue(rng, depth + 1));
      return obj;
    }
  }
}

function nest(depth: number, rng?: Rng): Json {
  let v: Json = "bottom";
  for (let i = 0; i < depth; i++) v = rng && rng.chance(0.5) ? [v] : { d: v };
  return v;
}

/** A valid event of any type, as a well-behaved SDK would send it. */
function validEvent(rng: Rng, type: string = rng.pick(EVENT_TYPES)): Obj {
  const e: Obj = { type, messageId: `fz-${rng.id()}`, anonymousId: `anon-${rng.int(1, 50)}` };
  if (rng.chance(0.3)) e.userId = `user-${rng.int(1, 50)}`;
  if (rng.chance(0.3)) e.timestamp = new Date(Date.now() - rng.int(0, 86_400_000)).toISOString();
  if (rng.chance(0.5)) e.properties = { plan: rng.pick(["free", "pro"]), total: rng.int(0, 500), note: text(rng) };
  if (rng.chance(0.3)) e.context = { library: { name: "fuzz", version: "1.0" }, page: { path: "/p", url: "https://shop.example/p?token=abc" }, locale: "en-US" };
  switch (type) {
    case "track":
      e.event = rng.pick(["Order Completed", "Signed Up", "Button Clicked"]);
      break;
    case "page":
    case "screen":
      e.name = rng.pick(["Home", "Pricing", "Checkout"]);
      break;
    case "identify":
      e.userId = `user-${rng.int(1, 50)}`;
      e.traits = { plan: "pro", email: "jane@example.com" };
      break;
    case "alias":
      e.previousId = `anon-${rng.int(1, 50)}`;
      break;
    case "group":
      e.groupId = `group-${rng.int(1, 5)}`;
      break;
    case "crash":
      e.error = { type: "TypeError", message: "x is undefined", fatal: rng.chance(0.5), frames: [{ function: "render", file: "app.js", line: 10, column: 3, inApp: true }] };
      break;
    case "perf":
      e.metric = { name: "LCP", value: rng.int(0, 5000), unit: rng.pick(["ms", "s", "count"]) };
      break;
    case "network":
      e.request = { method: "GET", url: "https://api.example.com/items?api_key=sk_live_abcdefghijklmnop", status: 200, duration: 87 };
      break;
  }
  return e;
}

function fieldOf(rng: Rng, e: Obj, fields: readonly string[]): string {
  const present = fields.filter((f) => f in e);
  return present.length > 0 && rng.chance(0.7) ? rng.pick(present) : rng.pick(fields);
}

// Each mutation breaks one thing the way buggy or hostile clients do.
const MUTATIONS: ReadonlyArray<(rng: Rng, e: Obj) => void> = [
  (rng, e) => void (e[fieldOf(rng, e, ALL_FIELDS)] = jsonValue(rng)),
  (rng, e) => {
    const keys = Object.keys(e);
    if (keys.length > 0) delete e[rng.pick(keys)];
  },
  (rng, e) => setOwn(e, rng.pick(WEIRD_KEYS), jsonValue(rng)),
  (rng, e) => {
    const huge = rng.pick(["x", "é", "😀", "\\", '"']).repeat(rng.int(200, 12_000));
    if (rng.chance(0.5)) e[fieldOf(rng, e, STRING_FIELDS)] = huge;
    else e.properties = { blob: huge };
  },
  (rng, e) => void (e[fieldOf(rng, e, OBJECT_FIELDS)] = nest(rng.int(10, 60), rng)),
  (rng, e) => void (e[fieldOf(rng, e, STRING_FIELDS)] = rng.pick(NUMBERS)),
  (rng, e) => void (e[fieldOf(rng, e, ALL_FIELDS)] = null),
  (rng, e) => void (e[fieldOf(rng, e, OBJECT_FIELDS)] = [jsonValue(rng), jsonValue(rng)]),
  (rng, e) => void (e[rng.pick(TIME_FIELDS)] = rng.pick(TIMES)),
  (rng, e) => void (e[fieldOf(rng, e, STRING_FIELDS)] = text(rng, 30)),
  (rng, e) => {
    // Wrong types one level down, where the edge reads typed columns from.
    const field = rng.pick(["error", "metric", "request", "context", "properties"]);
    const inner = e[field];
    const obj: Obj = inner !== null && typeof inner === "object" && !Array.isArray(inner) ? { ...inner } : {};
    const key = rng.pick(["type", "message", "fatal", "frames", "name", "value", "unit", "method", "url", "status", "duration", "page", "os", "ip", "userAgent", "sessionId", "campaign"]);
    obj[key] = rng.chance(0.5) ? jsonValue(rng) : rng.pick<Json>([70_000, -1, 1.5, "200", Number.MAX_VALUE, [], {}, "not a url", "::1"]);
    e[field] = obj;
  },
];

function mutate(rng: Rng, e: Obj): Json {
  if (rng.chance(0.05)) return jsonValue(rng);
  for (let i = rng.int(1, 3); i > 0; i--) rng.pick(MUTATIONS)(rng, e);
  return e;
}

/** One request to send, and what the generator knows about it. */
interface Case {
  label: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: string | Uint8Array | null;
  /** Events in the batch when the body is a well-formed batch, to check the per-event answer. */
  events?: number;
}

async function compress(data: string | Uint8Array, format: "gzip" | "deflate" | "deflate-raw"): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
}

/**
 * A batch-level context: every event of the batch takes it over, so it is where one small
 * request can make many large rows. Sizes and depths straddle the limits of one event.
 */
function batchContext(rng: Rng): Json {
  switch (rng.int(0, 7)) {
    case 0:
      return rng.pick<Json>([[], "x", null, 7, jsonValue(rng)]);
    case 1:
      return { pad: rng.pick(["p", "é", "😀", '"']).repeat(rng.int(1_000, 220_000)) };
    case 2:
      return { deep: nest(rng.int(18, 3000), rng) };
    case 3:
      // Copied into the traits column as well as kept in context.
      return { traits: { blob: "t".repeat(rng.int(5_000, 31_000)), email: "jane@example.com" } };
    case 4: {
      // Fields the edge copies into typed columns.
      const long = (n: number) => text(rng, 4) + "v".repeat(n);
      return { os: { name: long(rng.int(100, 9_000)), version: long(50) }, app: { version: long(rng.int(100, 9_000)), build: long(50) }, page: { url: long(rng.int(100, 9_000)), path: long(100) }, campaign: { name: long(3_000) }, locale: long(5_000), userAgent: long(rng.int(100, 9_000)) };
    }
    case 5:
      // Short values the redactor replaces with longer ones.
      return { list: Array.from({ length: rng.int(100, 4_000) }, () => rng.pick(["a@b.co", "4242424242424242", "10.0.0.1"])) };
    case 6:
      return { ip: rng.pick(["203.0.113.9", "::1", "x".repeat(300), ""]), userAgent: text(rng), sessionId: rng.pick<Json>([text(rng), 12, null]) };
    default: {
      const obj: Obj = {};
      for (let i = rng.int(1, 6); i > 0; i--) setOwn(obj, rng.pick([...WEIRD_KEYS, "library", "device", "screen", "network", "timezone"]), jsonValue(rng));
      return obj;
    }
  }
}

const ENVELOPE_MUTATIONS: ReadonlyArray<(rng: Rng, body: Obj) => void> = [
  (rng, b) => void (b.batch = rng.chance(0.5) ? jsonValue(rng) : { 0: validEvent(rng) }),
  (rng, b) => void (b.sentAt = rng.chance(0.7) ? rng.pick(TIMES) : jsonValue(rng)),
  (rng, b) => void (b.context = batchContext(rng)),
  (rng, b) => {
    // A large context under many events: small as sent, huge as stored.
    b.context = batchContext(rng);
    if (Array.isArray(b.batch)) for (let i = rng.int(20, 400); i > 0; i--) b.batch.push(validEvent(rng));
  },
  (rng, b) => void (b.writeKey = rng.pick<Json>([123, null, "", "x".repeat(300), {}, ["k"]])),
  (rng, b) => setOwn(b, rng.pick(WEIRD_KEYS), jsonValue(rng)),
];

/**
 * Makes request number i from its own generator seeded by (seed, i): the same seed always gives
 * the same requests, whatever order they are sent in, and none has to be kept in memory.
 */
class Generator {
  private bombs: Uint8Array[] = [];
  constructor(
    private readonly seed: number,
    private readonly app: TestApp,
  ) {}

  async init(): Promise<void> {
    // Modest bombs: a few KB that inflate to several MB, far past the 1 MB body limit.
    const pad = " ".repeat(4_000_000);
    const bombText = `{"batch":[{"type":"track","event":"x","anonymousId":"a","properties":{"pad":"${pad}"}}]}`;
    this.bombs = [await compress(bombText, "gzip"), await compress(bombText, "deflate"), await compress(new Uint8Array(6_000_000), "gzip")];
  }

  private auth(rng: Rng, headers: Array<[string, string]>, body: Obj | null): void {
    const { app } = this;
    const r = rng.next();
    if (r < 0.4) headers.push(["authorization", basicAuth(app.key)]);
    else if (r < 0.7) headers.push(["x-write-key", app.key]);
    else if (r < 0.9 && body) body.writeKey = app.key;
    else headers.push(...this.badAuth(rng));
  }

  private badAuth(rng: Rng): Array<[string, string]> {
    const { app } = this;
    // Printable ASCII only: workerd would send anything else as UTF-8, which no browser does.
    const binary = String.fromCharCode(...Array.from({ length: 24 }, () => rng.int(0x21, 0x7e)));
    return rng.pick<Array<[string, string]>>([
      [["authorization", "Basic"]],
      [["authorization", "Basic "]],
      [["authorization", "Basic %%%"]],
      [["authorization", `Basic ${btoa(app.key)}`]],
      [["authorization", `Basic ${btoa(`:${app.key}`)}`]],
      [["authorization", `basic ${btoa(`${app.key}:`)}`]],
      [["authorization", `Basic ${btoa(`${app.key}:`)}==`]],
      [["authorization", `Bearer ${app.key}`]],
      [["authorization", `Basic ${"QUFB".repeat(5000)}`]],
      [["authorization", `Basic ${btoa(binary)}`]],
      [["authorization", `Basic ${btoa("wk_nope:")}`], ["x-write-key", app.key]],
      [["x-write-key", ""]],
      [["x-write-key", app.key], ["x-write-key", app.key]],
      [["x-write-key", app.key], ["x-write-key", "wk_other"]],
      [["x-write-key", ` ${app.key}\t`]],
      [["x-write-key", app.key.toUpperCase()]],
      [["x-write-key", `wk_${"%C3%A9".repeat(12)}`]],
      [["x-write-key", "x".repeat(300)]],
      [["x-write-key", binary]],
    ]);
  }

  private abusiveHeaders(rng: Rng): Array<[string, string]> {
    return rng.pick<Array<[string, string]>>([
      [["x-junk", "a".repeat(rng.int(1_000, 60_000))]],
      [["user-agent", "Mozilla/5.0 (".repeat(rng.int(100, 3000))]],
      [["user-agent", "Googlebot/2.1 ".repeat(2000)]],
      [["user-agent", `${"Mozilla/5.0 (Linux; Android 14; ".repeat(200)}Chrome/120.0 Mobile Safari/537.36`]],
      [["cf-connecting-ip", rng.pick(["999.999.999.999", "::::::", "1.2.3.4, 5.6.7.8", "x".repeat(5000), "2001:db8::1", "0.0.0.0", ""])]],
      [["cookie", "c=".repeat(20_000)]],
      Array.from({ length: 150 }, (_, i): [string, string] => [`x-h-${i}`, "v".repeat(100)]),
      [["content-type", "application/json"], ["content-type", "text/plain"]],
    ]);
  }

  private batchBody(rng: Rng, events: number): Obj {
    return { batch: Array.from({ length: events }, () => validEvent(rng)) };
  }

  async next(i: number): Promise<Case> {
    const rng = new Rng((this.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const headers: Array<[string, string]> = [["content-type", "application/json"]];
    const kind = rng.next();
    const label = (s: string) => `#${i} ${s}`;

    if (kind < 0.1) {
      const path = rng.chance(0.7) ? "/v1/batch" : `/v1/${rng.pick(EVENT_TYPES)}`;
      this.auth(rng, headers, null);
      return { label: label(`random JSON to ${path}`), method: "POST", path, headers, body: JSON.stringify(jsonValue(rng)) };
    }
    if (kind < 0.45) {
      const body = this.batchBody(rng, rng.int(1, 6));
      const batch = body.batch as Json[];
      for (let j = 0; j < batch.length; j++) {
        const e = batch[j];
        if (e !== null && typeof e === "object" && !Array.isArray(e) && rng.chance(0.6)) batch[j] = mutate(rng, e);
      }
      if (rng.chance(0.03)) batch.push(batch[0] ?? null);
      const envelope = rng.chance(0.3);
      if (envelope) for (let m = rng.int(1, 3); m > 0; m--) rng.pick(ENVELOPE_MUTATIONS)(rng, body);
      this.auth(rng, headers, body);
      return { label: label(`mutated batch${envelope ? " and envelope" : ""}`), method: "POST", path: "/v1/batch", headers, body: JSON.stringify(body), events: Array.isArray(body.batch) ? body.batch.length : undefined };
    }
    if (kind < 0.55) {
      const type = rng.pick(EVENT_TYPES);
      const routeType = rng.chance(0.8) ? type : rng.pick(EVENT_TYPES);
      const e = validEvent(rng, type);
      const body = rng.chance(0.7) ? mutate(rng, e) : e;
      const obj = body !== null && typeof body === "object" && !Array.isArray(body) ? body : null;
      this.auth(rng, headers, obj);
      return { label: label(`single ${type} to /v1/${routeType}`), method: "POST", path: `/v1/${routeType}`, headers, body: JSON.stringify(body) };
    }
    if (kind < 0.63) {
      const body = this.batchBody(rng, rng.int(1, 4));
      this.auth(rng, headers, body);
      const full = JSON.stringify(body);
      return { label: label("truncated JSON"), method: "POST", path: "/v1/batch", headers, body: full.slice(0, rng.int(0, full.length - 1)) };
    }
    if (kind < 0.7) {
      const body = this.batchBody(rng, rng.int(1, 4));
      this.auth(rng, headers, body);
      const bytes = [...new TextEncoder().encode(JSON.stringify(body))];
      const bad = rng.pick([[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]]);
      // Inside a string most of the time, where a lenient decoder would let it through.
      const at = rng.chance(0.7) ? bytes.indexOf(0x22, rng.int(0, bytes.length - 1)) + 1 || 1 : rng.int(0, bytes.length);
      bytes.splice(at, 0, ...bad);
      return { label: label(`invalid UTF-8 ${bad.map((b) => b.toString(16)).join(" ")}`), method: "POST", path: "/v1/batch", headers, body: new Uint8Array(bytes) };
    }
    if (kind < 0.8) return this.encodingCase(rng, label, headers);
    if (kind < 0.85) {
      const body = this.batchBody(rng, rng.int(1, 3));
      this.auth(rng, headers, body);
      const type = rng.pick(["application/xml", "multipart/form-data; boundary=x", "text/html", "application/x-www-form-urlencoded", "application/json; charset=latin1", "APPLICATION/JSON", "", "text/plain;charset=UTF-8", ";", "application/json, text/plain", "application/vnd.api+json", "*/*", "application/octet-stream"]);
      headers[0] = ["content-type", type];
      return { label: label(`content type ${JSON.stringify(type)}`), method: "POST", path: "/v1/batch", headers, body: JSON.stringify(body), events: (body.batch as Json[]).length };
    }
    if (kind < 0.93) {
      const body = this.batchBody(rng, rng.int(1, 3));
      if (rng.chance(0.5)) headers.push(...this.badAuth(rng));
      else this.auth(rng, headers, body);
      headers.push(...this.abusiveHeaders(rng));
      return { label: label("header abuse"), method: "POST", path: "/v1/batch", headers, body: JSON.stringify(body), events: (body.batch as Json[]).length };
    }
    if (kind < 0.97) {
      const method = rng.pick(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "POST"]);
      const path = rng.pick([
        "/v1/batch", "/v1/track", "/v1/teleport", "/v1", "/v1/", "/v1/batch/", "//v1/batch", "/V1/BATCH", "/v1/batch/extra", "/v1/%74rack", "/v1/track%00",
        "/v1/..%2fadmin", "/v1/batch?writeKey=x&batch=1", "/admin/apps", "/admin/dead-letters", "/admin/dead-letters/replay", "/health", "/",
        "/favicon.ico", `/${rng.id()}`, `/v1/${"a".repeat(rng.int(1, 3000))}`,
      ]);
      const body = this.batchBody(rng, 1);
      this.auth(rng, headers, body);
      if (path.startsWith("/admin") && rng.chance(0.5)) headers.push(["authorization", rng.pick(["Bearer wrong", "Bearer ", "Basic eDp5"])]);
      const sendsBody = method !== "GET" && method !== "HEAD";
      return { label: label(`${method} ${path.slice(0, 60)}`), method, path, headers, body: sendsBody ? JSON.stringify(body) : null };
    }
    // Size limits: more events than a batch may hold, or more than a megabyte of body.
    this.auth(rng, headers, null);
    if (rng.chance(0.5)) {
      const batch = Array.from({ length: 2501 }, () => ({ type: "track", event: "x", anonymousId: "a" }));
      return { label: label("2,501 events"), method: "POST", path: "/v1/batch", headers, body: JSON.stringify({ batch }) };
    }
    const body = JSON.stringify({ batch: [validEvent(rng, "track"), { type: "track", event: "x", anonymousId: "a", properties: { pad: "p".repeat(1_100_000) } }] });
    return { label: label("body over 1 MB"), method: "POST", path: "/v1/batch", headers, body };
  }

  private async encodingCase(rng: Rng, label: (s: string) => string, headers: Array<[string, string]>): Promise<Case> {
    const body = this.batchBody(rng, rng.int(1, 4));
    this.auth(rng, headers, body);
    const json = JSON.stringify(body);
    const variant = rng.int(0, 10);
    const c = (name: string, encoding: string | null, data: string | Uint8Array, events?: number): Case => {
      if (encoding !== null) headers.push(["content-encoding", encoding]);
      return { label: label(`encoding: ${name}`), method: "POST", path: "/v1/batch", headers, body: data, events };
    };
    switch (variant) {
      case 0:
        return c("real gzip", "gzip", await compress(json, "gzip"), (body.batch as Json[]).length);
      case 1:
        return c("real deflate", "deflate", await compress(json, "deflate"), (body.batch as Json[]).length);
      case 2:
        return c("raw deflate sent as deflate", "deflate", await compress(json, "deflate-raw"));
      case 3:
        return c("gzip header on plain JSON", rng.pick(["gzip", "deflate"]), json);
      case 4:
        return c("unsupported encoding", rng.pick(["br", "compress", "gzip, gzip", "x-gzip", "zstd", "", "identity, gzip"]), json);
      case 5: {
        const gz = await compress(json, "gzip");
        return c("truncated gzip", "gzip", gz.slice(0, rng.int(0, gz.length - 1)));
      }
      case 6:
        return c("gzip of truncated JSON", "gzip", await compress(json.slice(0, rng.int(0, json.length - 1)), "gzip"));
      case 7:
        return c("gzip twice", "gzip", await compress(await compress(json, "gzip"), "gzip"));
      case 8: {
        const which = rng.int(0, this.bombs.length - 1);
        const bomb = this.bombs[which] ?? new Uint8Array();
        return c(`bomb ${which}`, which === 1 ? "deflate" : "gzip", bomb);
      }
      case 9:
        return c("GZIP in capitals", "GZIP", await compress(json, "gzip"), (body.batch as Json[]).length);
      default:
        return c("gzip of invalid UTF-8", "gzip", await compress(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "gzip"));
    }
  }
}

// The README's "Answers": each status and the codes it may carry.
const CODES_BY_STATUS: Readonly<Record<number, readonly string[]>> = {
  400: ["invalid_json", "invalid_body", "empty_batch"],
  401: ["unauthorized"],
  404: ["not_found"],
  405: ["method_not_allowed"],
  413: ["payload_too_large", "batch_too_large"],
  415: ["unsupported_media_type", "unsupported_encoding"],
  429: ["rate_limited"],
  503: ["buffer_full", "unavailable"],
};

interface Outcome {
  status: number;
  code: string | null;
  /** New rows this answer promised: accepted minus duplicates. */
  stored: number;
  problems: string[];
}

const REQUEST_TIMEOUT_MS = 20_000;

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isIngest(c: Case): boolean {
  return c.method === "POST" && c.path.startsWith("/v1/");
}

// SELF.fetch, the runtime's own way into the Worker, gets slower with every call made in a test
// file (cloudflare/workers-sdk#15446: a few ms at first, hundreds after a thousand calls). The
// first requests take it; the rest go to the Worker's fetch handler with the same Request,
// carrying the Content-Length the runtime would add to a plain body.
const VIA_SELF = 250;

async function send(c: Case, index: number, headers: Headers, init: RequestInit): Promise<Response> {
  const url = `https://edge.test${c.path}`;
  if (index < VIA_SELF) return SELF.fetch(url, init);
  if (c.body !== null && !headers.has("content-encoding") && !headers.has("content-length")) {
    headers.set("content-length", String(typeof c.body === "string" ? new TextEncoder().encode(c.body).byteLength : c.body.byteLength));
  }
  // No `cf` here, as for any request that did not come through Cloudflare's edge; the handler reads it defensively.
  const request = new Request(url, init) as Request<unknown, IncomingRequestCfProperties>;
  return worker.fetch(request, env, createExecutionContext());
}

async function run(c: Case, index: number): Promise<Outcome> {
  const out: Outcome = { status: 0, code: null, stored: 0, problems: [] };
  const problem = (p: string) => out.problems.push(`${c.label}: ${p}`);
  let res: Response;
  let text: string;
  try {
    const headers = new Headers();
    for (const [k, v] of c.headers) headers.append(k, v);
    const init: RequestInit = { method: c.method, headers };
    if (c.body !== null) init.body = c.body;
    res = await withTimeout(send(c, index, headers, init), c.label);
    text = await withTimeout(res.text(), c.label);
  } catch (err) {
    problem(`request failed: ${String(err)}`);
    return out;
  }
  out.status = res.status;
  const preflight = c.method === "OPTIONS" && c.path.startsWith("/v1");
  if (preflight && res.status === 204) return out;
  if (c.method === "HEAD") {
    if (res.status >= 500) problem(`HEAD answered ${res.status}`);
    return out;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    problem(`${res.status} with a body that is not JSON: ${text.slice(0, 120)}`);
    return out;
  }
  if (!(res.headers.get("content-type") ?? "").includes("application/json")) problem(`content-type ${res.headers.get("content-type")}`);

  if (res.status === 200) {
    if (!isIngest(c)) {
      if (!(c.method === "GET" && (c.path === "/health" || c.path === "/ready"))) problem(`200 on ${c.method} ${c.path}: ${text.slice(0, 120)}`);
      return out;
    }
    const parsed = BatchResponse.safeParse(body);
    if (!parsed.success) {
      problem(`200 body is not a BatchResponse: ${text.slice(0, 200)}`);
      return out;
    }
    const { accepted, duplicates, rejected } = parsed.data;
    out.stored = accepted - duplicates;
    if (duplicates > accepted) problem(`duplicates ${duplicates} > accepted ${accepted}`);
    if (c.events !== undefined && accepted + rejected.length !== c.events) problem(`${c.events} events but accepted ${accepted} + rejected ${rejected.length}`);
    const indices = rejected.map((r) => r.index);
    if (new Set(indices).size !== indices.length) problem(`rejected indices repeat: ${indices.join(",")}`);
    if (c.events !== undefined && indices.some((x) => x >= (c.events ?? 0))) problem(`rejected index out of range: ${indices.join(",")}`);
    if (!/^\/v1\/batch(\?|$)/.test(c.path) && (accepted !== 1 || rejected.length > 0)) problem(`single-event route answered ${text.slice(0, 120)}`);
    return out;
  }

  const parsed = ApiError.safeParse(body);
  if (!parsed.success) {
    problem(`${res.status} body is not {error: {code, message}}: ${text.slice(0, 200)}`);
    return out;
  }
  out.code = parsed.data.error.code;
  const allowed = CODES_BY_STATUS[res.status];
  if (!allowed) problem(`undocumented status ${res.status} (${out.code}: ${parsed.data.error.message.slice(0, 200)})`);
  else if (!allowed.includes(out.code)) problem(`status ${res.status} with code ${out.code}`);
  if ((res.status === 429 || res.status === 503) && !(Number(res.headers.get("retry-after")) > 0)) problem(`${res.status} without Retry-After`);
  // Nothing a client sends can make the edge fail: a 5xx here would be refused again on retry.
  if (res.status >= 500) problem(`${res.status} ${out.code}: ${parsed.data.error.message.slice(0, 200)}`);
  if (res.status === 400 && c.path.startsWith("/v1/") && !c.path.startsWith("/v1/batch")) {
    const rejected = (parsed.data.error.details as { rejected?: Array<{ code: string }> } | undefined)?.rejected ?? [];
    for (const r of rejected) if (!RejectCode.safeParse(r.code).success) problem(`rejection code ${r.code}`);
  }
  return out;
}

async function rowCount(appId: string): Promise<{ rows: number; ids: number }> {
  const [r] = await chQuery<{ rows: string; ids: string }>("SELECT count() AS rows, uniqExact(message_id) AS ids FROM events WHERE app_id = {app:String}", { app: appId });
  return { rows: Number(r?.rows ?? 0), ids: Number(r?.ids ?? 0) };
}

const REQUESTS = 2500;
const IN_FLIGHT = 6;

async function cappedCount(appId: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>("SELECT sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} AND stage = 'capped'", { app: appId });
  return Number(r?.n ?? 0);
}

// Events a batcher could not rule out as stored before and the sink found stored: accepted as
// new at the edge, a copy all the same (decision record 0021).
async function settledCount(appId: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>("SELECT sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} AND stage = 'deduplicated' AND reason = 'stored_before'", { app: appId });
  return Number(r?.n ?? 0);
}

async function messageIds(appId: string): Promise<string[]> {
  const rows = await chQuery<{ message_id: string }>("SELECT message_id FROM events WHERE app_id = {app:String}", { app: appId });
  return rows.map((r) => r.message_id).sort();
}

describe("hostile input", () => {
  // First in the file, so that it takes SELF.fetch while that is still fast.
  it("stores the valid events of a mixed batch exactly once and none of the invalid ones", async () => {
    const app = await createTestApp();
    const rng = new Rng(inject("fuzzSeed"));
    const proto: Obj = { plan: "pro" };
    setOwn(proto, "__proto__", { polluted: true });
    const valid: Array<Record<string, unknown>> = [
      trackEvent({ messageId: "ok-plain" }),
      trackEvent({ messageId: 12345 }),
      trackEvent({ messageId: "ok-unknown-keys", unknownTopLevelKey: { a: [1, { b: null }] }, $weird: true }),
      trackEvent({ messageId: "ok-unicode", event: "Ünïcödé 日本 😀 \u202e", anonymousId: "ànon\u0000", userId: 77 }),
      trackEvent({ messageId: "ok-proto", properties: proto }),
      trackEvent({ messageId: "ok-near-limit", properties: { blob: "y".repeat(30_000) } }),
      trackEvent({ messageId: "ok-deep", properties: { deep: nest(20) } }),
      trackEvent({ messageId: "ok-future", timestamp: "2999-01-01T00:00:00Z" }),
      // Valid times (after 2000) that no date type can hold: clamped, never refused by ClickHouse.
      trackEvent({ messageId: "ok-far-future", timestamp: 8.64e15, sentAt: "+275760-09-13T00:00:00.000Z" }),
      // Lone surrogate halves are valid JSON escapes; ClickHouse refuses them in a String column.
      trackEvent({ messageId: "ok-lone-surrogates", event: "broken \ud800 text", userId: "\udfff", properties: { s: "\ud83d" } }),
      trackEvent({ messageId: "ok-\ud800-id" }),
      { type: "page", messageId: "ok-page", anonymousId: "a", name: "n".repeat(256), context: { page: { path: 42, url: ["x"] }, os: "iOS", ip: 12 } },
      { type: "perf", messageId: "ok-perf-extreme", anonymousId: "a", metric: { name: "x", value: Number.MAX_VALUE, unit: "s" } },
      { type: "network", messageId: "ok-network-odd", anonymousId: "a", request: { method: "get", url: "not a url at all", status: 999, duration: 0 } },
      { type: "crash", messageId: "ok-crash", anonymousId: "a", error: { type: "E", message: '\\u0000 "quoted" \n', frames: Array.from({ length: 128 }, () => ({ line: 0 })) } },
    ];
    const invalid: Json[] = [
      { type: "track", messageId: "bad-no-event", anonymousId: "a" },
      { type: "track", messageId: "bad-event-number", anonymousId: "a", event: 42 },
      { type: "track", messageId: "bad-no-identity", event: "x" },
      { type: "teleport", messageId: "bad-type", anonymousId: "a" },
      { type: "track", messageId: "bad-properties-array", anonymousId: "a", event: "x", properties: [1, 2] },
      { type: "track", messageId: "bad-too-large", anonymousId: "a", event: "x", properties: { blob: "z".repeat(40_000) } },
      { type: "track", messageId: "bad-too-deep", anonymousId: "a", event: "x", properties: { deep: nest(40) } },
      { type: "track", messageId: "bad-timestamp", anonymousId: "a", event: "x", timestamp: "yesterday" },
      { type: "track", messageId: "bad-timestamp-1999", anonymousId: "a", event: "x", timestamp: "1999-12-31T00:00:00Z" },
      { type: "track", messageId: "bad-context", anonymousId: "a", event: "x", context: "not an object" },
      { type: "track", messageId: "bad-null-ids", event: "x", userId: null, anonymousId: null },
      { type: "crash", messageId: "bad-crash", anonymousId: "a", error: { message: "no type" } },
      { type: "perf", messageId: "bad-perf", anonymousId: "a", metric: { name: "x", value: "12" } },
      { type: "network", messageId: "bad-network", anonymousId: "a", request: { method: "GET", url: "https://x", status: 70_000 } },
      { type: "track", messageId: "x".repeat(257), anonymousId: "a", event: "x" },
      null,
      "a string",
      42,
      [{ type: "track", messageId: "bad-nested-array", anonymousId: "a", event: "x" }],
    ];
    // A seeded shuffle, so valid and invalid events sit side by side in varying order.
    const tagged: Array<{ event: unknown; ok: boolean }> = [...valid.map((event) => ({ event, ok: true })), ...invalid.map((event) => ({ event, ok: false }))];
    for (let i = tagged.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      const a = tagged[i];
      const b = tagged[j];
      if (a && b) [tagged[i], tagged[j]] = [b, a];
    }
    const batch = tagged.map((t) => t.event);
    const invalidIndices = tagged.flatMap((t, i) => (t.ok ? [] : [i]));

    const res = await post("/v1/batch", { batch }, { "x-write-key": app.key });
    expect(res.status).toBe(200);
    const first = BatchResponse.parse(await res.json());
    expect(first).toMatchObject({ accepted: valid.length, duplicates: 0 });
    expect(first.rejected.map((r) => r.index).sort((a, b) => a - b)).toEqual(invalidIndices);
    // A client that did not hear the answer sends the whole batch again.
    const again = BatchResponse.parse(await (await post("/v1/batch", { batch }, { "x-write-key": app.key })).json());
    expect(again).toMatchObject({ accepted: valid.length, duplicates: valid.length });

    // Stored as ClickHouse can hold them: lone surrogate halves become U+FFFD.
    const expected = valid.map((e) => toWellFormed(String(e.messageId))).sort();
    await vi.waitUntil(async () => (await messageIds(app.appId)).length >= expected.length, { timeout: 20_000, interval: 200 }).catch(() => undefined);
    // Room for a late second copy to show up before the final count.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await messageIds(app.appId)).toEqual(expected);
  }, 45_000);

  it(
    "answers thousands of malformed requests with documented statuses and shapes, and stores every accepted event once",
    async () => {
      const seed = inject("fuzzSeed");
      console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
      const app = await createTestApp();
      const gen = new Generator(seed, app);
      await gen.init();

      const outcomes: Outcome[] = [];
      let nextCase = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = nextCase++; i < REQUESTS; i = nextCase++) outcomes.push(await run(await gen.next(i), i));
        }),
      );

      const byStatus: Record<string, number> = {};
      const byCode: Record<string, number> = {};
      let stored = 0;
      for (const o of outcomes) {
        byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
        if (o.code) byCode[o.code] = (byCode[o.code] ?? 0) + 1;
        stored += o.stored;
      }
      console.log(`fuzz seed ${seed}: ${outcomes.length} requests; by status ${JSON.stringify(byStatus)}; by code ${JSON.stringify(byCode)}; ${stored} events accepted as new`);
      const problems = outcomes.flatMap((o) => o.problems);
      expect(problems.slice(0, 25), `${problems.length} problems`).toEqual([]);
      // A run that never gets past validation would prove little.
      expect(byStatus["200"] ?? 0).toBeGreaterThan(REQUESTS / 10);

      // Whatever was accepted must be storable: one hostile event must not hold back or
      // dead-letter the events it shares a queue message with. Crashes past the crash-loop caps
      // (the fuzzer repeats crash shapes) are accepted and counted as capped instead of stored.
      let last = { rows: 0, ids: 0, capped: 0, settled: 0 };
      await vi
        .waitUntil(
          async () => {
            last = { ...(await rowCount(app.appId)), capped: await cappedCount(app.appId), settled: await settledCount(app.appId) };
            return last.rows + last.capped + last.settled >= stored;
          },
          { timeout: 30_000, interval: 250 },
        )
        .catch(() => undefined);
      expect(last.rows, "each stored event once").toBe(last.ids);
      expect(last.rows + last.capped + last.settled, `rows in ClickHouse plus capped crashes and copies the sink found stored for ${stored} accepted events`).toBe(stored);
    },
    120_000,
  );
});
