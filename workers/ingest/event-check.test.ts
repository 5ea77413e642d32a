import { afterEach, describe, expect, it, vi } from "vitest";
import { rng } from "../../bench/fixtures";
import { Event } from "../../schemas";
import { checkEvent } from "./event-check";

type Json = Record<string, unknown>;

const base = { messageId: "m-1", anonymousId: "anon-1", timestamp: "2026-11-22T12:00:00.000Z", context: { page: { path: "/" } } };

// One event of every type with every member the schema knows, plus members it does not.
const SAMPLES: Json[] = [
  { ...base, type: "track", event: "Order Completed", properties: { total: 30 }, integrations: { All: true }, extra: 1 },
  { ...base, type: "page", name: "Pricing", category: "Docs", properties: { a: 1 } },
  { ...base, type: "screen", name: "Checkout" },
  { ...base, userId: 42, type: "identify", traits: { plan: "pro" }, originalTimestamp: 1_700_000_000_000, sentAt: "2026-11-22T12:00:01.000Z", receivedAt: 1 },
  { ...base, userId: "u1", type: "alias", previousId: "anon-1" },
  { ...base, type: "group", groupId: 7, traits: { seats: 10 } },
  {
    ...base,
    type: "crash",
    error: {
      stack: "at x",
      frames: [{ inApp: true, line: 3, column: 0, file: "app.js", function: "render", module: "m", extra: "x" }, {}],
      handled: false,
      fatal: true,
      message: "x is undefined",
      type: "TypeError",
      extra: { a: 1 },
    },
  },
  { ...base, type: "crash", error: { type: "RangeError" } },
  { ...base, type: "perf", metric: { unit: "s", value: 1.5, name: "LCP", extra: true } },
  { ...base, type: "perf", metric: { name: "INP", value: 0 } },
  {
    ...base,
    type: "network",
    request: { error: "timeout", responseBytes: 2, requestBytes: 1, duration: 0.5, status: 200, url: "https://api.example.com/a?b=1", method: "GET", extra: 1 },
  },
  { ...base, type: "network", request: { method: "POST", url: "/x" } },
];

// Values that sit on either side of the schema's rules.
const ODD_VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, -1, 1.5, 999, 1000, 2 ** 53, -(2 ** 53), 1e400, "", "x", "a".repeat(17), "a".repeat(65), "a".repeat(257),
  "a".repeat(513), "a".repeat(1025), "a".repeat(2049), "a".repeat(4097), "a".repeat(8193), "a".repeat(16385), [], [{}], {}, { a: 1 }, "track", "crash",
  Array.from({ length: 129 }, () => ({})),
];

// Every path to a member, nested objects and arrays included.
function paths(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== "object") return [prefix];
  const keys = Object.keys(v);
  return [prefix, ...keys.flatMap((k) => paths((v as Json)[k], [...prefix, k]))];
}

// A copy of `event` with the member at `path` set to `value`, or removed when `value` is `remove`.
const remove = Symbol("remove");
function mutate(event: Json, path: string[], value: unknown): unknown {
  if (path.length === 0) return value === remove ? undefined : value;
  const copy: unknown = structuredClone(event);
  let at = copy as Json;
  for (const k of path.slice(0, -1)) at = at[k] as Json;
  const last = path[path.length - 1] ?? "";
  if (value === remove) delete at[last];
  else at[last] = value;
  return copy;
}

// JSON text that keeps member order and tells an undefined member from an absent one.
const ordered = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x === undefined ? "<undefined>" : x));

function schemaVerdict(raw: unknown): { ok: true; text: string } | { ok: false; message: string } {
  const parsed = Event.safeParse(raw);
  if (parsed.success) return { ok: true, text: ordered(parsed.data) };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return { ok: false, message: `${where}${issue?.message ?? "invalid event"}` };
}

function expectSameAsSchema(raw: unknown): void {
  const expected = schemaVerdict(raw);
  const got = checkEvent(raw);
  if (expected.ok) {
    expect(got.ok, ordered(raw)).toBe(true);
    if (got.ok) expect(ordered(got.event), ordered(raw)).toBe(expected.text);
  } else {
    expect(got, ordered(raw)).toEqual({ ok: false, message: expected.message });
  }
}

describe("checkEvent", () => {
  afterEach(() => vi.restoreAllMocks());

  it("returns exactly what the Event schema returns for every event type", () => {
    for (const e of SAMPLES) expectSameAsSchema(e);
  });

  it("accepts and refuses what the schema does, with its messages, for any member changed or removed", () => {
    let cases = 0;
    for (const e of SAMPLES) {
      for (const path of paths(e)) {
        for (const value of [remove, ...ODD_VALUES]) {
          expectSameAsSchema(mutate(e, path, value));
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(5000);
  });

  it("agrees with the schema on random combinations of odd members", () => {
    const r = rng(17);
    for (let i = 0; i < 3000; i++) {
      let e: unknown = SAMPLES[Math.floor(r() * SAMPLES.length)];
      for (let n = 1 + Math.floor(r() * 3); n > 0 && e !== null && typeof e === "object"; n--) {
        const all = paths(e);
        const path = all[Math.floor(r() * all.length)] ?? [];
        const value = r() < 0.15 ? remove : ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
        e = mutate(e as Json, path, value);
      }
      expectSameAsSchema(e);
    }
  });

  it("hands back properties, traits and context as sent, without copying them", () => {
    const e = SAMPLES[0] as Json;
    const got = checkEvent(e);
    expect(got.ok && got.event.properties).toBe(e.properties);
    expect(got.ok && got.event.context).toBe(e.context);
  });

  it("reads ordinary events without the schema, which only sees the ones it refuses", () => {
    const schema = vi.spyOn(Event, "safeParse");
    for (const e of SAMPLES) expect(checkEvent(e).ok).toBe(true);
    expect(schema).not.toHaveBeenCalled();
    expect(checkEvent({ type: "track", anonymousId: "a" })).toEqual({ ok: false, message: "event: Invalid input: expected string, received undefined" });
    expect(schema).toHaveBeenCalledTimes(1);
  });
});
