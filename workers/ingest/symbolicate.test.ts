import { FlattenMap, type TraceMap } from "@jridgewell/trace-mapping";
import { describe, expect, it } from "vitest";
import type { StackFrame } from "../../schemas";
import { parseStack } from "../../sdk/core/stack";
import { checkoutLine as lineOf, minifiedCrash } from "../../test/sourcemap-builds";
import { parseSourceMap, scriptBasename } from "../sourcemaps/store";
import { crashFingerprint } from "./fingerprint";
import { loadSymbolicator, mapFrames } from "./symbolicate";

function decoded(file: string, map: string): Map<string, TraceMap> {
  const parsed = parseSourceMap(map);
  if (typeof parsed === "string") throw new Error(parsed);
  return new Map([[file, new FlattenMap(JSON.stringify(parsed))]]);
}

describe("source-mapped frames", () => {
  it("get back their original functions, files and lines, and keep the minified frame", async () => {
    const { stack, map } = await minifiedCrash("app.3f2a1b9c.js");
    const frames = parseStack(stack);
    expect(frames[0]?.function).not.toBe("applyDiscount");

    const mapped = mapFrames(frames, decoded("app.3f2a1b9c.js", map));
    expect(mapped.slice(0, 2).map((f) => [f.function, f.file, f.line])).toEqual([
      ["applyDiscount", "src/checkout.ts", lineOf("throw new RangeError")],
      ["checkout", "src/checkout.ts", lineOf("const charged")],
    ]);
    expect(mapped[0]?.minified).toEqual({ function: frames[0]?.function, file: "https://cdn.example/assets/app.3f2a1b9c.js", line: frames[0]?.line, column: frames[0]?.column });
    // Called from outside the bundle: the map names nothing, so the minified name stays.
    expect(mapped[2]?.function).toBe(frames[2]?.function);
    expect(mapped[2]?.line).toBe(lineOf("charged: checkout"));
  });

  it("group the same crash from two different minified builds of the same source", async () => {
    const a = await minifiedCrash("app.3f2a1b9c.js");
    const b = await minifiedCrash("app.9e8d7c6b.js", true);
    const framesA = parseStack(a.stack);
    const framesB = parseStack(b.stack);
    const minified = (frames: StackFrame[]) => frames.slice(0, 3).map((f) => [f.function, f.line, f.column]);
    expect(minified(framesA)).not.toEqual(minified(framesB));
    const mappedA = mapFrames(framesA, decoded("app.3f2a1b9c.js", a.map));
    const mappedB = mapFrames(framesB, decoded("app.9e8d7c6b.js", b.map));
    expect(crashFingerprint("RangeError", "m", mappedA)).toBe(crashFingerprint("RangeError", "m", mappedB));
    expect(crashFingerprint("RangeError", "m", mappedA)).not.toBe(crashFingerprint("RangeError", "m", framesA));
  });

  it("mark frames from a dependency's original source as not in-app", async () => {
    const probe = { function: "x", file: "https://cdn.example/assets/app.3f2a1b9c.js", line: 1, column: 1, inApp: true };
    const { map } = await minifiedCrash("app.3f2a1b9c.js");
    const parsed = parseSourceMap(map);
    if (typeof parsed === "string") throw new Error(parsed);
    expect(parsed.sources).toContain("node_modules/format-money/index.ts");
    // Find a minified position inside the dependency by mapping every column of the one line.
    const maps = decoded("app.3f2a1b9c.js", map);
    const inDependency = Array.from({ length: 2000 }, (_, i) => mapFrames([{ ...probe, column: i + 1 }], maps)[0]).find((f) => f?.file?.includes("node_modules"));
    expect(inDependency?.inApp).toBe(false);
  });

  it("leave frames of other files, and frames without a position, as they were", async () => {
    const { map } = await minifiedCrash("app.3f2a1b9c.js");
    const frames: StackFrame[] = [
      { function: "a", file: "https://cdn.example/assets/other.11112222.js", line: 1, column: 10, inApp: true },
      { function: "b", file: "https://cdn.example/assets/app.3f2a1b9c.js", inApp: true },
    ];
    expect(mapFrames(frames, decoded("app.3f2a1b9c.js", map))).toEqual(frames);
  });
});

describe("loading maps at ingest", () => {
  const crash = (file: string, release = "1.4.0"): Record<string, unknown> => ({
    type: "crash",
    context: { app: { version: release } },
    error: { type: "E", frames: [{ function: "f", file, line: 1, column: 5 }] },
  });

  it("costs nothing for a batch without crashes that could use a map", async () => {
    const bucket = { get: () => Promise.reject(new Error("must not be read")) };
    expect(await loadSymbolicator(bucket, "app_a", [{ type: "track", event: "x" }], undefined)).toBeUndefined();
    expect(await loadSymbolicator(bucket, "app_a", [crash("https://x.example/app.js", "")], undefined)).toBeUndefined();
    expect(await loadSymbolicator(bucket, "app_a", [crash("/srv/app/server.py")], undefined)).toBeUndefined();
  });

  it("reads a map, found or missing, once per isolate and not once per crash", async () => {
    const reads: string[] = [];
    const { stack, map } = await minifiedCrash("app.3f2a1b9c.js");
    const thrownAt = parseStack(stack)[0] ?? {};
    const bucket = {
      get: (key: string) => {
        reads.push(key);
        return Promise.resolve(key.endsWith("app.3f2a1b9c.js.map") ? ({ text: () => Promise.resolve(map) } as R2ObjectBody) : null);
      },
    };
    const batch = [crash("https://cdn.example/assets/app.3f2a1b9c.js?v=1"), crash("https://cdn.example/assets/gone.00000000.js")];
    const first = await loadSymbolicator(bucket, "app_cache", batch, undefined);
    const second = await loadSymbolicator(bucket, "app_cache", batch, undefined);
    expect(reads).toEqual(["sourcemaps/app_cache/1.4.0/app.3f2a1b9c.js.map", "sourcemaps/app_cache/1.4.0/gone.00000000.js.map"]);
    expect(first).toBeDefined();
    expect(second?.("1.4.0", [thrownAt])[0]?.file).toBe("src/checkout.ts");
    // Maps belong to their release.
    expect(second?.("1.3.9", [thrownAt])[0]).toEqual(thrownAt);
  });

  it("never fails a crash over an unreadable or corrupt map: its frames stay as sent", async () => {
    const failing = { get: () => Promise.reject(new Error("R2 is down")) };
    expect(await loadSymbolicator(failing, "app_down", [crash("https://cdn.example/app.1.js")], undefined)).toBeUndefined();
    const corrupt = { get: () => Promise.resolve({ text: () => Promise.resolve('{"version":3,"sources":["a.ts"],"mappi') } as R2ObjectBody) };
    const symbolicate = await loadSymbolicator(corrupt, "app_corrupt", [crash("https://cdn.example/app.1.js")], undefined);
    const frames = [{ function: "f", file: "https://cdn.example/app.1.js", line: 1, column: 5 }];
    expect(symbolicate ? symbolicate("1.4.0", frames) : frames).toEqual(frames);
  });

  it("looks a frame's file up by its basename, without host, path, query or hash", () => {
    expect(scriptBasename("https://cdn.example/assets/app.3f2a1b9c.js?v=2#x")).toBe("app.3f2a1b9c.js");
    expect(scriptBasename("/var/task/index.mjs")).toBe("index.mjs");
    expect(scriptBasename("app:///main.jsbundle")).toBeNull();
    expect(scriptBasename("https://example.com/")).toBeNull();
  });
});
