import { describe, expect, it } from "vitest";
import { mergeDefined, withMember } from "./json";

describe("withMember", () => {
  it("is the spread copy with one member set, in the spread's order, leaving the original alone", () => {
    const obj: Record<string, unknown> = { plan: "pro", error: "old", items: [1] };
    const added = withMember(obj, "request", { url: "/a" });
    expect(JSON.stringify(added)).toBe(JSON.stringify({ ...obj, request: { url: "/a" } }));
    const replaced = withMember(obj, "error", "new");
    expect(JSON.stringify(replaced)).toBe('{"plan":"pro","error":"new","items":[1]}');
    expect(obj).toEqual({ plan: "pro", error: "old", items: [1] });
  });

  it("keeps a member named __proto__ from the client as a member, never as the copy's prototype", () => {
    const obj = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = withMember(obj, "b", 2);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"a":1,"b":2}');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("mergeDefined", () => {
  const asSpread = (base: Record<string, unknown>, own: Record<string, unknown>) =>
    JSON.stringify(Object.fromEntries(Object.entries({ ...base, ...own }).filter(([, v]) => v !== undefined)));

  it("is the spread of both without undefined members, in the spread's order", () => {
    const base = { messageId: "m1", userId: undefined, anonymousId: "a1", properties: { plan: "pro" } };
    const cases: Array<Record<string, unknown>> = [
      { type: "track", event: "Signed Up", traits: undefined },
      { type: "group", properties: { groupType: "company" } },
      { type: "alias", userId: "u1" },
      // An own member left undefined hides the base one.
      { type: "page", anonymousId: undefined },
    ];
    for (const own of cases) expect(JSON.stringify(mergeDefined(base, own)), JSON.stringify(own)).toBe(asSpread(base, own));
  });

  it("keeps a member named __proto__ as a member, never as the prototype", () => {
    const base = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const out = mergeDefined(base, { b: 2, c: undefined });
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true},"a":1,"b":2}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
