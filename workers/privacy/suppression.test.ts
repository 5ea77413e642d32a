import { describe, expect, it } from "vitest";
import type { EventRow } from "../../schemas";
import { clearSuppressionCache, dropSuppressed, isSuppressed, suppressedIds, SUPPRESSION_TTL_MS, withSuppressed, type Suppressed } from "./suppression";
import { subjectOf, withStoredIds } from "./subject";

const list: Suppressed = { users: new Set(["jane"]), anonymous: new Set(["anon-phone"]) };
type IdFields = Pick<EventRow, "type" | "user_id" | "anonymous_id" | "properties">;
const row = (fields: Partial<IdFields>): IdFields => ({ type: "track", user_id: "", anonymous_id: "", properties: {}, ...fields });

describe("which events belong to a deleted person", () => {
  it("drops their user id, and their anonymous id while no other user is identified on it", () => {
    expect(isSuppressed(list, row({ user_id: "jane", anonymous_id: "anon-new" }))).toBe(true);
    expect(isSuppressed(list, row({ anonymous_id: "anon-phone" }))).toBe(true);
    // Someone else signed in on the deleted person's old device: their events are theirs.
    expect(isSuppressed(list, row({ user_id: "olga", anonymous_id: "anon-phone" }))).toBe(false);
    expect(isSuppressed(list, row({ user_id: "olga", anonymous_id: "anon-other" }))).toBe(false);
  });

  it("drops an alias that ties a new id to a deleted one", () => {
    expect(isSuppressed(list, row({ type: "alias", user_id: "jane-3", properties: { previousId: "jane" } }))).toBe(true);
    expect(isSuppressed(list, row({ type: "alias", user_id: "jane-3", properties: { previousId: "anon-phone" } }))).toBe(true);
    expect(isSuppressed(list, row({ type: "track", user_id: "jane-3", properties: { previousId: "jane" } }))).toBe(false);
  });

  it("keeps a batch whole when nobody is suppressed, and counts what it drops", () => {
    const events = [{ row: row({ user_id: "jane" }) }, { row: row({ user_id: "olga" }) }];
    const none = dropSuppressed({ users: new Set(), anonymous: new Set() }, events);
    expect(none).toEqual({ kept: events, dropped: 0 });
    expect(dropSuppressed(list, events)).toEqual({ kept: [events[1]], dropped: 1 });
    expect(withSuppressed(undefined, 0)).toBeUndefined();
    expect(withSuppressed({ rejected: { invalid_event: 2 } }, 3)).toEqual({ rejected: { invalid_event: 2 }, suppressed: 3 });
  });
});

describe("naming a person", () => {
  it("needs at least one id, and adds the form ingest stores an id in", () => {
    expect(subjectOf({})).toEqual({ error: "name the person: give a userId or an anonymousId" });
    expect(subjectOf({ userId: "jane", userIds: ["jane", "j2"] })).toEqual({ userIds: ["jane", "j2"], anonymousIds: [] });
    const hashed = (id: string) => (id.includes("@") ? "[email:0123456789abcdef]" : id);
    expect(withStoredIds({ userIds: ["mia@example.com", "noah"], anonymousIds: [] }, hashed)).toEqual({ userIds: ["mia@example.com", "[email:0123456789abcdef]", "noah"], anonymousIds: [] });
  });
});

describe("the edge's copy of the list", () => {
  const failing = { prepare: () => { throw new Error("D1 is down"); } } as unknown as D1Database;
  const listing = (rows: Array<{ kind: string; id: string }>) =>
    ({ prepare: () => ({ bind: () => ({ all: async () => ({ results: rows }) }) }) }) as unknown as D1Database;

  it("reads D1 once per app per TTL, keeps a list read before while D1 fails, and refuses with a 503 without one", async () => {
    clearSuppressionCache();
    const first = await suppressedIds(listing([{ kind: "user", id: "jane" }]), "app_a", 1_000);
    expect([...first.users]).toEqual(["jane"]);
    expect((await suppressedIds(listing([]), "app_a", 1_000 + SUPPRESSION_TTL_MS - 1)).users.has("jane")).toBe(true);
    expect((await suppressedIds(listing([]), "app_a", 1_000 + SUPPRESSION_TTL_MS)).users.size).toBe(0);
    expect((await suppressedIds(failing, "app_a", 1_000 + 3 * SUPPRESSION_TTL_MS)).users.size).toBe(0);
    await expect(suppressedIds(failing, "app_b", 1_000)).rejects.toMatchObject({ status: 503, code: "unavailable" });
  });
});
