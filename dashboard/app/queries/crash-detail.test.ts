import { describe, expect, it } from "vitest";
import { crashDetailOf, frameLabel, splitStack } from "./crash-detail";

describe("crashDetailOf", () => {
  it("reads the stack, rule, environment and Sentry breadcrumbs a crash was stored with", () => {
    const d = crashDetailOf(
      JSON.stringify({
        environment: "production",
        tags: { region: "eu" },
        breadcrumbs: [{ timestamp: 1_700_000_000_000, category: "ui.click", level: "info", message: "Pay", data: { id: 3 } }, { type: "navigation" }],
        error: {
          type: "TypeError",
          rule: "r1",
          handled: false,
          frames: [{ function: "a", file: "main.js", line: 1, column: 2, inApp: false }, { function: "render", file: "src/app.tsx", line: 10, minified: { function: "b", file: "main.js", line: 1, column: 99 } }],
        },
      }),
    );
    expect(d.rule).toBe("r1");
    expect(d.environment).toBe("production");
    expect(d.handled).toBe(false);
    expect(d.extra).toEqual({ tags: { region: "eu" } });
    // A frame without the flag is the app's own, as grouping counts it.
    expect(d.frames.map((f) => [f.function, f.inApp])).toEqual([
      ["a", false],
      ["render", true],
    ]);
    expect(d.frames[1]?.minified).toEqual({ function: "b", file: "main.js", line: 1, column: 99 });
    expect(d.breadcrumbs).toEqual([
      { ts: 1_700_000_000_000, category: "ui.click", level: "info", message: "Pay", data: '{"id":3}' },
      { ts: null, category: "navigation", level: "", message: "", data: "" },
    ]);
  });

  it("shows nothing it cannot read rather than failing: bad JSON, wrong shapes, unsafe numbers", () => {
    expect(crashDetailOf("not json")).toMatchObject({ frames: [], rule: "", breadcrumbs: [], handled: null });
    const d = crashDetailOf(JSON.stringify({ error: { frames: ["x", null, { function: 5, line: 1e20, column: -0.5 }] }, breadcrumbs: "no" }));
    expect(d.frames).toEqual([{ function: "", file: "", line: null, column: null, inApp: true, minified: null }]);
    expect(d.breadcrumbs).toEqual([]);
  });
});

describe("stack order", () => {
  const f = (fn: string, inApp: boolean) => ({ function: fn, file: `${fn}.js`, line: 1, column: null, inApp, minified: null });

  it("puts the app's frames first, innermost first, and folds the others in their order", () => {
    const { shown, folded } = splitStack([f("lib1", false), f("mine1", true), f("lib2", false), f("mine2", true)]);
    expect(shown.map((x) => x.function)).toEqual(["mine1", "mine2"]);
    expect(folded.map((x) => x.function)).toEqual(["lib1", "lib2"]);
  });

  it("labels a frame on one line, with what it has", () => {
    expect(frameLabel({ function: "render", file: "src/app.tsx", line: 10, column: 5 })).toBe("render (src/app.tsx:10:5)");
    expect(frameLabel({ function: "", file: "", line: null, column: null })).toBe("(anonymous) (?)");
  });
});
