import { describe, expect, it } from "vitest";
import { rng } from "../../../bench/fixtures";
import { plainText } from "./detectors";

// Every detector needs a digit, @, =, :, _, -, %, a capital letter, or the word "bearer".
const hasHint = (s: string): boolean => /[0-9@=:_\-%A-Z]/.test(s) || s.includes("bearer");

describe("plainText", () => {
  it("clears prose and nothing a detector could match", () => {
    expect(plainText("lorem ipsum dolor sit amet ".repeat(40))).toBe(true);
    expect(plainText("a wearer of hats, a bear, a barer truth")).toBe(true);
    expect(plainText("héllo wörld ✓")).toBe(true);
    for (const s of ["token bearer abcdefgh", "bbearer", "x7", "a@b", "a=b", "a:b", "a_b", "a-b", "a%20b", "Hello"]) expect(plainText(s), s).toBe(false);
  });

  it("agrees with the rule on random text", () => {
    const r = rng(7);
    const alphabet = "bearr ex.,é\n0@=:_-%Zz";
    for (let i = 0; i < 20_000; i++) {
      let s = "";
      for (let n = Math.floor(r() * 24); n > 0; n--) s += alphabet[Math.floor(r() * alphabet.length)] ?? "";
      expect(plainText(s), s).toBe(!hasHint(s));
    }
  });
});
