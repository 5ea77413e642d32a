// Hostile input against the Sentry door: truncated and mutated envelopes, wrong lengths, bad
// JSON headers and payloads, corrupt compression and wrong keys in every place a key can be,
// from a seeded generator (replay with `FUZZ_SEED=n`; the seed is printed). Whatever arrives, the answer is
// never a 5xx: a 2xx in Sentry's `{id}` shape or a refusal as `{detail}`.
import { SELF } from "cloudflare:test";
import { beforeAll, expect, inject, it } from "vitest";
import { createTestApp, type TestApp } from "./seed";

const SEED = inject("fuzzSeed");
const CASES = 400;

// xorshift32: a replayable stream of numbers for a given seed.
function generator(seed: number): { int(lo: number, hi: number): number; pick<T>(items: readonly T[]): T } {
  let x = seed | 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(0, items.length - 1)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
  };
}

const enc = new TextEncoder();
const nowS = Date.now() / 1000;

function validEnvelope(key: string, n: number): string {
  const id = `${n.toString(16).padStart(8, "0")}${"0".repeat(24)}`;
  const event = { event_id: id, timestamp: nowS, level: "error", exception: { values: [{ type: "Error", value: `fuzz ${n}`, stacktrace: { frames: [{ filename: "a.js", function: "f", lineno: 1 }] } }] } };
  const span = { version: 2, items: [{ name: "s", span_id: "a1", trace_id: id, start_timestamp: nowS, end_timestamp: nowS + 0.1, is_segment: true }] };
  const session = { sid: id, status: "ok", started: new Date().toISOString(), attrs: { release: "r" } };
  const payload = JSON.stringify(event);
  return [
    JSON.stringify({ event_id: id, dsn: `http://${key}@edge.test/1`, sent_at: new Date().toISOString() }),
    JSON.stringify({ type: "event", length: enc.encode(payload).length }),
    payload,
    JSON.stringify({ type: "span" }),
    JSON.stringify(span),
    JSON.stringify({ type: "session" }),
    JSON.stringify(session),
  ].join("\n");
}

// Values that have broken parsers: wrong types, huge and negative numbers, deep nesting, text.
const ODD: unknown[] = [null, true, -1, 1.5, 1e300, 2 ** 53 + 2, "", "x".repeat(5000), "\u0000\ud800", [], [[[[]]]], {}, { a: { b: { c: { d: {} } } } }];

function deep(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

function mutateJson(g: ReturnType<typeof generator>, value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return g.int(0, 9) === 0 ? g.pick(ODD) : value;
  if (Array.isArray(value)) return value.map((v) => mutateJson(g, v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const roll = g.int(0, 19);
    if (roll === 0) continue;
    out[k] = roll === 1 ? g.pick(ODD) : roll === 2 ? deep(g.int(10, 60)) : mutateJson(g, v, depth + 1);
  }
  return out;
}

async function compress(data: Uint8Array, format: "gzip" | "deflate"): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([data]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
}

interface Case {
  what: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

async function makeCase(g: ReturnType<typeof generator>, app: TestApp, n: number): Promise<Case> {
  const good = enc.encode(validEnvelope(app.key, n));
  const path = g.pick(["/api/1/envelope/", "/api/1/envelope", "/api/77/store/", `/api/1/envelope/?sentry_key=${app.key}`]);
  const headers: Record<string, string> = {};
  const kind = g.int(0, 9);
  switch (kind) {
    case 0: {
      const cut = g.int(0, good.length - 1);
      return { what: `truncated at ${cut}`, path, headers, body: good.subarray(0, cut) };
    }
    case 1: {
      const bytes = good.slice();
      for (let i = g.int(1, 8); i > 0; i--) bytes[g.int(0, bytes.length - 1)] = g.int(0, 255);
      return { what: "bytes flipped", path, headers, body: bytes };
    }
    case 2: {
      const text = new TextDecoder().decode(good).replace(/"length":\d+/, `"length":${g.pick([0, 1, 10, 10_000, -5, 1.5, 1e300, '"12"', "null"])}`);
      return { what: "wrong length", path, headers, body: enc.encode(text) };
    }
    case 3: {
      const lines = new TextDecoder().decode(good).split("\n");
      const at = g.int(0, lines.length - 1);
      lines[at] = g.pick(["{", "[]", '"x"', "nul", "{}}", "{\"type\":", "\ufeff{}", JSON.stringify(g.pick(ODD))]);
      return { what: `line ${at} broken`, path, headers, body: enc.encode(lines.join("\n")) };
    }
    case 4: {
      const lines = new TextDecoder().decode(good).split("\n").map((l) => {
        try {
          return JSON.stringify(mutateJson(g, JSON.parse(l)));
        } catch {
          return l;
        }
      });
      return { what: "values mutated", path, headers, body: enc.encode(lines.join("\n").replace(/"length":\d+,?/, "")) };
    }
    case 5: {
      headers["content-encoding"] = g.pick(["gzip", "deflate"]);
      const packed = await compress(good, headers["content-encoding"] === "gzip" ? "gzip" : "deflate");
      const bad = g.int(0, 2);
      const body = bad === 0 ? packed.subarray(0, g.int(0, packed.length - 1)) : bad === 1 ? good : packed.map((b, i) => (i === g.int(0, packed.length) ? b ^ 0xff : b));
      return { what: `bad ${headers["content-encoding"]} (${bad})`, path, headers, body };
    }
    case 6: {
      const place = g.int(0, 3);
      const wrong = g.pick(["wk_nope", "", " ", "%zz", "x".repeat(400), app.key.toUpperCase()]);
      const text = new TextDecoder().decode(good).replace(`http://${app.key}@`, place === 3 ? `http://${wrong}@` : "http://other@");
      if (place === 0) headers["x-sentry-auth"] = `Sentry sentry_key=${wrong}, sentry_version=7`;
      if (place === 1) headers.authorization = g.pick([`Sentry sentry_key=${wrong}`, "Sentry", "Sentry ,,,=", "Basic abc"]);
      const p = place === 2 ? `/api/1/envelope/?sentry_key=${encodeURIComponent(wrong)}` : "/api/1/envelope/";
      return { what: `wrong key in place ${place}`, path: p, headers, body: enc.encode(text) };
    }
    case 7: {
      headers["content-encoding"] = g.pick(["br", "zstd", "gzip, deflate", "identity"]);
      return { what: `encoding ${headers["content-encoding"]}`, path, headers, body: good };
    }
    case 8: {
      const noise = new Uint8Array(g.int(0, 3000)).map(() => g.int(0, 255));
      return { what: "noise", path, headers, body: noise };
    }
    default: {
      const items = Array.from({ length: g.int(0, 40) }, () => `${JSON.stringify({ type: g.pick(["event", "transaction", "session", "sessions", "span", "client_report", "attachment", "?", ""]) })}\n${JSON.stringify(mutateJson(g, { a: 1, spans: [{}], aggregates: [{}], items: [{}] }))}`);
      return { what: "odd items", path, headers, body: enc.encode([JSON.stringify({ dsn: `http://${app.key}@e/1` }), ...items].join("\n")) };
    }
  }
}

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp();
});

it(`answers ${CASES} hostile Sentry requests without a 5xx, in Sentry's shapes (seed ${SEED})`, async () => {
  console.log(`fuzz-sentry seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
  const g = generator(SEED);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (let n = 0; n < CASES; n++) {
    const c = await makeCase(g, app, n);
    const res = await SELF.fetch(`https://edge.test${c.path}`, { method: "POST", headers: c.headers, body: c.body });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const shaped = res.ok ? body !== null && typeof body === "object" && !Array.isArray(body) : typeof (body as { detail?: unknown } | undefined)?.detail === "string";
    if (res.status >= 500 || !shaped) failures.push(`#${n} ${c.what} ${c.path}: ${res.status} ${text.slice(0, 200)}`);
  }
  expect(failures).toEqual([]);
  // The generator reaches both sides: requests kept and requests refused.
  expect([...statuses.keys()].some((s) => s === 200)).toBe(true);
  expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
  expect([...statuses.keys()].some((s) => s === 401)).toBe(true);
}, 180_000);
