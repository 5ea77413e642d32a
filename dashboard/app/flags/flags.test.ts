import { describe, expect, it } from "vitest";
import { booleanFlag, type Flag } from "../../../schemas/flags";
import { flagInWords } from "./describe";
import { jsonDiff } from "./diff";
import { fromDraft, toDraft } from "./draft";

const FLAG: Flag = booleanFlag("checkout", "Checkout", {
  rules: [
    { conditions: [{ op: "semver", attribute: "app_version", range: ">=2.1.0 <3" }, { op: "gte", trait: "age", value: 18 }], rollout: 100, serve: { variant: "on" } },
    { conditions: [{ op: "not_in", attribute: "country", values: ["US", "CA"] }], rollout: 12.5, serve: { split: [{ variant: "on", weight: 30 }, { variant: "off", weight: 70 }] } },
  ],
});

describe("the flag editor's working copy", () => {
  it("gives back the flag it opened, every condition kind and split included", () => {
    expect(fromDraft(toDraft(FLAG))).toEqual({ flag: FLAG });
  });

  it("names a variant value that is not JSON instead of saving it as text", () => {
    const draft = toDraft(FLAG);
    draft.variants[0] = { key: "on", value: "yes please" };
    expect(fromDraft(draft)).toEqual({ errors: ['variants.0.value: not JSON; text goes in double quotes, e.g. "blue"'] });
  });
});

describe("flags in words", () => {
  it("says each rule in order, its share, whom it serves and what, then everyone else", () => {
    expect(flagInWords(FLAG)).toBe("users with app_version in range >=2.1.0 <3 and age ≥ 18 → on; 12.5 % of users with country not in US, CA → on 30 % / off 70 %; else off");
    expect(flagInWords({ ...FLAG, enabled: false })).toBe("switched off: everyone → off");
  });
});

describe("a change's diff", () => {
  it("lists the values that changed by path, a list's first items without the empty list they replaced", () => {
    expect(jsonDiff(booleanFlag("k", "K"), { ...booleanFlag("k", "K"), name: "Kay", rules: [{ conditions: [], rollout: 50, serve: { variant: "on" } }] })).toEqual([
      { path: "name", before: '"K"', after: '"Kay"' },
      { path: "rules.0.conditions", before: null, after: "[]" },
      { path: "rules.0.rollout", before: null, after: "50" },
      { path: "rules.0.serve.variant", before: null, after: '"on"' },
    ]);
    expect(jsonDiff({ a: 1 }, null)).toEqual([{ path: "a", before: "1", after: null }]);
  });
});
