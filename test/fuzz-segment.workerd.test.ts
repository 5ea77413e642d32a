// Hostile requests to every path of Segment's HTTP API: bad JSON, bad gzip, wrong and absent
// keys in each place a Segment library puts one, wrong content types, huge and deep bodies.
// Generated from a seed printed with any failure, so a run can be replayed. Whatever arrives,
// the answer is a documented 4xx with a clear message in the error shape, or a 2xx; never a 5xx.
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiError, BatchResponse } from "../schemas";
import { basicAuth, createTestApp, trackEvent, type TestApp } from "./seed";

const SEGMENT_PATHS = ["batch", "b", "import", "track", "t", "page", "p", "screen", "s", "identify", "i", "group", "g", "alias", "a"];
const OTHER_PATHS = ["T", "t/", "batch/x", "%00", "tracks", "x".repeat(300)];
const CONTENT_TYPES = ["application/json", "text/plain", "text/plain;charset=UTF-8", "application/json; charset=utf-8", "", "application/xml", "multipart/form-data; boundary=x", "garbage", "application/x-www-form-urlencoded"];
const DOCUMENTED = new Set([200, 400, 401, 404, 413, 415, 429]);

/** xorshift32 from a seed: the same requests for the same seed. */
function seeded(seed: number) {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const upTo = (n: number): number => Math.floor(next() * n);
  return {
    upTo,
    chance: (p: number): boolean => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[upTo(items.length)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
  };
}
type Gen = ReturnType<typeof seeded>;

async function compress(bytes: Uint8Array, format: "gzip" | "deflate"): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
}

function deep(levels: number): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = { d: v };
  return v;
}

interface Hostile {
  label: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The status this request must get, when its hostility decides it. */
  expected?: number;
}

const enc = new TextEncoder();

function eventFor(path: string, g: Gen): Record<string, unknown> {
  const e = trackEvent({ properties: { total: g.upTo(100) } });
  if (["page", "p", "screen", "s"].includes(path)) return { ...e, name: "Home" };
  if (["group", "g"].includes(path)) return { ...e, groupId: "acme" };
  if (["alias", "a"].includes(path)) return { ...e, userId: "u1", previousId: "a1" };
  return e;
}

async function hostile(g: Gen, app: TestApp): Promise<Hostile> {
  const unknownPath = g.chance(0.05);
  const path = unknownPath ? g.pick(OTHER_PATHS) : g.pick(SEGMENT_PATHS);
  const isBatch = ["batch", "b", "import"].includes(path);
  const labels: string[] = [`/v1/${path.slice(0, 12)}`];
  const headers: Record<string, string> = {};
  let expected: number | undefined = unknownPath ? 404 : undefined;

  // The key: absent, right or wrong, in each place a Segment library puts one.
  const bodyKey: Record<string, unknown> = {};
  const place = g.upTo(9);
  labels.push(`key:${place}`);
  if (place === 0) headers.authorization = basicAuth(app.key);
  else if (place === 1) headers["x-write-key"] = app.key;
  else if (place === 2) bodyKey.writeKey = app.key;
  else if (place === 3) {
    headers.authorization = g.pick([basicAuth("wk_wrong"), `Basic ${btoa(":")}`, "Basic %%%", "Bearer x", basicAuth("k".repeat(300))]);
    expected ??= headers.authorization === `Basic ${btoa(":")}` || headers.authorization === "Bearer x" ? undefined : 401;
  } else if (place === 4) {
    headers["x-write-key"] = g.pick(["wk_wrong", "k".repeat(300)]);
    expected ??= 401;
  } else if (place === 5) bodyKey.writeKey = g.pick<unknown>(["wk_wrong", 42, { key: app.key }, "", null]);
  // 6–8: no key at all, unless the body is built with one on its events below.

  // The body: valid, malformed, oversized or deeply nested.
  const shape = g.upTo(12);
  labels.push(`body:${shape}`);
  let text: string;
  const events = (n: number) => Array.from({ length: n }, () => ({ ...eventFor(path, g), ...(place === 7 ? { writeKey: app.key } : {}) }));
  if (shape <= 3) text = JSON.stringify(isBatch ? { batch: events(1 + g.upTo(4)), sentAt: new Date().toISOString(), ...bodyKey } : { ...eventFor(path, g), ...bodyKey });
  else if (shape === 4) text = JSON.stringify(isBatch ? { batch: events(2) } : { ...eventFor(path, g), ...bodyKey }).slice(0, -1 - g.upTo(10));
  else if (shape === 5) text = g.pick(["", " ", "null", "[]", "[1,2]", '"x"', "42", "{}", '{"batch":{}}', '{"batch":[]}', '{"batch":"x"}']);
  else if (shape === 6) text = JSON.stringify({ batch: events(2), ...bodyKey, context: deep(40) });
  else if (shape === 7) text = JSON.stringify(isBatch ? { batch: [{ ...eventFor(path, g), properties: deep(40) }], ...bodyKey } : { ...eventFor(path, g), properties: deep(40), ...bodyKey });
  else if (shape === 8) text = JSON.stringify({ batch: Array.from({ length: 2501 }, () => ({})), ...bodyKey });
  else if (shape === 9) text = JSON.stringify({ ...bodyKey, batch: [{ type: "track", event: "x", anonymousId: "a", properties: { pad: "y".repeat(1_100_000) } }] });
  else if (shape === 10) text = `\ufeff${JSON.stringify({ batch: events(1), ...bodyKey })}`;
  else text = JSON.stringify({ ...bodyKey, batch: [null, 1, "x", [], { type: "teleport" }, { type: null, userId: null }] });
  let body: Uint8Array = enc.encode(text);
  if (g.chance(0.05)) {
    body = new Uint8Array(Array.from({ length: 64 }, () => g.upTo(256)));
    labels.push("bytes");
  }

  // Content type and encoding, some of them wrong.
  const type = g.chance(0.7) ? g.pick(CONTENT_TYPES.slice(0, 4)) : g.pick(CONTENT_TYPES);
  if (type !== "") headers["content-type"] = type;
  labels.push(`type:${type}`);
  const encoding = g.upTo(10);
  labels.push(`enc:${encoding}`);
  if (encoding === 0 || encoding === 1) {
    headers["content-encoding"] = "gzip";
    body = await compress(body, "gzip");
  } else if (encoding === 2) {
    headers["content-encoding"] = "gzip";
    const zipped = await compress(body, "gzip");
    body = zipped.slice(0, Math.max(1, zipped.length - 1 - g.upTo(8)));
  } else if (encoding === 3) {
    headers["content-encoding"] = "gzip";
  } else if (encoding === 4) {
    headers["content-encoding"] = "deflate";
    body = await compress(body, "deflate");
  } else if (encoding === 5) {
    headers["content-encoding"] = g.pick(["br", "gzip, gzip", "x-gzip", "compress"]);
  }
  return { label: labels.join(" "), path, headers, body, expected };
}

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});

describe("Segment's paths under hostile requests", () => {
  it("answers every generated request with a documented status and a clear error, never a 5xx", async () => {
    const seed = Number(Date.now() % 2 ** 31);
    const g = seeded(seed);
    const failures: string[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const req = await hostile(g, app);
      const res = await SELF.fetch(`https://edge.test/v1/${req.path}`, { method: "POST", headers: req.headers, body: req.body });
      const text = await res.text();
      seen.add(res.status);
      const problem = (what: string) => failures.push(`#${i} ${req.label}: ${what} (${res.status} ${text.slice(0, 200)})`);
      if (!DOCUMENTED.has(res.status)) problem("undocumented status");
      if (req.expected !== undefined && res.status !== req.expected) problem(`expected ${req.expected}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        problem("the answer is not JSON");
        continue;
      }
      if (res.status >= 400) {
        const err = ApiError.safeParse(parsed);
        if (!err.success || err.data.error.message.length < 8) problem("not a clear error in the error shape");
      } else if (req.path !== "m" && !BatchResponse.safeParse(parsed).success) problem("not a batch answer");
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    // The mix reaches every kind of answer, accepted batches included.
    expect([...seen].sort((a, b) => a - b), `seed ${seed}`).toEqual([200, 400, 401, 404, 413, 415]);
  });

  it("refuses a wrong key in each place on every path, before accepting anything", async () => {
    for (const path of SEGMENT_PATHS) {
      const batch = ["batch", "b", "import"].includes(path);
      const event = eventFor(path, seeded(1));
      const wrong: Array<[string, Record<string, string>, Record<string, unknown>]> = [
        ["basic", { authorization: basicAuth("wk_wrong") }, {}],
        ["x-write-key", { "x-write-key": "wk_wrong" }, {}],
        ["body", {}, { writeKey: "wk_wrong" }],
        ["none", {}, {}],
      ];
      for (const [where, headers, key] of wrong) {
        const body = batch ? { batch: [event], ...key } : { ...event, ...key };
        const res = await SELF.fetch(`https://edge.test/v1/${path}`, { method: "POST", headers: { "content-type": "text/plain", ...headers }, body: JSON.stringify(body) });
        expect(res.status, `${path} ${where}`).toBe(401);
        const err = await res.json<ApiError>();
        expect(err.error.code, `${path} ${where}`).toBe("unauthorized");
      }
    }
  });
});
