// The `semver` flag condition: versions order as semver says (pre-releases below their release),
// every range shorthand admits exactly its versions, and a version or a range that does not
// parse never matches.
import { describe, expect, it } from "vitest";
import { parseRange, parseVersion, satisfies } from "./semver";

describe("parseVersion", () => {
  it("orders versions, pre-releases below their release", () => {
    const ordered = ["0.0.1", "0.1.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"];
    for (let i = 0; i + 1 < ordered.length; i++) {
      const a = parseVersion(ordered[i] ?? "");
      const b = parseVersion(ordered[i + 1] ?? "");
      if (!a || !b) throw new Error(`did not parse ${ordered[i]} or ${ordered[i + 1]}`);
      expect(a.compare(b), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(0);
      expect(b.compare(a)).toBeGreaterThan(0);
      expect(a.compare(a)).toBe(0);
    }
  });

  it("reads a leading v, build metadata, and a missing minor or patch as 0", () => {
    expect(parseVersion("v1.2.3")?.version).toBe("1.2.3");
    expect(parseVersion("1.2.3+build.7")?.version).toBe("1.2.3");
    expect(parseVersion("2.4")?.version).toBe("2.4.0");
    expect(parseVersion(" 7 ")?.version).toBe("7.0.0");
    expect(parseVersion("1.0.0-rc.1")?.prerelease).toEqual(["rc", 1]);
  });

  it("refuses what is not a version", () => {
    for (const bad of ["", "abc", "1.2.3.4", "1..2", "1.2.x", "-1.0.0", "1.0.0-", "1.0.0-a..b", "99999999999999999999.0.0", "1.2 beta"]) expect(parseVersion(bad), bad).toBeNull();
  });
});

describe("satisfies", () => {
  const cases: Array<[range: string, yes: string[], no: string[]]> = [
    [">=2.1.0 <3", ["2.1.0", "2.1.1", "2.9.9", "2.99.0-beta"], ["2.0.9", "3.0.0", "3.0.0-beta", "2.1.0-rc.1", "1.9.0"]],
    [">= 2.1.0 < 3", ["2.1.0", "2.5.0"], ["3.0.0", "2.0.0"]],
    // A range that leaves out a part starts at that version's first pre-release, as node-semver's X-ranges do.
    ["^2.4", ["2.4.0", "2.4.9", "2.99.1", "2.4.0-beta"], ["2.3.9", "3.0.0", "3.0.0-alpha"]],
    ["^2.4.1", ["2.4.1", "2.5.0"], ["2.4.0", "3.0.0"]],
    ["^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2", "1.0.0"]],
    ["^0.0.3", ["0.0.3"], ["0.0.4", "0.0.2", "0.1.0"]],
    ["^0.0", ["0.0.0", "0.0.9"], ["0.1.0"]],
    ["^0.x", ["0.0.1", "0.9.9"], ["1.0.0"]],
    ["^1", ["1.0.0", "1.9.9"], ["2.0.0", "0.9.0"]],
    ["~1.2.3", ["1.2.3", "1.2.99"], ["1.2.2", "1.3.0", "1.3.0-beta"]],
    ["~1.2", ["1.2.0", "1.2.5"], ["1.3.0", "1.1.9"]],
    ["~1", ["1.0.0", "1.9.0"], ["2.0.0", "0.9.0"]],
    ["~>1.2.3", ["1.2.4"], ["1.3.0"]],
    ["~1.2.3-beta.2", ["1.2.3-beta.2", "1.2.3-beta.10", "1.2.3", "1.2.9"], ["1.2.3-beta.1", "1.2.3-alpha", "1.3.0"]],
    ["2.x", ["2.0.0", "2.9.9", "2.1.0-beta", "2.0.0-rc.1"], ["1.9.9", "3.0.0", "3.0.0-beta"]],
    ["2.X", ["2.3.4"], ["3.0.0"]],
    ["2.*", ["2.3.4"], ["3.0.0"]],
    ["2", ["2.0.0", "2.5.1"], ["3.0.0", "1.0.0"]],
    ["2.4.x", ["2.4.0", "2.4.7"], ["2.5.0", "2.3.9"]],
    ["2.4", ["2.4.0", "2.4.7"], ["2.5.0"]],
    ["*", ["0.0.0", "1.2.3", "99.0.0"], []],
    ["x", ["1.2.3"], []],
    ["1.2.3", ["1.2.3", "v1.2.3", "1.2.3+build"], ["1.2.4", "1.2.3-beta"]],
    ["=1.2.3", ["1.2.3"], ["1.2.4"]],
    [">1.2.3", ["1.2.4", "2.0.0"], ["1.2.3", "1.2.3-beta"]],
    [">1.2", ["1.3.0"], ["1.2.9", "1.2.0"]],
    [">1", ["2.0.0"], ["1.9.9"]],
    [">=1.2", ["1.2.0", "5.0.0"], ["1.1.9"]],
    ["<1.2.3", ["1.2.2", "1.2.3-beta", "0.0.1"], ["1.2.3", "1.2.4"]],
    ["<1.2", ["1.1.9"], ["1.2.0", "1.2.0-beta"]],
    ["<=1.2.3", ["1.2.3", "1.0.0"], ["1.2.4"]],
    ["<=1.2", ["1.2.9"], ["1.3.0", "1.3.0-beta"]],
    [">*", [], ["1.0.0", "0.0.0"]],
    ["<x", [], ["0.0.0"]],
    ["1.2.3 - 2.0.0", ["1.2.3", "1.5.0", "2.0.0"], ["1.2.2", "2.0.1"]],
    ["1.2 - 2.3.4", ["1.2.0", "2.3.4"], ["1.1.9", "2.3.5"]],
    ["1.2.3 - 2.3", ["2.3.9"], ["2.4.0", "2.4.0-beta"]],
    ["1.2.3 - 2", ["2.9.9"], ["3.0.0"]],
    ["^1.2 || ^3.1", ["1.2.0", "1.9.0", "3.1.0", "3.9.9"], ["2.0.0", "3.0.9", "4.0.0", "1.1.0"]],
    ["<1 || >=2.0.0 <2.1 || 5.x", ["0.9.0", "2.0.5", "5.5.5"], ["1.0.0", "2.1.0", "4.9.9", "6.0.0"]],
    ["1.0.0-rc.1", ["1.0.0-rc.1"], ["1.0.0", "1.0.0-rc.2"]],
    [">=1.0.0-rc.1 <1.0.0", ["1.0.0-rc.1", "1.0.0-rc.2"], ["1.0.0-beta", "1.0.0"]],
  ];
  for (const [range, yes, no] of cases) {
    it(`${range}`, () => {
      for (const v of yes) expect(satisfies(v, range), `${v} in ${range}`).toBe(true);
      for (const v of no) expect(satisfies(v, range), `${v} not in ${range}`).toBe(false);
    });
  }

  it("an app version of one or two parts reads as x.0.0 or x.y.0", () => {
    expect(satisfies("2.4", "^2.4")).toBe(true);
    expect(satisfies("3", ">=3.0.0")).toBe(true);
    expect(satisfies("2", ">2.0.0")).toBe(false);
  });

  it("a version that does not parse never matches, not even *", () => {
    for (const bad of ["", "latest", "1.2.3.4", "1.2.x"]) {
      expect(satisfies(bad, "*"), bad).toBe(false);
      expect(satisfies(bad, ">=0.0.0"), bad).toBe(false);
    }
  });

  it("a range that does not parse matches nothing", () => {
    for (const bad of ["latest", ">=abc", "1.x.3", "1.2.3 - ", "^^1", ">=1.0.0 ||| 2", "1.2.3 - 2 - 3", "~", "1.2.3-"]) {
      expect(parseRange(bad), bad).toBeNull();
      expect(satisfies("1.2.3", bad), bad).toBe(false);
    }
  });
});
