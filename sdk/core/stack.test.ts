import { describe, expect, it } from "vitest";
import { crashInfo, parseStack } from "./stack";

describe("parseStack", () => {
  it("reads V8 stacks, with and without function names", () => {
    const stack = [
      "TypeError: x is undefined",
      "    at render (https://shop.example/app.js:10:3)",
      "    at async load (https://shop.example/app.js:20:7)",
      "    at https://shop.example/vendor/node_modules/react.js:1:99",
    ].join("\n");
    expect(parseStack(stack)).toEqual([
      { function: "render", file: "https://shop.example/app.js", line: 10, column: 3, inApp: true },
      { function: "async load", file: "https://shop.example/app.js", line: 20, column: 7, inApp: true },
      { file: "https://shop.example/vendor/node_modules/react.js", line: 1, column: 99, inApp: false },
    ]);
  });

  it("reads Firefox and Safari stacks", () => {
    expect(parseStack("render@https://shop.example/app.js:10:3\n@https://shop.example/app.js:2:1")).toEqual([
      { function: "render", file: "https://shop.example/app.js", line: 10, column: 3, inApp: true },
      { file: "https://shop.example/app.js", line: 2, column: 1, inApp: true },
    ]);
  });
});

describe("crashInfo", () => {
  it("describes errors and anything else thrown", () => {
    const err = new RangeError("too far");
    const info = crashInfo(err, { fatal: true, handled: false });
    expect(info).toMatchObject({ type: "RangeError", message: "too far", fatal: true, handled: false });
    expect(info.frames[0]?.file).toContain("stack.test.ts");
    expect(crashInfo("plain string", { fatal: false, handled: true })).toEqual({ type: "Error", message: "plain string", fatal: false, handled: true, frames: [] });
  });
});
