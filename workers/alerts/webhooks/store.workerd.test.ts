// Endpoints, secrets and the delivery log in the real local D1, driven the way the queue consumer
// will drive them: attempts made by attemptDelivery in workerd, signed with the stored secrets.
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { createApp, inOrg } from "../../apps/store";
import { attemptDelivery, GIVE_UP_AFTER_MS, nextAttemptAt, type AttemptResult } from "./deliver";
import {
  createEndpoint,
  deleteEndpoint,
  DISABLE_AFTER_MS,
  FAILING_REASON,
  getDelivery,
  getEndpoint,
  listAttempts,
  listDeliveries,
  listEndpoints,
  liveSecrets,
  newDeliveryId,
  recordAttempt,
  recordDelivery,
  requeueDelivery,
  rotateSecret,
  SECRET_OVERLAP_MS,
  updateEndpoint,
} from "./store";

const HOUR = 60 * 60_000;
const T0 = Date.UTC(2026, 11, 1, 8);

async function newOrg(): Promise<{ org: string; app: string }> {
  const org = `org_${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(org, T0).run();
  const app = `app_wh_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, inOrg(org), { id: app, name: app })).not.toBe("unavailable");
  return { org, app };
}

async function newEndpoint(org: string, url = "https://hooks.example.com/alerts"): Promise<{ id: string; secret: string }> {
  const created = await createEndpoint(env.DB, org, { url, description: "on-call", format: "standard" }, { createdBy: "dev@example.com", now: T0, localMode: true });
  if (!created.ok) throw new Error(created.reason);
  return { id: created.endpoint.id, secret: created.secret };
}

const fail500: AttemptResult = { ok: false, status: 500, error: null, latencyMs: 12, excerpt: "oops" };
const success: AttemptResult = { ok: true, status: 204, error: null, latencyMs: 8, excerpt: "" };

async function delivery(org: string, app: string, endpointId: string, now = T0): Promise<string> {
  const id = newDeliveryId();
  expect(await recordDelivery(env.DB, org, { id, endpointId, appId: app, ruleId: "rule_1", eventType: "alert.firing", payload: `{"id":"${id}"}`, now })).toBe(true);
  return id;
}

describe("webhook endpoints", () => {
  it("are created with a secret shown once, listed and read without it", async () => {
    const { org } = await newOrg();
    const created = await createEndpoint(env.DB, org, { url: "https://hooks.example.com/a", description: "on-call", format: "slack" }, { createdBy: "dev@example.com", now: T0 });
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.endpoint).toEqual({
      id: expect.stringMatching(/^whe_/),
      orgId: org,
      url: "https://hooks.example.com/a",
      description: "on-call",
      format: "slack",
      enabled: true,
      disabledReason: null,
      failingSince: null,
      createdAt: T0,
      createdBy: "dev@example.com",
    });
    const listed = await listEndpoints(env.DB, org);
    expect(listed).toEqual([created.endpoint]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(await getEndpoint(env.DB, org, created.endpoint.id)).toEqual(created.endpoint);
  });

  it("refuse an unsafe URL on create and on update, with the reason", async () => {
    const { org } = await newOrg();
    expect(await createEndpoint(env.DB, org, { url: "http://hooks.example.com/", description: "", format: "standard" })).toEqual({ ok: false, reason: expect.stringMatching(/only https/) });
    expect(await createEndpoint(env.DB, org, { url: "https://169.254.169.254/", description: "", format: "standard" })).toEqual({ ok: false, reason: expect.stringMatching(/link-local/) });
    expect(await createEndpoint(env.DB, org, { url: "http://127.0.0.1:9/", description: "", format: "standard" })).toMatchObject({ ok: false });
    expect(await listEndpoints(env.DB, org)).toEqual([]);
    const { id } = await newEndpoint(org);
    expect(await updateEndpoint(env.DB, org, id, { url: "https://metadata.google.internal/" })).toEqual({ ok: false, reason: expect.stringMatching(/internal host name/) });
    expect((await getEndpoint(env.DB, org, id))?.url).toBe("https://hooks.example.com/alerts");
  });

  it("are updated and deleted, with their secrets and log, only within their organisation", async () => {
    const a = await newOrg();
    const b = await newOrg();
    const { id } = await newEndpoint(a.org);
    const d = await delivery(a.org, a.app, id);
    expect(await getEndpoint(env.DB, b.org, id)).toBeNull();
    expect(await listEndpoints(env.DB, b.org)).toEqual([]);
    expect(await updateEndpoint(env.DB, b.org, id, { description: "taken" })).toBeNull();
    expect(await rotateSecret(env.DB, b.org, id)).toBeNull();
    expect(await liveSecrets(env.DB, b.org, id, T0)).toEqual([]);
    expect(await listDeliveries(env.DB, b.org, id)).toEqual([]);
    expect(await getDelivery(env.DB, b.org, d)).toBeNull();
    expect(await recordAttempt(env.DB, b.org, d, success, null, T0)).toBeNull();
    expect(await requeueDelivery(env.DB, b.org, d, T0)).toBeNull();
    expect(await deleteEndpoint(env.DB, b.org, id)).toBe(false);
    // another organisation's app cannot send through this endpoint
    expect(await recordDelivery(env.DB, a.org, { id: newDeliveryId(), endpointId: id, appId: b.app, ruleId: null, eventType: "alert.test", payload: "{}" })).toBe(false);

    const changed = await updateEndpoint(env.DB, a.org, id, { url: "https://other.example.com/h", description: "team", format: "slack" });
    expect(changed).toMatchObject({ ok: true, endpoint: { url: "https://other.example.com/h", description: "team", format: "slack", enabled: true } });

    expect(await deleteEndpoint(env.DB, a.org, id)).toBe(true);
    expect(await getEndpoint(env.DB, a.org, id)).toBeNull();
    expect(await getDelivery(env.DB, a.org, d)).toBeNull();
    const left = await env.DB.prepare("SELECT (SELECT count(*) FROM webhook_secrets WHERE endpoint_id = ?1) + (SELECT count(*) FROM webhook_attempts WHERE delivery_id = ?2) AS n").bind(id, d).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("secret rotation", () => {
  it("signs with the old and the new secret until the overlap ends, then with the new one only", async () => {
    const { org } = await newOrg();
    const { id, secret: oldSecret } = await newEndpoint(org);
    expect(await liveSecrets(env.DB, org, id, T0)).toEqual([oldSecret]);
    const rotated = await rotateSecret(env.DB, org, id, { now: T0 + HOUR });
    expect(rotated?.previousExpireAt).toBe(T0 + HOUR + SECRET_OVERLAP_MS);
    const newSecret = rotated?.secret ?? "";
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(await liveSecrets(env.DB, org, id, T0 + 2 * HOUR)).toEqual([newSecret, oldSecret]);
    expect(await liveSecrets(env.DB, org, id, T0 + HOUR + SECRET_OVERLAP_MS)).toEqual([newSecret]);
    expect(JSON.stringify(await listEndpoints(env.DB, org))).not.toContain(newSecret);
  });

  it("a rotation with no overlap retires the old secret at once, and rotating twice keeps only the two newest", async () => {
    const { org } = await newOrg();
    const { id } = await newEndpoint(org);
    const second = await rotateSecret(env.DB, org, id, { now: T0, overlapMs: 0 });
    expect(await liveSecrets(env.DB, org, id, T0)).toEqual([second?.secret]);
    const third = await rotateSecret(env.DB, org, id, { now: T0 + 1000 });
    expect(await liveSecrets(env.DB, org, id, T0 + 2000)).toEqual([third?.secret, second?.secret]);
  });

  it("a delivery signed during the overlap verifies with either secret", async () => {
    const { org, app } = await newOrg();
    const { id, secret: oldSecret } = await newEndpoint(org);
    const rotated = await rotateSecret(env.DB, org, id);
    const d = await delivery(org, app, id, Date.now());
    const stored = await getDelivery(env.DB, org, d);
    const endpoint = await getEndpoint(env.DB, org, id);
    let seen: { body: string; headers: Record<string, string> } | null = null;
    const receiver: typeof fetch = async (_input, init) => {
      seen = { body: String(init?.body), headers: Object.fromEntries(new Headers(init?.headers).entries()) };
      return new Response(null, { status: 204 });
    };
    const result = await attemptDelivery({ url: endpoint?.url ?? "", id: d, body: stored?.payload ?? "", secrets: await liveSecrets(env.DB, org, id) }, receiver);
    expect(result).toMatchObject({ ok: true, status: 204 });
    const got = seen ?? { body: "", headers: {} };
    expect(new Webhook(oldSecret).verify(got.body, got.headers)).toEqual({ id: d });
    expect(new Webhook(rotated?.secret ?? "").verify(got.body, got.headers)).toEqual({ id: d });
  });
});

describe("the delivery log", () => {
  it("records a delivery once, however often the queue hands it over", async () => {
    const { org, app } = await newOrg();
    const { id } = await newEndpoint(org);
    const d = await delivery(org, app, id);
    expect(await recordDelivery(env.DB, org, { id: d, endpointId: id, appId: app, ruleId: "rule_1", eventType: "alert.firing", payload: "{}" })).toBe(false);
    expect(await listDeliveries(env.DB, org, id)).toEqual([
      { id: d, endpointId: id, appId: app, ruleId: "rule_1", eventType: "alert.firing", payload: `{"id":"${d}"}`, status: "pending", attempts: 0, nextAttemptAt: T0, createdAt: T0 },
    ]);
  });

  it("a receiver answering 500 gets retries, each logged newest first, until it answers 2xx", async () => {
    const { org, app } = await newOrg();
    const { id } = await newEndpoint(org);
    const d = await delivery(org, app, id);
    let now = T0;
    for (let i = 1; i <= 3; i++) {
      const retryAt = nextAttemptAt(i, T0, now);
      expect(await recordAttempt(env.DB, org, d, { ...fail500, excerpt: `oops ${i}` }, retryAt, now)).toEqual({ status: "pending", endpointDisabled: false });
      expect((await getDelivery(env.DB, org, d))?.nextAttemptAt).toBe(retryAt);
      now = retryAt ?? now;
    }
    expect((await getEndpoint(env.DB, org, id))?.failingSince).toBe(T0);
    expect(await recordAttempt(env.DB, org, d, success, null, now)).toEqual({ status: "delivered", endpointDisabled: false });
    expect(await getDelivery(env.DB, org, d)).toMatchObject({ status: "delivered", attempts: 4, nextAttemptAt: null });
    expect((await getEndpoint(env.DB, org, id))?.failingSince).toBeNull();
    const attempts = await listAttempts(env.DB, org, d);
    expect(attempts.map((a) => [a.statusCode, a.responseExcerpt])).toEqual([
      [204, ""],
      [500, "oops 3"],
      [500, "oops 2"],
      [500, "oops 1"],
    ]);
    expect(attempts[1]).toEqual({ deliveryId: d, at: expect.any(Number), statusCode: 500, error: null, latencyMs: 12, responseExcerpt: "oops 3" });
  });

  it("a delivery still failing after 24 hours is failed, and can be resent by hand", async () => {
    const { org, app } = await newOrg();
    const { id } = await newEndpoint(org);
    const d = await delivery(org, app, id);
    const late = T0 + GIVE_UP_AFTER_MS;
    expect(await recordAttempt(env.DB, org, d, { ok: false, status: null, error: "timed out after 10 s", latencyMs: 10_000, excerpt: "" }, nextAttemptAt(30, T0, late), late)).toMatchObject({ status: "failed" });
    expect(await getDelivery(env.DB, org, d)).toMatchObject({ status: "failed", nextAttemptAt: null });
    expect((await listAttempts(env.DB, org, d))[0]).toMatchObject({ statusCode: null, error: "timed out after 10 s" });
    expect(await requeueDelivery(env.DB, org, d, late + HOUR)).toMatchObject({ id: d, status: "pending", nextAttemptAt: late + HOUR, attempts: 1 });
  });

  it("lists an endpoint's deliveries newest first, by page and by app", async () => {
    const { org, app } = await newOrg();
    const other = `app_wh_${crypto.randomUUID().slice(0, 8)}`;
    expect(await createApp(env.DB, inOrg(org), { id: other, name: other })).not.toBe("unavailable");
    const { id } = await newEndpoint(org);
    const { id: elsewhere } = await newEndpoint(org, "https://elsewhere.example.com/");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await delivery(org, i === 4 ? other : app, id, T0 + i * 1000));
    await delivery(org, app, elsewhere, T0 + 10_000);
    const all = await listDeliveries(env.DB, org, id);
    expect(all.map((x) => x.id)).toEqual([...ids].reverse());
    const first = await listDeliveries(env.DB, org, id, { limit: 2 });
    expect(first.map((x) => x.id)).toEqual([ids[4], ids[3]]);
    const last = first.at(-1);
    const next = await listDeliveries(env.DB, org, id, { limit: 2, before: last ? { createdAt: last.createdAt, id: last.id } : undefined });
    expect(next.map((x) => x.id)).toEqual([ids[2], ids[1]]);
    expect((await listDeliveries(env.DB, org, id, { appId: other })).map((x) => x.id)).toEqual([ids[4]]);
  });
});

describe("auto-disable", () => {
  it("an endpoint failing continuously for 24 hours is turned off and says why; enabling it clears that", async () => {
    const { org, app } = await newOrg();
    const { id } = await newEndpoint(org);
    const d1 = await delivery(org, app, id);
    expect(await recordAttempt(env.DB, org, d1, fail500, T0 + HOUR, T0)).toEqual({ status: "pending", endpointDisabled: false });
    // a later delivery failing too does not restart the clock
    const d2 = await delivery(org, app, id, T0 + 12 * HOUR);
    expect(await recordAttempt(env.DB, org, d2, fail500, T0 + 13 * HOUR, T0 + 12 * HOUR)).toEqual({ status: "pending", endpointDisabled: false });
    expect(await getEndpoint(env.DB, org, id)).toMatchObject({ enabled: true, failingSince: T0 });
    expect(await recordAttempt(env.DB, org, d1, fail500, null, T0 + DISABLE_AFTER_MS)).toEqual({ status: "failed", endpointDisabled: true });
    expect(await getEndpoint(env.DB, org, id)).toMatchObject({ enabled: false, disabledReason: FAILING_REASON, failingSince: T0 });

    const on = await updateEndpoint(env.DB, org, id, { enabled: true });
    expect(on).toMatchObject({ ok: true, endpoint: { enabled: true, disabledReason: null, failingSince: null } });
    const off = await updateEndpoint(env.DB, org, id, { enabled: false });
    expect(off).toMatchObject({ ok: true, endpoint: { enabled: false, disabledReason: null } });
  });

  it("a success within the 24 hours starts the clock again", async () => {
    const { org, app } = await newOrg();
    const { id } = await newEndpoint(org);
    const d = await delivery(org, app, id);
    await recordAttempt(env.DB, org, d, fail500, T0 + HOUR, T0);
    await recordAttempt(env.DB, org, d, success, null, T0 + 20 * HOUR);
    const d2 = await delivery(org, app, id, T0 + 21 * HOUR);
    expect(await recordAttempt(env.DB, org, d2, fail500, T0 + 26 * HOUR, T0 + 25 * HOUR)).toMatchObject({ endpointDisabled: false });
    expect(await getEndpoint(env.DB, org, id)).toMatchObject({ enabled: true, failingSince: T0 + 25 * HOUR });
  });
});

describe("delivery from workerd to a real local server", () => {
  it("reaches an http://127.0.0.1 receiver in local mode and logs its status and answer", async () => {
    const { org, app } = await newOrg();
    // the local ClickHouse answers only GET on /ping: a POST there is a real receiver's 404
    const url = new URL("/ping", env.CLICKHOUSE_DIRECT_URL).toString();
    const { id } = await newEndpoint(org, url);
    const d = await delivery(org, app, id, Date.now());
    const result = await attemptDelivery({ url, id: d, body: "{}", secrets: await liveSecrets(env.DB, org, id), localMode: true });
    expect(result).toMatchObject({ ok: false, status: 404, error: null, excerpt: expect.stringContaining("There is no handle /ping") });
    const retryAt = nextAttemptAt(1, Date.now(), Date.now());
    expect(await recordAttempt(env.DB, org, d, result, retryAt)).toEqual({ status: "pending", endpointDisabled: false });
    expect((await listAttempts(env.DB, org, d))[0]).toMatchObject({ statusCode: 404, responseExcerpt: result.excerpt });
  });
});
