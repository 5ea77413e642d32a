import { describe, expect, it } from "vitest";
import { HttpError } from "../../lib/errors";
import { segmentRoute, translateSegment } from "./segment";

function refusal(f: () => unknown): { status: number; code: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, code: err.code };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("Segment paths", () => {
  it("knows every path of Segment's HTTP API and its short form", () => {
    for (const [long, short] of [["track", "t"], ["page", "p"], ["screen", "s"], ["identify", "i"], ["group", "g"], ["alias", "a"]] as const) {
      expect(segmentRoute(long)).toEqual({ kind: "single", type: long });
      expect(segmentRoute(short)).toEqual({ kind: "single", type: long });
    }
    for (const name of ["batch", "b", "import"]) expect(segmentRoute(name)).toEqual({ kind: "batch" });
    expect(segmentRoute("m")).toEqual({ kind: "library_metrics" });
    for (const name of ["x", "constructor", "toString", "__proto__", ""]) expect(segmentRoute(name)).toBeNull();
  });
});

describe("translateSegment", () => {
  it("makes a single-event body one event of the path's type, with its writeKey", () => {
    const out = translateSegment(JSON.stringify({ type: "page", event: "Signed Up", userId: "u1", writeKey: "wk_1", sentAt: "2026-11-30T10:00:00Z" }), { kind: "single", type: "track" });
    expect(out.events).toEqual([{ type: "track", event: "Signed Up", userId: "u1", writeKey: "wk_1", sentAt: "2026-11-30T10:00:00Z" }]);
    expect(out.key).toEqual({ key: "wk_1", from: "body" });
  });

  it("reads a batch's envelope and finds the key on the batch or, as analytics.js sends it, on its events", () => {
    const batch = [{ type: "track", event: "A", writeKey: "wk_event" }];
    const top = translateSegment(JSON.stringify({ batch, writeKey: "wk_top", sentAt: "2026-11-30T10:00:00Z", context: { app: { version: "1" } } }), { kind: "batch" });
    expect(top.key).toEqual({ key: "wk_top", from: "body" });
    expect(top.envelope).toEqual({ sentAt: "2026-11-30T10:00:00Z", context: { app: { version: "1" } } });
    expect(translateSegment(JSON.stringify({ batch }), { kind: "batch" }).key).toEqual({ key: "wk_event", from: "body" });
    expect(translateSegment(JSON.stringify({ batch: [] }), { kind: "batch" }).key).toBeNull();
  });

  it("leaves out the fields Segment's libraries send as null", () => {
    const single = translateSegment(JSON.stringify({ event: "E", userId: null, anonymousId: "a1", properties: { kept: null } }), { kind: "single", type: "track" });
    expect(single.events).toEqual([{ type: "track", event: "E", anonymousId: "a1", properties: { kept: null } }]);
    const batch = translateSegment(JSON.stringify({ batch: [{ type: "page", name: null, category: null, anonymousId: "a1" }, "x"] }), { kind: "batch" });
    expect(batch.events).toEqual([{ type: "page", anonymousId: "a1" }, "x"]);
    // A member named __proto__ stays a member of the copy, in its place.
    const proto = translateSegment('{"batch":[{"type":"track","__proto__":{"admin":true},"userId":null,"event":"E"}]}', { kind: "batch" });
    expect(JSON.stringify(proto.events)).toBe('[{"type":"track","__proto__":{"admin":true},"event":"E"}]');
    expect((proto.events[0] as { admin?: unknown }).admin).toBeUndefined();
  });

  it("refuses what is not a Segment body with a 400 that says why", () => {
    expect(refusal(() => translateSegment("", { kind: "batch" }))).toEqual({ status: 400, code: "empty_batch" });
    expect(refusal(() => translateSegment("{", { kind: "batch" }))).toEqual({ status: 400, code: "invalid_json" });
    expect(refusal(() => translateSegment("[1]", { kind: "single", type: "track" }))).toEqual({ status: 400, code: "invalid_body" });
    expect(refusal(() => translateSegment('{"batch":{}}', { kind: "batch" }))).toEqual({ status: 400, code: "invalid_body" });
  });
});
