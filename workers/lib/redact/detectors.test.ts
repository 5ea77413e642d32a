import { describe, expect, it } from "vitest";
import { rng } from "../../../bench/fixtures";
import { DETECTOR_SPECS, plainText, shapeOf } from "./detectors";

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

describe("which detectors apply", () => {
  // A detector passed over by its shape must be one that finds nothing: a card number or a phone
  // number in text is masked whatever the text around it.
  it("never passes over text in which the card or phone detector finds a number", () => {
    const r = rng(11);
    const alphabet = "0123456789 2345 .-+()/:_ax#";
    const found = { card: 0, phone: 0 };
    for (let i = 0; i < 40_000; i++) {
      let s = "";
      for (let n = 8 + Math.floor(r() * 28); n > 0; n--) s += alphabet[Math.floor(r() * alphabet.length)] ?? "";
      if (r() < 0.2) s = `${["m-", "x", "4111 1111 1111 1111", "+49 151 12345678", ""][Math.floor(r() * 5)] ?? ""}${s}`;
      const shape = shapeOf(s);
      for (const spec of DETECTOR_SPECS) {
        if (spec.name !== "card" && spec.name !== "phone") continue;
        const matches = [...s.matchAll(spec.pattern)].filter((m) => spec.valid?.(m[0]) ?? true);
        if (matches.length === 0) continue;
        found[spec.name]++;
        expect(spec.applies(shape), `${spec.name} in ${JSON.stringify(s)}`).toBe(true);
      }
    }
    // The random text did hold numbers of both kinds.
    expect(found.card).toBeGreaterThan(50);
    expect(found.phone).toBeGreaterThan(50);
  });

  it("passes over ids whose digits no card or phone number could start", () => {
    const spec = (name: string) => DETECTOR_SPECS.find((d) => d.name === name);
    for (const id of ["m-1234-567890123", "anon-4815162342", "s-1234-5"]) {
      expect(spec("card")?.applies(shapeOf(id)), id).toBe(false);
      expect(spec("phone")?.applies(shapeOf(id)), id).toBe(false);
    }
    expect(spec("card")?.applies(shapeOf("paid 4111-1111-1111-1111"))).toBe(true);
    expect(spec("phone")?.applies(shapeOf("call +49 151 12345678"))).toBe(true);
  });
});
