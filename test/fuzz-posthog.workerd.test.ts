// Hostile input at the PostHog door: mutated capture payloads, broken gzip and base64, forms,
// wrong keys and events whose fields hold the wrong kinds of values, from a seeded generator
// (`FUZZ_SEED=n npm test` replays a run; the seed is printed). Whatever arrives, the answer is never a
// 5xx: it is 200 `{status: 1}` or a 4xx in PostHog's error shape.
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { toWellFormed } from "../schemas";
import { createTestApp, type TestApp } from "./seed";

const REQUESTS = 400;

/** xorshift32 over the seed: the same requests for the same seed. */
function generator(seed: number) {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const below = (n: number): number => Math.floor(next() * n);
  return { next, below, pick: <T>(items: readonly T[]): T => items[below(items.length)] as T };
}
type Gen = ReturnType<typeof generator>;

const WEIRD: unknown[] = [
  null, true, 0, -1, 1.5, 1e300, -1e300, "", " ", "x".repeat(5000), "\u0000", "\ud800", "😀", "$direct", "2026-13-45T99:99:99Z", "not a time",
  [], [1, 2], {}, { nested: { deeper: [null] } }, Number.MAX_SAFE_INTEGER, "<script>", "' OR 1=1 --",
];
const NAMES = ["$pageview", "$screen", "$identify", "$set", "$groupidentify", "$create_alias", "$exception", "$autocapture", "$pageleave", "custom", "", "$snapshot"];
const FIELDS = ["distinct_id", "uuid", "timestamp", "offset", "$set", "$set_once", "properties", "event", "token", "api_key"];
const PROPS = ["$current_url", "$pathname", "$referrer", "$os", "$browser_version", "$screen_width", "$device_id", "$is_identified", "$anon_distinct_id", "$session_id", "$group_key", "$group_set", "alias", "title", "$screen_name", "$exception_level", "token"];

function weirdException(g: Gen): unknown {
  const frame = () => ({ filename: g.pick(WEIRD), function: g.pick(WEIRD), lineno: g.pick(WEIRD), colno: g.pick(WEIRD), in_app: g.pick(WEIRD) });
  return g.pick([
    g.pick(WEIRD),
    [g.pick(WEIRD)],
    [{ type: g.pick(WEIRD), value: g.pick(WEIRD), mechanism: g.pick(WEIRD), stacktrace: g.pick(WEIRD) }],
    [{ type: "TypeError", value: "boom", mechanism: { handled: g.pick(WEIRD) }, stacktrace: { frames: Array.from({ length: g.below(300) }, frame) } }],
  ]);
}

function event(g: Gen, key: string): Record<string, unknown> {
  const properties: Record<string, unknown> = { token: key, $lib: "web" };
  for (let i = g.below(6); i > 0; i--) properties[g.pick(PROPS)] = g.pick(WEIRD);
  const e: Record<string, unknown> = { event: g.pick(NAMES), distinct_id: `u-${g.below(1000)}`, uuid: crypto.randomUUID(), properties };
  if (e.event === "$exception" && g.next() < 0.7) properties.$exception_list = weirdException(g);
  for (let i = g.below(3); i > 0; i--) e[g.pick(FIELDS)] = g.pick(WEIRD);
  return e;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function mutate(g: Gen, text: string): string {
  if (text.length === 0) return text;
  const at = g.below(text.length);
  return g.pick([text.slice(0, at), text.slice(0, at) + g.pick(["\u0000", "}", "{", '"', "\\", "%", "=", "&"]) + text.slice(at + 1), text.slice(at)]);
}

interface Attempt {
  what: string;
  path: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body: BodyInit | null;
}

// A mutation can split a surrogate pair, which a query string cannot carry.
async function attempt(g: Gen, app: TestApp): Promise<Attempt> {
  const key = g.pick([app.key, app.key, app.key, "phc_someone_else", "", "wk_" + "x".repeat(300)]);
  const events = Array.from({ length: 1 + g.below(5) }, () => event(g, key));
  const payload: unknown = g.pick([{ api_key: key, batch: events, sent_at: g.pick([new Date().toISOString(), ...WEIRD]) }, events, events[0], { token: key, data: events }, g.pick(WEIRD)]);
  let text = JSON.stringify(payload) ?? "null";
  if (g.next() < 0.3) text = mutate(g, text);
  const bytes = new TextEncoder().encode(text);
  const path = g.pick(["/e/", "/batch/", "/capture", "/i/v0/e/", "/e"]);
  const kind = g.below(10);
  switch (kind) {
    case 0:
      return { what: "json", path, method: "POST", headers: { "content-type": "application/json" }, body: text };
    case 1:
      return { what: "gzip header", path, method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: await gzip(bytes) };
    case 2: {
      const z = await gzip(bytes);
      return { what: "truncated gzip-js", path: `${path}?compression=gzip-js`, method: "POST", headers: { "content-type": "text/plain" }, body: z.slice(0, g.below(z.length)) };
    }
    case 3:
      return { what: "gzip magic then garbage", path, method: "POST", headers: { "content-type": "text/plain" }, body: new Uint8Array([0x1f, 0x8b, ...Array.from({ length: g.below(64) }, () => g.below(256))]) };
    case 4:
      return { what: "base64 form", path: `${path}?compression=base64`, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `data=${encodeURIComponent(toWellFormed(mutate(g, base64(bytes))))}` };
    case 5:
      return { what: "base64 of invalid UTF-8", path: `${path}?compression=base64`, method: "POST", headers: {}, body: `data=${base64(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))}` };
    case 6:
      return { what: "bad percent-encoding", path, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `data=%E0%A4%A&compression=${g.pick(["base64", "lz64", "gzip-js", "%%"])}` };
    case 7:
      return { what: "GET ?data=", path: `${path}?data=${encodeURIComponent(toWellFormed(g.next() < 0.5 ? base64(bytes) : mutate(g, text)))}&compression=${g.pick(["base64", "", "x"])}`, method: "GET", headers: {}, body: null };
    case 8:
      return { what: "random bytes", path, method: "POST", headers: { "content-type": g.pick(["text/plain", "application/octet-stream", "", "image/png"]) }, body: new Uint8Array(Array.from({ length: g.below(200) }, () => g.below(256))) };
    default: {
      let deep: unknown = events[0];
      for (let i = 0; i < 60; i++) deep = { d: deep };
      return { what: "deep nesting", path, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ api_key: key, batch: [{ ...events[0], properties: { deep } }] }) };
    }
  }
}

describe("fuzzing the PostHog door", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
    console.log(`posthog fuzz seed ${inject("fuzzSeed")} (replay with FUZZ_SEED=${inject("fuzzSeed")})`);
  });

  it(`answers ${REQUESTS} hostile requests with 200 {status: 1} or a 4xx in PostHog's shape, never a 5xx`, { timeout: 180_000 }, async () => {
    const seed = inject("fuzzSeed");
    const g = generator(seed);
    const problems: string[] = [];
    const seen = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const a = await attempt(g, app);
      const res = await SELF.fetch(`https://edge.test${a.path}`, { method: a.method, headers: a.headers, body: a.body });
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      const text = await res.text();
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        problems.push(`#${i} ${a.what} ${a.path}: ${res.status} not JSON: ${text.slice(0, 200)}`);
        continue;
      }
      const fine =
        res.status === 200
          ? body.status === 1
          : res.status >= 400 && res.status < 500 && typeof body.type === "string" && typeof body.code === "string" && typeof body.detail === "string";
      if (!fine) problems.push(`#${i} ${a.what} ${a.path}: ${res.status} ${text.slice(0, 300)}`);
    }
    expect(problems, `FUZZ_SEED=${seed}`).toEqual([]);
    // The generator reaches both sides: accepted batches and refusals.
    expect(seen.get(200) ?? 0).toBeGreaterThan(0);
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
  });
});
