// Alerting end to end in workerd: rules and endpoints made through the admin API, events in the
// real local ClickHouse, the Worker's own minute cron, its webhook queue and consumer, and a
// receiver in Node (test/webhook-receiver.ts) that checks every request with the Standard
// Webhooks library, as a customer's would.
import { createScheduledController, env, SELF } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WebhookBody, type WebhookAttemptInfo, type WebhookDeliveryInfo, type WebhookEndpointInfo } from "../schemas";
import type { AlertRuleInfo, AlertHistoryEntry } from "../workers/alerts/rules/store";
import { handleWebhookBatch, handleWebhookDeadLetters } from "../workers/alerts/webhooks/queue";
import { createApp, inOrg, OPERATOR } from "../workers/apps/store";
import { MINUTE_CRON } from "../workers/cron";
import worker from "../workers/index";
import { chHeaders } from "./seed";
import type { Received } from "./webhook-receiver";

const MIN = 60_000;
const admin = { authorization: "Bearer test-admin-token", "content-type": "application/json" };

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await SELF.fetch(`https://edge.test/admin${path}`, { method, headers: admin, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: await res.json<T>() };
}

async function orgApp(): Promise<{ org: string; app: string }> {
  const org = `org_${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, 'Shop Co', ?2)").bind(org, Date.now()).run();
  const app = `app_alerts_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, inOrg(org), { id: app, name: "Shop" })).not.toBe("unavailable");
  return { org, app };
}

const hookName = (): string => `h${crypto.randomUUID().slice(0, 12)}`;

async function endpoint(app: string, name: string, query = ""): Promise<{ id: string; secret: string }> {
  const created = await call<{ endpoint: WebhookEndpointInfo; secret: string }>("POST", `/apps/${app}/webhooks`, { url: `${env.WEBHOOK_RECEIVER_URL}/hooks/${name}${query}`, description: "on-call" });
  expect(created.status).toBe(201);
  return { id: created.json.endpoint.id, secret: created.json.secret };
}

async function received(name: string): Promise<Received[]> {
  return (await fetch(`${env.WEBHOOK_RECEIVER_URL}/received/${name}`)).json<Received[]>();
}

/** Polls the receiver until it holds `count` requests of `name`: the queue hands messages over when it will. */
async function receivedAtLeast(name: string, count: number): Promise<Received[]> {
  for (let i = 0; i < 600; i++) {
    const got = await received(name);
    if (got.length >= count) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the receiver got fewer than ${count} requests on ${name}`);
}

async function insertEvents(rows: Array<Record<string, string | number>>): Promise<void> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  url.searchParams.set("query", "INSERT INTO events FORMAT JSONEachRow");
  url.searchParams.set("date_time_input_format", "best_effort");
  const res = await fetch(url, { method: "POST", headers: chHeaders(), body: rows.map((r) => JSON.stringify(r)).join("\n") });
  if (!res.ok) throw new Error(await res.text());
}

const checkoutFailed = (app: string, ms: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    app_id: app,
    type: "track",
    event: "Checkout Failed",
    message_id: `cf-${app}-${ms}-${i}`,
    anonymous_id: `u${i}`,
    timestamp: new Date(ms + i * 1000).toISOString(),
    received_at: new Date(ms + i * 1000).toISOString(),
  }));

const cron = (ms: number) => worker.scheduled(createScheduledController({ cron: MINUTE_CRON, scheduledTime: ms }), env);

function verified(r: Received, secret: string): WebhookBody {
  return WebhookBody.parse(new Webhook(secret).verify(r.body, r.headers));
}

describe("a rule of more than 5 Checkout Failed in 1 minute", () => {
  it("sends a signed firing webhook for the sixth event, then a resolved one once the window is clear, and keeps the history", async () => {
    const { app } = await orgApp();
    const name = hookName();
    const hook = await endpoint(app, name);
    const made = await call<{ rule: AlertRuleInfo }>("POST", `/apps/${app}/alerts`, {
      name: "Checkout failures",
      metric: { kind: "events", name: "Checkout Failed" },
      window: "1m",
      condition: { type: "threshold", direction: "above", value: 5 },
      endpointIds: [hook.id],
    });
    expect(made.status).toBe(201);
    const ruleId = made.json.rule.id;

    // Five in the minute M hold nothing; the sixth, in the same minute, fires at M + 2 (the window ends a settled minute back).
    const M = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;
    await insertEvents(checkoutFailed(app, M, 5));
    await cron(M + 2 * MIN);
    expect((await call<{ rule: AlertRuleInfo }>("GET", `/apps/${app}/alerts/${ruleId}`)).json.rule.state.state).toBe("ok");

    await insertEvents(checkoutFailed(app, M + 3 * MIN, 6));
    await cron(M + 5 * MIN);
    const [firing] = await receivedAtLeast(name, 1);
    if (!firing) throw new Error("no firing webhook");
    const body = verified(firing, hook.secret);
    expect(body).toMatchObject({
      type: "alert.firing",
      version: 1,
      app: { id: app, name: "Shop" },
      rule: { id: ruleId, name: "Checkout failures", metric: "event_count", filter: { event: "Checkout Failed" }, window: 60, condition: "above 5" },
      value: 6,
      threshold: 5,
      state: "firing",
    });
    expect(firing.headers["webhook-id"]).toBe(body.id);
    expect(body.links.rule).toBe(`http://127.0.0.1:8788/apps/${app}/alerts/${ruleId}`);
    expect(body.links.view).toBe(`http://127.0.0.1:8788/apps/${app}/events?event=Checkout%20Failed`);

    // A minute later the window holds none: resolved.
    await cron(M + 6 * MIN);
    const [, resolved] = await receivedAtLeast(name, 2);
    if (!resolved) throw new Error("no resolved webhook");
    expect(verified(resolved, hook.secret)).toMatchObject({ type: "alert.resolved", state: "resolved", value: 0, rule: { id: ruleId } });
    // A retried cron minute sends nothing twice.
    await cron(M + 6 * MIN);
    const history = await call<{ history: AlertHistoryEntry[] }>("GET", `/apps/${app}/alerts/${ruleId}/history`);
    expect(history.json.history.map((h) => [h.from, h.to, h.value])).toEqual([
      ["firing", "resolved", 0],
      ["ok", "firing", 6],
    ]);
    const deliveries = await call<{ deliveries: WebhookDeliveryInfo[] }>("GET", `/apps/${app}/webhooks/${hook.id}/deliveries`);
    expect(deliveries.json.deliveries.map((d) => [d.eventType, d.status, d.attempts])).toEqual([
      ["alert.resolved", "delivered", 1],
      ["alert.firing", "delivered", 1],
    ]);
    expect(await received(name)).toHaveLength(2);
  });

  it("sends nothing while muted, and the history says so", async () => {
    const { app } = await orgApp();
    const name = hookName();
    const hook = await endpoint(app, name);
    const M = Math.floor(Date.now() / MIN) * MIN - 40 * MIN;
    const made = await call<{ rule: AlertRuleInfo }>("POST", `/apps/${app}/alerts`, {
      name: "Checkout failures",
      metric: { kind: "events", name: "Checkout Failed" },
      window: "1m",
      condition: { type: "threshold", direction: "above", value: 5 },
      endpointIds: [hook.id],
      mutedUntil: M + 60 * MIN,
    });
    await insertEvents(checkoutFailed(app, M, 6));
    await cron(M + 2 * MIN);
    // A test send to the same endpoint afterwards arrives alone: the muted firing queued nothing before it.
    expect((await call("POST", `/apps/${app}/webhooks/${hook.id}/test`)).status).toBe(202);
    const got = await receivedAtLeast(name, 1);
    expect(got.map((r) => verified(r, hook.secret).type)).toEqual(["alert.test"]);
    const history = await call<{ history: AlertHistoryEntry[] }>("GET", `/apps/${app}/alerts/${made.json.rule.id}/history`);
    expect(history.json.history[0]).toMatchObject({ from: "ok", to: "firing", detail: expect.stringContaining("muted") });
  });
});

// A batch whose messages record what the consumer made of them.
function batchOf(bodies: unknown[]): { batch: MessageBatch<unknown>; outcome: Array<{ acked: boolean; retryDelay: number | null }> } {
  const outcome = bodies.map(() => ({ acked: false, retryDelay: null as number | null }));
  const messages = bodies.map((body, i) => ({
    id: `m${i}`,
    timestamp: new Date(),
    body,
    attempts: 1,
    ack: () => {
      const o = outcome[i];
      if (o) o.acked = true;
    },
    retry: (opts?: QueueRetryOptions) => {
      const o = outcome[i];
      if (o) o.retryDelay = opts?.delaySeconds ?? 0;
    },
  }));
  return { batch: { queue: "telemetry-webhooks", messages, retryAll: () => {}, ackAll: () => {} } as unknown as MessageBatch<unknown>, outcome };
}

describe("the webhook queue's consumer", () => {
  it("retries a receiver answering 500 with growing delays, logs every attempt, and delivers once it answers 200", async () => {
    const { org, app } = await orgApp();
    const name = hookName();
    const hook = await endpoint(app, name, "?fail=3");
    const sent = await call<{ deliveryIds: string[] }>("POST", `/apps/${app}/webhooks/${hook.id}/test`);
    expect(sent.status).toBe(202);
    const [deliveryId] = sent.json.deliveryIds;
    // The queued message reaches the Worker's own consumer too; the log below counts every attempt, whoever made it.
    const delivery = async () => (await call<{ delivery: WebhookDeliveryInfo; attempts: WebhookAttemptInfo[] }>("GET", `/apps/${app}/webhooks/${hook.id}/deliveries/${deliveryId}`)).json;
    const deps = { db: env.DB, localMode: true };
    for (let i = 0; i < 10 && (await delivery()).delivery.status === "pending"; i++) {
      const { batch, outcome } = batchOf([{ v: 1, orgId: org, deliveryId }]);
      await handleWebhookBatch(batch, deps);
      const o = outcome[0];
      if ((await delivery()).delivery.status === "pending") expect(o?.retryDelay).toBeGreaterThan(0);
      else expect(o?.acked).toBe(true);
    }
    const log = await delivery();
    expect(log.delivery.status).toBe("delivered");
    expect(log.attempts.map((a) => a.statusCode)).toEqual([200, 500, 500, 500]);
    expect(log.attempts[1]?.responseExcerpt).toContain("receiver failed on purpose");
    expect(await received(name)).toHaveLength(4);
  });

  it("drops a message that is not a delivery, and marks a dead-lettered delivery failed", async () => {
    const { org, app } = await orgApp();
    const hook = await endpoint(app, hookName(), "?status=503");
    const junk = batchOf([{ nonsense: true }, "text"]);
    await handleWebhookBatch(junk.batch, { db: env.DB, localMode: true });
    expect(junk.outcome.map((o) => o.acked)).toEqual([true, true]);

    const id = `msg_dead_${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.prepare("INSERT INTO webhook_deliveries (id, endpoint_id, app_id, event_type, payload, next_attempt_at, created_at) VALUES (?1, ?2, ?3, 'alert.test', '{}', ?4, ?4)")
      .bind(id, hook.id, app, Date.now() + 3600_000)
      .run();
    const dead = batchOf([{ v: 1, orgId: org, deliveryId: id }]);
    await handleWebhookDeadLetters(dead.batch, { db: env.DB, localMode: true });
    expect(dead.outcome[0]?.acked).toBe(true);
    const log = await call<{ delivery: WebhookDeliveryInfo; attempts: WebhookAttemptInfo[] }>("GET", `/apps/${app}/webhooks/${hook.id}/deliveries/${id}`);
    expect(log.json.delivery.status).toBe("failed");
    expect(log.json.attempts[0]?.error).toMatch(/retries ran out/);
  });

  it("queues again, from the minute cron, a pending delivery whose message was lost", async () => {
    const { app } = await orgApp();
    const name = hookName();
    const hook = await endpoint(app, name);
    const now = Date.now();
    await env.DB.prepare("INSERT INTO webhook_deliveries (id, endpoint_id, app_id, event_type, payload, next_attempt_at, created_at) VALUES (?1, ?2, ?3, 'alert.test', '{\"lost\":true}', ?4, ?4)")
      .bind(`msg_lost_${name}`, hook.id, app, now - 20 * MIN)
      .run();
    await cron(Math.floor(now / MIN) * MIN);
    const [got] = await receivedAtLeast(name, 1);
    expect(got?.body).toBe('{"lost":true}');
    expect(got?.headers["webhook-id"]).toBe(`msg_lost_${name}`);
  });
});

describe("admin API for alerts", () => {
  it("refuses what cannot work, naming why", async () => {
    const { app } = await orgApp();
    const hook = await endpoint(app, hookName());
    const rule = (extra: Record<string, unknown>) => call<{ error: { code: string; message: string } }>("POST", `/apps/${app}/alerts`, { name: "r", metric: { kind: "users" }, window: "5m", condition: { type: "threshold", direction: "above", value: 1 }, endpointIds: [hook.id], ...extra });
    expect((await rule({ filter: { event: "Opened" } })).status).toBe(201);
    for (const [extra, message] of [
      [{ metric: { kind: "pipeline", counter: "rejected" }, filter: { platform: "ios" } }, /pipeline cannot be filtered by platform/],
      [{ endpointIds: ["whe_nope"] }, /no webhook endpoint whe_nope/],
      [{ endpointIds: [] }, /needs at least one webhook endpoint/],
      [{ window: "2w" }, /window must be one of/],
      [{ condition: { type: "threshold", direction: "sideways", value: 1 } }, /above or below/],
      [{ metric: { kind: "crash_free_users" }, window: "5m" }, /whole hours/],
    ] as const) {
      const res = await rule(extra);
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.json.error.message, JSON.stringify(extra)).toMatch(message);
    }
    const bad = await call<{ error: { message: string } }>("POST", `/apps/${app}/webhooks`, { url: "https://10.0.0.7/hook" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/private/);
    expect((await call("GET", `/apps/app_nobody/alerts`)).status).toBe(404);
    expect((await SELF.fetch(`https://edge.test/admin/apps/${app}/alerts`)).status).toBe(401);

    const orphan = `app_orphan_${crypto.randomUUID().slice(0, 8)}`;
    expect(await createApp(env.DB, OPERATOR, { id: orphan, name: "No org" })).not.toBe("unavailable");
    const noOrg = await call<{ error: { message: string } }>("POST", `/apps/${orphan}/webhooks`, { url: `${env.WEBHOOK_RECEIVER_URL}/hooks/x` });
    expect(noOrg.status).toBe(409);
    expect(noOrg.json.error.message).toMatch(/belongs to no organisation/);
  });

  it("shows a secret once, rotates it with an overlap, and starts a rule over when what it measures changes", async () => {
    const { app } = await orgApp();
    const name = hookName();
    const hook = await endpoint(app, name);
    expect(hook.secret).toMatch(/^whsec_/);
    const listed = await call<{ endpoints: WebhookEndpointInfo[] }>("GET", `/apps/${app}/webhooks`);
    expect(JSON.stringify(listed.json)).not.toContain(hook.secret);
    const rotated = await call<{ secret: string; previousExpiresAt: string }>("POST", `/apps/${app}/webhooks/${hook.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).not.toBe(hook.secret);
    expect(Date.parse(rotated.json.previousExpiresAt)).toBeGreaterThan(Date.now() + 23 * 60 * MIN);
    // During the overlap, a receiver holding either secret verifies the same request.
    expect((await call("POST", `/apps/${app}/webhooks/${hook.id}/test`)).status).toBe(202);
    const [got] = await receivedAtLeast(name, 1);
    if (!got) throw new Error("no test webhook");
    expect(verified(got, hook.secret).type).toBe("alert.test");
    expect(verified(got, rotated.json.secret).type).toBe("alert.test");

    const made = await call<{ rule: AlertRuleInfo }>("POST", `/apps/${app}/alerts`, { name: "Many users", metric: { kind: "users" }, window: "1m", condition: { type: "threshold", direction: "above", value: 0 }, endpointIds: [hook.id] });
    const ruleId = made.json.rule.id;
    const M = Math.floor(Date.now() / MIN) * MIN - 50 * MIN;
    await insertEvents(checkoutFailed(app, M, 1));
    await cron(M + 2 * MIN);
    expect((await call<{ rule: AlertRuleInfo }>("GET", `/apps/${app}/alerts/${ruleId}`)).json.rule.state.state).toBe("firing");
    const renamed = await call<{ rule: AlertRuleInfo }>("PATCH", `/apps/${app}/alerts/${ruleId}`, { name: "Any user" });
    expect(renamed.json.rule).toMatchObject({ name: "Any user", state: { state: "firing" } });
    const changed = await call<{ rule: AlertRuleInfo }>("PATCH", `/apps/${app}/alerts/${ruleId}`, { condition: { type: "threshold", direction: "above", value: 10 } });
    expect(changed.json.rule.state.state).toBe("ok");
    const history = await call<{ history: AlertHistoryEntry[] }>("GET", `/apps/${app}/alerts/${ruleId}/history`);
    expect(history.json.history[0]).toMatchObject({ from: "firing", to: "ok", detail: "rule changed: evaluation starts over" });
    expect((await call("DELETE", `/apps/${app}/alerts/${ruleId}`)).status).toBe(200);
    expect((await call("GET", `/apps/${app}/alerts/${ruleId}`)).status).toBe(404);
    expect((await call("DELETE", `/apps/${app}/webhooks/${hook.id}`)).status).toBe(200);
    expect((await call<{ endpoints: unknown[] }>("GET", `/apps/${app}/webhooks`)).json.endpoints).toEqual([]);
  });
});
