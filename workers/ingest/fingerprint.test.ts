import { describe, expect, it } from "vitest";
import type { CrashRule } from "../../schemas";
import { crashFingerprint, globPattern, groupCrash } from "./fingerprint";

describe("grouping rule globs", () => {
  it("match the whole text, any case, with * as any run of characters", () => {
    expect(globPattern("*timeout*").test("Request Timeout after 30s")).toBe(true);
    expect(globPattern("chunk * failed").test("Chunk 7 failed")).toBe(true);
    expect(globPattern("chunk * failed").test("Loading chunk 7 failed")).toBe(false);
    expect(globPattern("*").test("")).toBe(true);
    expect(globPattern("*\nline two").test("line one\nline two")).toBe(true);
  });

  it("take every other character literally", () => {
    expect(globPattern("a.b(c)?").test("a.b(c)?")).toBe(true);
    expect(globPattern("a.b(c)?").test("aXb(c)")).toBe(false);
    expect(globPattern("[x]+$^|\\").test("[x]+$^|\\")).toBe(true);
    expect(globPattern("src/*/api/*.ts").test("src/shop/api/cart.ts")).toBe(true);
  });
});

describe("grouping rules", () => {
  const frames = [
    { function: "loadChunk", file: "https://cdn.example/assets/runtime.3f9a2b1c.js", line: 1, column: 900, inApp: true },
    { function: "dispatch", file: "https://cdn.example/assets/vendor.77aa00ff.js", line: 1, column: 40, inApp: false },
  ];
  const merge: CrashRule = { id: "r-chunks", action: "merge", type: "ChunkLoadError" };
  const split: CrashRule = { id: "r-http", action: "split", message: "request * failed*" };

  it("leave crashes no rule matches on their default fingerprint", () => {
    expect(groupCrash("TypeError", "x is undefined", frames, [merge, split])).toEqual({ fingerprint: crashFingerprint("TypeError", "x is undefined", frames) });
  });

  it("merge every matching crash into the rule's one issue, whatever its stack or message", () => {
    const a = groupCrash("ChunkLoadError", "Loading chunk 7 failed", frames, [merge]);
    const b = groupCrash("ChunkLoadError", "Loading chunk vendors failed", [], [merge]);
    expect(a).toEqual({ fingerprint: b.fingerprint, rule: "r-chunks" });
    expect(a.fingerprint).not.toBe(crashFingerprint("ChunkLoadError", "Loading chunk 7 failed", frames));
    // The fingerprint belongs to the rule: the same rule after its matchers change keeps its issue.
    expect(groupCrash("ChunkLoadError", "x", [], [{ ...merge, message: "*" }]).fingerprint).toBe(a.fingerprint);
    expect(groupCrash("ChunkLoadError", "x", [], [{ ...merge, id: "r-other" }]).fingerprint).not.toBe(a.fingerprint);
  });

  it("split one stack into an issue per normalised message", () => {
    const gateway = groupCrash("HttpError", "request 12 failed: bad gateway", frames, [split]);
    expect(gateway.rule).toBe("r-http");
    expect(groupCrash("HttpError", "request 97 failed: bad gateway", frames, [split]).fingerprint).toBe(gateway.fingerprint);
    expect(groupCrash("HttpError", "request 12 failed: forbidden", frames, [split]).fingerprint).not.toBe(gateway.fingerprint);
    expect(gateway.fingerprint).not.toBe(crashFingerprint("HttpError", "request 12 failed: bad gateway", frames));
  });

  it("apply the first rule whose matchers all match", () => {
    const both: CrashRule = { id: "r-both", action: "merge", type: "HttpError", message: "*forbidden*" };
    expect(groupCrash("HttpError", "request 1 failed: forbidden", frames, [both, split]).rule).toBe("r-both");
    expect(groupCrash("HttpError", "request 1 failed: not found", frames, [both, split]).rule).toBe("r-http");
    expect(groupCrash("OtherError", "request 1 failed: forbidden", frames, [both, split]).rule).toBe("r-http");
  });

  it("match a module against in-app frames only, by module name or else file", () => {
    const byFile: CrashRule = { id: "r-runtime", action: "merge", module: "*/runtime.*.js" };
    const byVendor: CrashRule = { id: "r-vendor", action: "merge", module: "*vendor*" };
    expect(groupCrash("E", "m", frames, [byFile]).rule).toBe("r-runtime");
    expect(groupCrash("E", "m", frames, [byVendor]).rule).toBeUndefined();
    const python = [{ function: "charge", file: "/srv/app/billing/charge.py", module: "app.billing.charge", inApp: true }];
    expect(groupCrash("E", "m", python, [{ id: "r-billing", action: "merge", module: "app.billing.*" }]).rule).toBe("r-billing");
    expect(groupCrash("E", "m", python, [{ id: "r-path", action: "merge", module: "/srv/*" }]).rule).toBeUndefined();
  });
});

describe("fingerprints across JavaScript engines", () => {
  const at = (fn: string | undefined, column: number) => ({ ...(fn === undefined ? {} : { function: fn }), file: "https://shop.example/assets/app.3f9a2b1c.js", line: 1, column, inApp: true });
  it("read one function the same whatever name an engine gives it", () => {
    const chrome = [at("Cart.total", 10), at("async loadCart", 20), at("HTMLButtonElement.<anonymous>", 30), at("Object.onPay [as handler]", 40)];
    const firefox = [at("total", 10), at("loadCart", 20), at("setup/<", 30), at("onPay", 40)];
    const safari = [at("total", 10), at("loadCart", 20), at(undefined, 30), at("onPay", 40)];
    const hermes = [at("total", 10), at("loadCart", 20), at("anonymous", 30), at("onPay", 40)];
    const fingerprints = [chrome, firefox, safari, hermes].map((frames) => crashFingerprint("TypeError", "m", frames));
    expect(new Set(fingerprints).size).toBe(1);
    expect(crashFingerprint("TypeError", "m", [at("total", 10), at("saveCart", 20)])).not.toBe(fingerprints[0]);
  });
});

describe("fingerprints of source-mapped frames", () => {
  it("ignore a function name the map could not give, which the minifier changes from build to build", () => {
    const mapped = (minifiedName: string) => [
      { function: "applyDiscount", file: "../src/checkout.ts", line: 5, inApp: true, minified: { function: "p", file: "app.1111aaaa.js", line: 1 } },
      { function: minifiedName, file: "../src/checkout.ts", line: 12, inApp: true, minified: { function: minifiedName, file: "app.1111aaaa.js", line: 1 } },
    ];
    expect(crashFingerprint("RangeError", "m", mapped("Object.c"))).toBe(crashFingerprint("RangeError", "m", mapped("Object.k")));
  });
});
