import { describe, expect, it } from "vitest";
import { withMember } from "./json";

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
