// The flag evaluator: each condition holds or not as the schema says, rollouts reach their share
// of callers and keep them (the same answer on every call, and raising a rollout only adds
// callers), splits serve their weights independently of the rollout, a user keeps their variant
// across anonymous ids, and the kill switch, rule order and fallthrough decide as documented.
import { describe, expect, it } from "vitest";
import { Flag, type FlagCondition, type FlagRule, type FlagServe, type FlagSubject } from "../../schemas/flags";
import { bucket, conditionHolds, evaluateFlag, evaluateFlags, murmur3 } from "./evaluate";

const USERS = 100_000;
const ids = Array.from({ length: USERS }, (_, i) => `user-${i}`);

function flag(rules: FlagRule[], opts: { enabled?: boolean; fallthrough?: FlagServe; key?: string } = {}): Flag {
  return Flag.parse({
    key: opts.key ?? "new-checkout",
    name: "New checkout",
    enabled: opts.enabled ?? true,
    variants: [
      { key: "off", value: false },
      { key: "on", value: true },
      { key: "a", value: "blue" },
      { key: "b", value: { color: "green", size: 2 } },
      { key: "c", value: 3 },
    ],
    rules,
    fallthrough: opts.fallthrough ?? { variant: "off" },
    offVariant: "off",
  });
}

const everyone = (serve: FlagServe, rollout = 100, conditions: FlagCondition[] = []): FlagRule => ({ conditions, rollout, serve });

function shares(f: Flag, subjects: Iterable<FlagSubject>): Map<string, number> {
  const counts = new Map<string, number>();
  let n = 0;
  for (const s of subjects) {
    const v = evaluateFlag(f, s).variant;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    n++;
  }
  return new Map([...counts].map(([k, c]) => [k, c / n]));
}

describe("murmur3", () => {
  it("gives the reference MurmurHash3 x86_32 values over UTF-8", () => {
    expect(murmur3("")).toBe(0);
    expect(murmur3("a")).toBe(0x3c2569b2);
    expect(murmur3("hello")).toBe(0x248bfa47);
    expect(murmur3("Hello, world!")).toBe(0xc0363e43);
    expect(murmur3("Hello, world!", 1234)).toBe(0xfaf6cdb3);
    expect(murmur3("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723);
    expect(murmur3("ππππππππ", 0x9747b28c)).toBe(0xd58063c1);
  });

  it("hashes a lone surrogate as TextEncoder encodes it (U+FFFD) and a long key as a short one would", () => {
    expect(murmur3("x\ud800y")).toBe(murmur3("x\ufffdy"));
    expect(murmur3("😀")).not.toBe(murmur3("\ufffd\ufffd"));
    const long = "k".repeat(5000);
    expect(murmur3(long)).toBe(murmur3(long));
    expect(murmur3("hello")).toBe(0x248bfa47);
  });

  it("spreads buckets uniformly over [0, 1)", () => {
    const deciles = new Array<number>(10).fill(0);
    let lo = 1;
    let hi = 0;
    for (const id of ids) {
      const b = bucket(`f.${id}`);
      lo = Math.min(lo, b);
      hi = Math.max(hi, b);
      deciles[Math.floor(b * 10)] = (deciles[Math.floor(b * 10)] ?? 0) + 1;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    for (const d of deciles) expect(Math.abs(d / USERS - 0.1)).toBeLessThan(0.005);
  });
});

describe("conditions", () => {
  const subject: FlagSubject = {
    userId: "u-1",
    anonymousId: "anon-1",
    platform: "iOS",
    os: "iOS",
    appVersion: "2.4.1",
    country: "US",
    locale: "en-US",
    traits: { plan: "pro", seats: 12, ratio: "0.5", beta: true, email: "ada@example.com", empty: "", nothing: null, tags: ["x"], bad: "12abc" },
  };
  const anonymous: FlagSubject = { anonymousId: "anon-2" };
  const holds = (c: FlagCondition, s: FlagSubject = subject) => conditionHolds(c, s);

  it("in / not_in on each attribute", () => {
    const table: Array<[FlagCondition, boolean]> = [
      [{ op: "in", attribute: "platform", values: ["ios", "android"] }, true],
      [{ op: "in", attribute: "platform", values: ["web"] }, false],
      [{ op: "in", attribute: "os", values: ["IOS"] }, true],
      [{ op: "in", attribute: "country", values: ["us", "ca"] }, true],
      [{ op: "in", attribute: "country", values: ["FR"] }, false],
      [{ op: "in", attribute: "locale", values: ["en-US"] }, true],
      [{ op: "in", attribute: "locale", values: ["en-us"] }, false],
      [{ op: "in", attribute: "app_version", values: ["2.4.1"] }, true],
      [{ op: "in", attribute: "user_id", values: ["u-1", "u-2"] }, true],
      [{ op: "in", attribute: "user_id", values: ["U-1"] }, false],
      [{ op: "in", attribute: "anonymous", values: ["false"] }, true],
      [{ op: "in", attribute: "anonymous", values: ["true"] }, false],
      [{ op: "not_in", attribute: "country", values: ["FR", "DE"] }, true],
      [{ op: "not_in", attribute: "country", values: ["us"] }, false],
      [{ op: "not_in", attribute: "locale", values: ["en-us"] }, true],
    ];
    for (const [c, expected] of table) expect(holds(c), JSON.stringify(c)).toBe(expected);
  });

  it("anonymous is true for a caller without a userId", () => {
    expect(holds({ op: "in", attribute: "anonymous", values: ["true"] }, anonymous)).toBe(true);
    expect(holds({ op: "in", attribute: "anonymous", values: ["false"] }, anonymous)).toBe(false);
  });

  it("a missing attribute holds only for not_in", () => {
    expect(holds({ op: "in", attribute: "country", values: ["US"] }, anonymous)).toBe(false);
    expect(holds({ op: "not_in", attribute: "country", values: ["US"] }, anonymous)).toBe(true);
    expect(holds({ op: "in", attribute: "user_id", values: ["u-1"] }, anonymous)).toBe(false);
    expect(holds({ op: "not_in", attribute: "user_id", values: ["u-1"] }, anonymous)).toBe(true);
  });

  it("in / not_in on a trait compare its text, case-sensitively", () => {
    expect(holds({ op: "in", trait: "plan", values: ["pro", "team"] })).toBe(true);
    expect(holds({ op: "in", trait: "plan", values: ["Pro"] })).toBe(false);
    expect(holds({ op: "in", trait: "seats", values: ["12"] })).toBe(true);
    expect(holds({ op: "in", trait: "beta", values: ["true"] })).toBe(true);
    expect(holds({ op: "not_in", trait: "plan", values: ["free"] })).toBe(true);
    expect(holds({ op: "not_in", trait: "plan", values: ["pro"] })).toBe(false);
    expect(holds({ op: "in", trait: "missing", values: ["x"] })).toBe(false);
    expect(holds({ op: "not_in", trait: "missing", values: ["x"] })).toBe(true);
    expect(holds({ op: "in", trait: "nothing", values: ["null"] })).toBe(false);
    expect(holds({ op: "in", trait: "tags", values: ["x"] })).toBe(false);
    expect(holds({ op: "in", trait: "plan", values: ["pro"] }, anonymous)).toBe(false);
  });

  it("an in list of a thousand ids", () => {
    const values = Array.from({ length: 1000 }, (_, i) => `u-${i}`);
    expect(holds({ op: "in", attribute: "user_id", values })).toBe(true);
    expect(holds({ op: "in", attribute: "user_id", values }, { userId: "u-1000" })).toBe(false);
    // The same condition object again and again, as a flag held by the isolate is tested.
    const byId: FlagCondition = { op: "in", attribute: "user_id", values };
    const byCountry: FlagCondition = { op: "not_in", attribute: "country", values: ["us", "Ca"] };
    for (let i = 0; i < 3; i++) {
      expect(holds(byId)).toBe(true);
      expect(holds(byId, { userId: "U-1" })).toBe(false);
      expect(holds(byCountry)).toBe(false);
      expect(holds(byCountry, { country: "CA" })).toBe(false);
      expect(holds(byCountry, { country: "FR" })).toBe(true);
    }
  });

  it("semver on app_version", () => {
    expect(holds({ op: "semver", attribute: "app_version", range: ">=2.1.0 <3" })).toBe(true);
    expect(holds({ op: "semver", attribute: "app_version", range: "^2.5" })).toBe(false);
    expect(holds({ op: "semver", attribute: "app_version", range: "~2.4.0 || 3.x" })).toBe(true);
    expect(holds({ op: "semver", attribute: "app_version", range: "*" }, anonymous)).toBe(false);
    expect(holds({ op: "semver", attribute: "app_version", range: "*" }, { appVersion: "nightly" })).toBe(false);
    expect(holds({ op: "semver", attribute: "app_version", range: "not a range" })).toBe(false);
  });

  it("gt / gte / lt / lte on a numeric trait, a numeric string counting as a number", () => {
    expect(holds({ op: "gt", trait: "seats", value: 11 })).toBe(true);
    expect(holds({ op: "gt", trait: "seats", value: 12 })).toBe(false);
    expect(holds({ op: "gte", trait: "seats", value: 12 })).toBe(true);
    expect(holds({ op: "gte", trait: "seats", value: 13 })).toBe(false);
    expect(holds({ op: "lt", trait: "ratio", value: 0.6 })).toBe(true);
    expect(holds({ op: "lt", trait: "ratio", value: 0.5 })).toBe(false);
    expect(holds({ op: "lte", trait: "ratio", value: 0.5 })).toBe(true);
    expect(holds({ op: "lte", trait: "ratio", value: 0.4 })).toBe(false);
    for (const t of ["plan", "bad", "empty", "beta", "nothing", "tags", "missing"]) {
      expect(holds({ op: "gt", trait: t, value: -1e9 }), t).toBe(false);
      expect(holds({ op: "lt", trait: t, value: 1e9 }), t).toBe(false);
    }
  });

  it("contains on a string trait", () => {
    expect(holds({ op: "contains", trait: "email", value: "@example.com" })).toBe(true);
    expect(holds({ op: "contains", trait: "email", value: "@Example.com" })).toBe(false);
    expect(holds({ op: "contains", trait: "seats", value: "1" })).toBe(false);
    expect(holds({ op: "contains", trait: "missing", value: "" })).toBe(false);
  });

  it("exists / not_exists", () => {
    expect(holds({ op: "exists", trait: "plan" })).toBe(true);
    expect(holds({ op: "exists", trait: "empty" })).toBe(true);
    expect(holds({ op: "exists", trait: "missing" })).toBe(false);
    expect(holds({ op: "exists", trait: "nothing" })).toBe(false);
    expect(holds({ op: "not_exists", trait: "missing" })).toBe(true);
    expect(holds({ op: "not_exists", trait: "plan" })).toBe(false);
    expect(holds({ op: "not_exists", trait: "plan" }, anonymous)).toBe(true);
    expect(holds({ op: "exists", trait: "toString" }, { traits: {} })).toBe(false);
  });
});

describe("evaluateFlag", () => {
  const ios: FlagSubject = { userId: "u-1", platform: "ios", country: "FR" };

  it("the kill switch serves the off variant to everyone", () => {
    const f = flag([everyone({ variant: "on" })], { enabled: false, fallthrough: { variant: "a" } });
    expect(evaluateFlag(f, ios)).toEqual({ variant: "off", value: false, reason: "off" });
  });

  it("the first rule whose conditions all hold serves, with its index", () => {
    const f = flag([
      everyone({ variant: "a" }, 100, [{ op: "in", attribute: "platform", values: ["android"] }]),
      everyone({ variant: "b" }, 100, [{ op: "in", attribute: "platform", values: ["ios"] }, { op: "in", attribute: "country", values: ["US"] }]),
      everyone({ variant: "c" }, 100, [{ op: "in", attribute: "platform", values: ["ios"] }]),
      everyone({ variant: "on" }),
    ]);
    expect(evaluateFlag(f, ios)).toEqual({ variant: "c", value: 3, reason: 2 });
    expect(evaluateFlag(f, { ...ios, country: "us" })).toEqual({ variant: "b", value: { color: "green", size: 2 }, reason: 1 });
    expect(evaluateFlag(f, { ...ios, platform: "Android" })).toEqual({ variant: "a", value: "blue", reason: 0 });
  });

  it("a caller no rule serves gets the fallthrough", () => {
    const f = flag([everyone({ variant: "on" }, 100, [{ op: "in", attribute: "country", values: ["DE"] }])], { fallthrough: { variant: "a" } });
    expect(evaluateFlag(f, ios)).toEqual({ variant: "a", value: "blue", reason: "fallthrough" });
    expect(evaluateFlag(flag([]), ios)).toEqual({ variant: "off", value: false, reason: "fallthrough" });
  });

  it("a caller outside a matching rule's rollout goes on to the next rule", () => {
    const f = flag([everyone({ variant: "a" }, 10), everyone({ variant: "b" }, 100)]);
    const outside = ids.find((id) => evaluateFlag(f, { userId: id }).reason === 1);
    const inside = ids.find((id) => evaluateFlag(f, { userId: id }).reason === 0);
    expect(outside).toBeDefined();
    expect(inside).toBeDefined();
    expect(evaluateFlag(f, { userId: outside })).toEqual({ variant: "b", value: { color: "green", size: 2 }, reason: 1 });
    expect(evaluateFlag(f, { userId: inside })).toEqual({ variant: "a", value: "blue", reason: 0 });
    const zero = flag([everyone({ variant: "a" }, 0)], { fallthrough: { variant: "c" } });
    expect(evaluateFlag(zero, { userId: inside })).toEqual({ variant: "c", value: 3, reason: "fallthrough" });
  });

  it("evaluateFlags answers every flag by its key", () => {
    const flags = [flag([everyone({ variant: "on" })], { key: "one" }), flag([], { key: "two", enabled: false })];
    expect(evaluateFlags(flags, ios)).toEqual({ one: { variant: "on", value: true, reason: 0 }, two: { variant: "off", value: false, reason: "off" } });
  });
});

describe("rollouts and splits over 100,000 users", () => {
  it("a 20 % rollout reaches 20 % ± 1 %, the same users on every call, and 30 % keeps all of them", () => {
    const at20 = flag([everyone({ variant: "on" }, 20)]);
    const at30 = flag([everyone({ variant: "on" }, 30)]);
    const first = ids.map((id) => evaluateFlag(at20, { userId: id }).variant === "on");
    const second = ids.map((id) => evaluateFlag(at20, { userId: id, anonymousId: "another-device" }).variant === "on");
    expect(second).toEqual(first);
    const share = first.filter(Boolean).length / USERS;
    expect(Math.abs(share - 0.2)).toBeLessThan(0.01);
    const wider = ids.map((id) => evaluateFlag(at30, { userId: id }).variant === "on");
    expect(first.every((was, i) => !was || wider[i])).toBe(true);
    expect(Math.abs(wider.filter(Boolean).length / USERS - 0.3)).toBeLessThan(0.01);
  });

  it("each flag's rollout picks its own users", () => {
    const a = flag([everyone({ variant: "on" }, 20)], { key: "flag-a" });
    const b = flag([everyone({ variant: "on" }, 20)], { key: "flag-b" });
    const both = ids.filter((id) => evaluateFlag(a, { userId: id }).variant === "on" && evaluateFlag(b, { userId: id }).variant === "on").length;
    expect(Math.abs(both / USERS - 0.04)).toBeLessThan(0.005);
  });

  const split: FlagServe = { split: [{ variant: "a", weight: 50 }, { variant: "b", weight: 30 }, { variant: "c", weight: 20 }] };
  const expectShares = (got: Map<string, number>) => {
    expect(Math.abs((got.get("a") ?? 0) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs((got.get("b") ?? 0) - 0.3)).toBeLessThan(0.01);
    expect(Math.abs((got.get("c") ?? 0) - 0.2)).toBeLessThan(0.01);
  };

  it("a 50/30/20 split serves those shares ± 1 %", () => {
    expectShares(shares(flag([everyone(split)]), ids.map((userId) => ({ userId }))));
    expectShares(shares(flag([], { fallthrough: split }), ids.map((userId) => ({ userId }))));
  });

  it("the split is independent of the rollout: the same shares among the users a 50 % rollout lets in and among those it keeps out", () => {
    const f = flag([everyone(split, 50)], { fallthrough: split });
    const answers = ids.map((userId) => evaluateFlag(f, { userId }));
    const tally = (rule: number | "fallthrough") => {
      const mine = answers.filter((a) => a.reason === rule);
      const counts = new Map<string, number>();
      for (const a of mine) counts.set(a.variant, (counts.get(a.variant) ?? 0) + 1);
      return new Map([...counts].map(([k, c]) => [k, c / mine.length]));
    };
    expectShares(tally(0));
    expectShares(tally("fallthrough"));
  });

  it("a split with a zero weight never serves that variant", () => {
    const f = flag([everyone({ split: [{ variant: "a", weight: 0 }, { variant: "b", weight: 100 }] })]);
    expect(shares(f, ids.slice(0, 10_000).map((userId) => ({ userId })))).toEqual(new Map([["b", 1]]));
  });
});

describe("caller ids", () => {
  it("userId wins over anonymousId: one user on two devices gets the same variant", () => {
    const f = flag([everyone({ split: [{ variant: "a", weight: 50 }, { variant: "b", weight: 50 }] }, 50)], { fallthrough: { variant: "c" } });
    const anonymousShares = shares(f, ids.slice(0, 1000).map((anonymousId) => ({ anonymousId })));
    expect(anonymousShares.size).toBe(3);
    for (const userId of ids.slice(0, 1000)) {
      const phone = evaluateFlag(f, { userId, anonymousId: `phone-${userId}` });
      const laptop = evaluateFlag(f, { userId, anonymousId: `laptop-${userId}` });
      expect(laptop).toEqual(phone);
      expect(evaluateFlag(f, { userId })).toEqual(phone);
    }
  });

  it("an anonymous caller is bucketed by its anonymousId", () => {
    const f = flag([everyone({ variant: "on" }, 20)]);
    const share = ids.filter((anonymousId) => evaluateFlag(f, { anonymousId }).variant === "on").length / USERS;
    expect(Math.abs(share - 0.2)).toBeLessThan(0.01);
  });

  it("a caller with no id is outside every partial rollout, inside a full one, and gets one fixed variant of a split", () => {
    const partial = flag([everyone({ variant: "on" }, 99.9)], { fallthrough: { variant: "a" } });
    expect(evaluateFlag(partial, {})).toEqual({ variant: "a", value: "blue", reason: "fallthrough" });
    expect(evaluateFlag(partial, { userId: "", anonymousId: "" }).reason).toBe("fallthrough");
    const full = flag([everyone({ split: [{ variant: "a", weight: 50 }, { variant: "b", weight: 50 }] })]);
    const first = evaluateFlag(full, { platform: "web" });
    expect(first.reason).toBe(0);
    expect(evaluateFlag(full, { country: "US" })).toEqual(first);
  });
});
