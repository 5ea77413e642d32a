// Deleting and exporting a person end to end in workerd: events through the real Worker, its
// batchers, queue and consumer into the real local ClickHouse; deletion requested and read
// through the admin API, run by the Worker's own minute cron at chosen times; suppression seen
// in the answers and the app's pipeline counters.
import { createScheduledController, env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { MINUTE_CRON } from "../cron";
import worker from "../index";
import { chQuery, createTestApp, post, setClickHouse, type TestApp } from "../../test/seed";
import type { AuditEntry, DeletionRequest } from "./requests";
import type { ExportPage } from "./export";
import { clearSuppressionCache } from "./suppression";

const MIN = 60_000;
const admin = { authorization: "Bearer test-admin-token", "content-type": "application/json" };

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await SELF.fetch(`https://edge.test${path}`, { method, headers: admin, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as T };
}

const cron = (ms: number) => worker.scheduled(createScheduledController({ cron: MINUTE_CRON, scheduledTime: ms }), env);

let n = 0;
const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * MIN).toISOString();
const ev = (fields: Record<string, unknown>) => ({ messageId: `m-${++n}-${crypto.randomUUID().slice(0, 8)}`, ...fields });

/**
 * The person to delete: browsing anonymously on a phone, then identified, then aliased to a new
 * user id; identified again on a laptop. And someone else in the same app.
 */
function history() {
  const phone = { sessionId: "s-phone" };
  const laptop = { sessionId: "s-laptop" };
  return [
    ev({ type: "page", name: "Pricing", anonymousId: "anon-phone", context: phone, timestamp: at(50) }),
    ev({ type: "track", event: "Plan Viewed", anonymousId: "anon-phone", context: phone, timestamp: at(49) }),
    ev({ type: "identify", userId: "jane", anonymousId: "anon-phone", traits: { plan: "pro", name: "Jane" }, context: phone, timestamp: at(48) }),
    ev({ type: "track", event: "Order Completed", userId: "jane", anonymousId: "anon-phone", context: phone, timestamp: at(47) }),
    ev({ type: "alias", userId: "jane-2", previousId: "jane", timestamp: at(40) }),
    ev({ type: "identify", userId: "jane-2", anonymousId: "anon-laptop", traits: { plan: "team" }, context: laptop, timestamp: at(30) }),
    ev({ type: "track", event: "Order Completed", userId: "jane-2", anonymousId: "anon-laptop", context: laptop, timestamp: at(29) }),
    ev({ type: "page", name: "Home", anonymousId: "anon-other", context: { sessionId: "s-other" }, timestamp: at(45) }),
    ev({ type: "identify", userId: "olga", anonymousId: "anon-other", traits: { plan: "free" }, context: { sessionId: "s-other" }, timestamp: at(44) }),
    ev({ type: "track", event: "Order Completed", userId: "olga", anonymousId: "anon-other", context: { sessionId: "s-other" }, timestamp: at(43) }),
  ];
}
const JANES = 7;

async function rows(table: string, where: string, app: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE app_id = {app:String} AND ${where}`, { app });
  return Number(r?.n ?? 0);
}

const JANE_EVENTS = "(user_id IN ('jane', 'jane-2') OR anonymous_id IN ('anon-phone', 'anon-laptop'))";

async function counter(app: string, stage: string): Promise<number> {
  const [r] = await chQuery<{ n: string }>("SELECT sum(n) AS n FROM pipeline_minutely WHERE app_id = {app:String} AND stage = {stage:String}", { app, stage });
  return Number(r?.n ?? 0);
}

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp();
  const sent = await post("/v1/batch", { batch: history() }, { "x-write-key": app.key });
  expect(await sent.json()).toMatchObject({ accepted: 10, rejected: [] });
  // The views fed by an insert commit their rows just after the events themselves.
  await vi.waitUntil(async () => (await rows("events", "1", app.appId)) === 10 && (await rows("person_identities", "1", app.appId)) >= 3 && (await rows("sessions", "1", app.appId)) >= 3 && (await rows("people_hourly", "1", app.appId)) >= 3, {
    timeout: 25_000,
    interval: 250,
  });
}, 40_000);

describe("subject access export", () => {
  it("returns everything about the person, through every linked id, and nothing of anyone else", async () => {
    const { status, json } = await call<ExportPage & { app: string }>("GET", `/admin/apps/${app.appId}/privacy/export?anonymousId=anon-phone`);
    expect(status).toBe(200);
    expect(json.subject.userIds).toEqual(["jane", "jane-2"]);
    // An alias's previousId may have been either kind of id, so it is matched as both.
    expect(json.subject.anonymousIds).toEqual(["anon-laptop", "anon-phone", "jane"]);
    expect(json.events).toHaveLength(JANES);
    expect(json.events.map((e) => e.event)).not.toContain("Home");
    expect(json.events.find((e) => e.type === "identify")).toMatchObject({ user_id: "jane", traits: { plan: "pro", name: "Jane" } });
    // Later identify calls win: the plan the person has now, the name they gave before.
    expect(json.traits).toEqual({ plan: "team", name: "Jane" });
    expect(json.sessions?.map((s) => s.session_id).sort()).toEqual(["s-laptop", "s-phone"]);
    expect(json.profiles?.map((p) => p.user_key).sort()).toEqual(["anon-phone", "jane", "jane-2"]);
    expect(json.nextCursor).toBeNull();
  });

  it("pages through the events with a cursor, each exactly once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const q: string = `/admin/apps/${app.appId}/privacy/export?userId=jane&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const { status, json } = await call<ExportPage>("GET", q);
      expect(status).toBe(200);
      seen.push(...json.events.map((e) => String(e.message_id)));
      cursor = json.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toHaveLength(JANES);
    expect(new Set(seen).size).toBe(JANES);
  });

  it("refuses a request that names no one, or a cursor it did not give", async () => {
    const none = await call<{ error: { code: string; message: string } }>("GET", `/admin/apps/${app.appId}/privacy/export`);
    expect(none.status).toBe(400);
    expect(none.json.error.message).toMatch(/userId or an anonymousId/);
    expect((await call("GET", `/admin/apps/${app.appId}/privacy/export?userId=jane&cursor=nope`)).status).toBe(400);
    expect((await call("GET", `/admin/apps/app_nobody/privacy/export?userId=jane`)).status).toBe(404);
  });
});

describe("deleting a person", () => {
  it("suppresses them at once, deletes every linked row when the cron runs, keeps everyone else, and audits both steps", async () => {
    const asked = await call<{ request: DeletionRequest }>("POST", `/admin/apps/${app.appId}/privacy/deletions`, { userId: "jane" });
    expect(asked.status).toBe(202);
    expect(asked.json.request).toMatchObject({ status: "pending", requested: { userIds: ["jane"], anonymousIds: [] }, requestedBy: "admin" });
    const id = asked.json.request.id;
    const t0 = asked.json.request.requestedAt;

    // Before its time the cron only finds the linked ids; it deletes nothing yet.
    await cron(t0 + MIN);
    const early = await call<{ request: DeletionRequest }>("GET", `/admin/apps/${app.appId}/privacy/deletions/${id}`);
    expect(early.json.request).toMatchObject({ status: "pending", resolved: { userIds: ["jane", "jane-2"], anonymousIds: ["anon-laptop", "anon-phone", "jane"] } });
    expect(await rows("events", JANE_EVENTS, app.appId)).toBe(JANES);

    // A dashboard card's result computed before the deletion (a breakdown by user may name her), and another app's.
    const org = `org_cards_${id}`;
    const card = (key: string, appId: string) => env.DB.prepare("INSERT INTO card_results (key, org_id, app_id, span, computed_at, value) VALUES (?1, ?2, ?3, '', ?4, '{}')").bind(key, org, appId, t0);
    await env.DB.batch([env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(org, t0), card(`jane-card-${id}`, app.appId), card(`other-card-${id}`, "app_other")]);

    // Ids found by the job give the edge its time to drop them too, then the rows go.
    await cron(t0 + 10 * MIN);
    const done = await call<{ request: DeletionRequest }>("GET", `/admin/apps/${app.appId}/privacy/deletions/${id}`);
    expect(done.json.request).toMatchObject({ status: "done", lastError: null, removed: { events: JANES } });
    expect(done.json.request.removed.sessions).toBeGreaterThanOrEqual(2);
    expect(done.json.request.removed.user_profiles).toBeGreaterThanOrEqual(3);
    expect(done.json.request.removed.person_identities).toBeGreaterThanOrEqual(2);
    expect(done.json.request.removed.people_hourly).toBeGreaterThanOrEqual(2);

    expect(await rows("events", JANE_EVENTS, app.appId)).toBe(0);
    expect(await rows("sessions", "session_id IN ('s-phone', 's-laptop')", app.appId)).toBe(0);
    expect(await rows("user_profiles", "user_key IN ('jane', 'jane-2', 'anon-phone', 'anon-laptop')", app.appId)).toBe(0);
    expect(await rows("person_identities", "anonymous_id IN ('anon-phone', 'anon-laptop')", app.appId)).toBe(0);
    expect(await rows("people_hourly", JANE_EVENTS, app.appId)).toBe(0);
    const cards = await env.DB.prepare("SELECT key FROM card_results WHERE key IN (?1, ?2)").bind(`jane-card-${id}`, `other-card-${id}`).all<{ key: string }>();
    expect(cards.results.map((r) => r.key)).toEqual([`other-card-${id}`]);
    // Olga is untouched.
    expect(await rows("events", "user_id = 'olga' OR anonymous_id = 'anon-other'", app.appId)).toBe(3);
    expect(await rows("sessions", "session_id = 's-other'", app.appId)).toBeGreaterThan(0);
    expect(await rows("user_profiles", "user_key IN ('olga', 'anon-other')", app.appId)).toBeGreaterThan(0);
    expect(await rows("person_identities", "anonymous_id = 'anon-other'", app.appId)).toBeGreaterThan(0);
    expect(await rows("people_hourly", "user_id = 'olga' OR anonymous_id = 'anon-other'", app.appId)).toBeGreaterThan(0);

    const audit = await call<{ entries: AuditEntry[] }>("GET", `/admin/apps/${app.appId}/privacy/audit`);
    const mine = audit.json.entries.filter((e) => e.requestId === id);
    expect(mine.map((e) => e.action)).toEqual(["deletion_completed", "deletion_requested"]);
    expect(mine[0]).toMatchObject({ actor: "system", detail: { removed: { events: JANES }, userIds: ["jane", "jane-2"] } });
    expect(mine[1]).toMatchObject({ actor: "admin", detail: { userIds: ["jane"] } });
    expect((await call<{ requests: DeletionRequest[] }>("GET", `/admin/apps/${app.appId}/privacy/deletions`)).json.requests.map((r) => r.id)).toContain(id);

    // Later runs leave a done request alone.
    await cron(t0 + 20 * MIN);
    expect((await call<{ request: DeletionRequest }>("GET", `/admin/apps/${app.appId}/privacy/deletions/${id}`)).json.request.removed).toEqual(done.json.request.removed);
  });

  it("drops new events of the deleted person at the edge, answered as accepted, and counts them", async () => {
    clearSuppressionCache();
    const before = await counter(app.appId, "suppressed");
    const batch = [
      ev({ type: "track", event: "Came Back", userId: "jane-2", timestamp: at(1) }),
      ev({ type: "track", event: "Came Back", anonymousId: "anon-phone", timestamp: at(1) }),
      ev({ type: "alias", userId: "jane-3", previousId: "jane", timestamp: at(1) }),
      ev({ type: "track", event: "Still Here", userId: "olga", anonymousId: "anon-other", timestamp: at(1) }),
    ];
    const res = await post("/v1/batch", { batch }, { "x-write-key": app.key });
    expect(await res.json()).toMatchObject({ accepted: 4, rejected: [] });
    await vi.waitUntil(async () => (await rows("events", "event = 'Still Here'", app.appId)) === 1 && (await counter(app.appId, "suppressed")) === before + 3, { timeout: 25_000, interval: 250 });
    expect(await rows("events", `${JANE_EVENTS} OR user_id = 'jane-3'`, app.appId)).toBe(0);
  });

  it("finds a person by the e-mail address they used as an id, which is stored hashed", async () => {
    const other = await createTestApp();
    const auth = { "x-write-key": other.key };
    await post("/v1/batch", { batch: [ev({ type: "track", event: "Signed Up", userId: "mia@example.com", timestamp: at(5) }), ev({ type: "track", event: "Signed Up", userId: "noah", timestamp: at(5) })] }, auth);
    await vi.waitUntil(async () => (await rows("events", "1", other.appId)) === 2, { timeout: 25_000, interval: 250 });
    expect(await rows("events", "user_id = 'mia@example.com'", other.appId)).toBe(0);

    const asked = await call<{ request: DeletionRequest }>("POST", `/admin/apps/${other.appId}/privacy/deletions`, { userId: "mia@example.com" });
    expect(asked.status).toBe(202);
    await cron(asked.json.request.requestedAt + 10 * MIN);
    const done = await call<{ request: DeletionRequest }>("GET", `/admin/apps/${other.appId}/privacy/deletions/${asked.json.request.id}`);
    expect(done.json.request).toMatchObject({ status: "done", removed: { events: 1 } });
    expect(await rows("events", "event = 'Signed Up'", other.appId)).toBe(1);

    clearSuppressionCache();
    await post("/v1/batch", { batch: [ev({ type: "track", event: "Came Back", userId: "mia@example.com", timestamp: at(1) }), ev({ type: "track", event: "Marker", userId: "noah", timestamp: at(1) })] }, auth);
    await vi.waitUntil(async () => (await rows("events", "event = 'Marker'", other.appId)) === 1 && (await counter(other.appId, "suppressed")) === 1, { timeout: 25_000, interval: 250 });
    expect(await rows("events", "event = 'Came Back'", other.appId)).toBe(0);
  });

  it("keeps a request pending with its error while ClickHouse fails, and finishes it on a later run", async () => {
    const other = await createTestApp();
    await post("/v1/batch", { batch: [ev({ type: "track", event: "Signed Up", userId: "liam", timestamp: at(5) })] }, { "x-write-key": other.key });
    await vi.waitUntil(async () => (await rows("events", "1", other.appId)) === 1, { timeout: 25_000, interval: 250 });
    const asked = await call<{ request: DeletionRequest }>("POST", `/admin/apps/${other.appId}/privacy/deletions`, { userId: "liam" });
    const path = `/admin/apps/${other.appId}/privacy/deletions/${asked.json.request.id}`;
    await setClickHouse("error");
    try {
      // The minute's other jobs fail too; the cron reports that after running them all.
      await cron(asked.json.request.requestedAt + 10 * MIN).catch(() => undefined);
    } finally {
      await setClickHouse("up");
    }
    const failed = await call<{ request: DeletionRequest }>("GET", path);
    expect(failed.json.request).toMatchObject({ status: "pending", attempts: 1, removed: {} });
    expect(failed.json.request.lastError).toMatch(/ClickHouse/);
    expect(await rows("events", "user_id = 'liam'", other.appId)).toBe(1);

    await cron(asked.json.request.requestedAt + 11 * MIN);
    expect((await call<{ request: DeletionRequest }>("GET", path)).json.request).toMatchObject({ status: "done", lastError: null, removed: { events: 1 } });
    expect(await rows("events", "user_id = 'liam'", other.appId)).toBe(0);
  });

  it("refuses a request that names no one, and an unknown app", async () => {
    const empty = await call<{ error: { code: string; message: string } }>("POST", `/admin/apps/${app.appId}/privacy/deletions`, {});
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(/userId or an anonymousId/);
    expect((await call("POST", `/admin/apps/${app.appId}/privacy/deletions`, { userId: "" })).status).toBe(400);
    expect((await call("POST", `/admin/apps/${app.appId}/privacy/deletions`, { email: "jane@example.com" })).status).toBe(400);
    expect((await call("POST", "/admin/apps/app_nobody/privacy/deletions", { userId: "jane" })).status).toBe(404);
    const noToken = await SELF.fetch(`https://edge.test/admin/apps/${app.appId}/privacy/deletions`, { method: "POST", body: JSON.stringify({ userId: "jane" }) });
    expect(noToken.status).toBe(401);
  });
});
