// A notice becomes deliveries and attempts the way the queue consumer will drive them: in
// workerd, against the real local D1, with a receiver stub that answers as told and checks
// every request with the Standard Webhooks library, as a customer's receiver would.
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WebhookBody, type WebhookFormat } from "../../../schemas";
import { createApp, inOrg } from "../../apps/store";
import { GIVE_UP_AFTER_MS } from "./deliver";
import type { AlertNotice } from "./payload";
import { recordNotice, runAttempt, type AttemptRun } from "./process";
import { createEndpoint, getDelivery, getEndpoint, listAttempts, listDeliveries, updateEndpoint } from "./store";

const T0 = Date.UTC(2026, 11, 1, 8);

async function setup(format: WebhookFormat = "standard"): Promise<{ org: string; app: string; endpointId: string; secret: string }> {
  const org = `org_${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare("INSERT INTO orgs (id, name, created_at) VALUES (?1, ?1, ?2)").bind(org, T0).run();
  const app = `app_wp_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, inOrg(org), { id: app, name: "Shop" })).not.toBe("unavailable");
  const created = await createEndpoint(env.DB, org, { url: "https://hooks.example.com/alerts", description: "", format });
  if (!created.ok) throw new Error(created.reason);
  return { org, app, endpointId: created.endpoint.id, secret: created.secret };
}

const notice = (app: string): Omit<AlertNotice, "id"> => ({
  type: "alert.firing",
  occurredAt: T0,
  app: { id: app, name: "Shop" },
  rule: { id: "rule_cf", name: "Checkout failures", metric: "event_count", filter: { event: "Checkout Failed" }, window: 60, condition: "above 5" },
  value: 6,
  threshold: 5,
  state: "firing",
  links: { rule: "https://dash.example.com/apps/x/alerts/rule_cf", view: "https://dash.example.com/apps/x/events" },
});

interface Seen {
  id: string;
  body: string;
  verified: unknown;
}

// A receiver answering each request with the next status of `statuses` (the last one repeats).
function receiver(secret: string, statuses: number[]): { fetchFn: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchFn: typeof fetch = async (_input, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = String(init?.body);
    seen.push({ id: headers["webhook-id"] ?? "", body, verified: new Webhook(secret).verify(body, headers) });
    const status = statuses[Math.min(seen.length - 1, statuses.length - 1)] ?? 500;
    return new Response(status === 204 ? null : `answer ${seen.length}`, { status });
  };
  return { fetchFn, seen };
}

describe("recordNotice", () => {
  it("records one delivery whose body is the versioned standard body under the delivery's id", async () => {
    const { org, app, endpointId } = await setup();
    const id = await recordNotice(env.DB, org, endpointId, notice(app), T0);
    const d = await getDelivery(env.DB, org, id ?? "");
    expect(d).toMatchObject({ status: "pending", eventType: "alert.firing", ruleId: "rule_cf", appId: app, attempts: 0 });
    expect(WebhookBody.parse(JSON.parse(d?.payload ?? ""))).toMatchObject({ id, version: 1, value: 6, threshold: 5, state: "firing" });
  });

  it("renders a Slack body for a Slack endpoint", async () => {
    const { org, app, endpointId } = await setup("slack");
    const id = await recordNotice(env.DB, org, endpointId, notice(app), T0);
    const body: unknown = JSON.parse((await getDelivery(env.DB, org, id ?? ""))?.payload ?? "");
    expect(body).toMatchObject({ text: "Firing: Checkout failures on Shop: 6 (above 5, over 1 min)", blocks: expect.any(Array) });
  });

  it("records nothing for another organisation's endpoint or app", async () => {
    const a = await setup();
    const b = await setup();
    expect(await recordNotice(env.DB, b.org, a.endpointId, notice(b.app))).toBeNull();
    expect(await recordNotice(env.DB, a.org, a.endpointId, notice(b.app))).toBeNull();
    expect(await listDeliveries(env.DB, a.org, a.endpointId)).toEqual([]);
  });
});

describe("runAttempt", () => {
  it("a receiver answering 500 gets signed retries under the same id until it answers 2xx, and the log shows each", async () => {
    const { org, app, endpointId, secret } = await setup();
    const id = (await recordNotice(env.DB, org, endpointId, notice(app), T0)) ?? "";
    const { fetchFn, seen } = receiver(secret, [500, 500, 204]);
    let now = T0;
    const runs: AttemptRun[] = [];
    for (;;) {
      const run = await runAttempt(env.DB, org, id, { fetchFn, now: () => now });
      runs.push(run);
      if (run.outcome !== "retry") break;
      expect(run.retryAt).toBeGreaterThan(now);
      now = run.retryAt;
    }
    expect(runs.map((r) => r.outcome)).toEqual(["retry", "retry", "delivered"]);
    expect(seen.map((s) => s.id)).toEqual([id, id, id]);
    const payload = (await getDelivery(env.DB, org, id))?.payload ?? "";
    for (const s of seen) {
      expect(s.body).toBe(payload);
      expect(s.verified).toEqual(JSON.parse(payload));
    }
    expect((await listAttempts(env.DB, org, id)).map((a) => [a.statusCode, a.responseExcerpt])).toEqual([
      [204, ""],
      [500, "answer 2"],
      [500, "answer 1"],
    ]);
    expect(await runAttempt(env.DB, org, id, { fetchFn })).toEqual({ outcome: "skipped", reason: "not pending" });
    expect(seen).toHaveLength(3);
  });

  it("a receiver that keeps failing is retried for 24 hours, then the delivery fails and the endpoint is turned off", async () => {
    const { org, app, endpointId, secret } = await setup();
    const id = (await recordNotice(env.DB, org, endpointId, notice(app), T0)) ?? "";
    const { fetchFn, seen } = receiver(secret, [503]);
    let now = T0;
    let run = await runAttempt(env.DB, org, id, { fetchFn, now: () => now });
    while (run.outcome === "retry") {
      now = run.retryAt;
      run = await runAttempt(env.DB, org, id, { fetchFn, now: () => now });
    }
    expect(run).toMatchObject({ outcome: "failed", endpointDisabled: true, attempt: { status: 503 } });
    expect(now).toBe(T0 + GIVE_UP_AFTER_MS);
    expect((await getDelivery(env.DB, org, id))?.attempts).toBe(seen.length);
    expect(await getEndpoint(env.DB, org, endpointId)).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/24 hours/) });

    // while it is off, a new delivery fails at once without a request, and says why
    const next = (await recordNotice(env.DB, org, endpointId, { ...notice(app), type: "alert.resolved", state: "resolved", value: 0 })) ?? "";
    expect(await runAttempt(env.DB, org, next, { fetchFn })).toMatchObject({ outcome: "failed", attempt: { error: "endpoint disabled" } });
    expect(seen.length).toBe((await getDelivery(env.DB, org, id))?.attempts);

    // turned back on, it receives again
    await updateEndpoint(env.DB, org, endpointId, { enabled: true });
    const third = (await recordNotice(env.DB, org, endpointId, notice(app))) ?? "";
    const ok = receiver(secret, [200]);
    expect(await runAttempt(env.DB, org, third, { fetchFn: ok.fetchFn })).toMatchObject({ outcome: "delivered", endpointDisabled: false });
  });

  it("an unsafe stored URL is refused before any request, logged, and not retried", async () => {
    const { org, app, endpointId, secret } = await setup();
    await env.DB.prepare("UPDATE webhook_endpoints SET url = 'https://169.254.169.254/latest' WHERE id = ?1").bind(endpointId).run();
    const id = (await recordNotice(env.DB, org, endpointId, notice(app), T0)) ?? "";
    const { fetchFn, seen } = receiver(secret, [200]);
    const run = await runAttempt(env.DB, org, id, { fetchFn, now: () => T0 });
    expect(run).toMatchObject({ outcome: "failed", attempt: { ok: false, error: expect.stringMatching(/^refused: .*link-local/) } });
    expect((await listAttempts(env.DB, org, id))[0]?.error).toMatch(/^refused: .*link-local/);
    expect(seen).toHaveLength(0);
  });

  it("skips a delivery the organisation does not have", async () => {
    const a = await setup();
    const b = await setup();
    const id = (await recordNotice(env.DB, a.org, a.endpointId, notice(a.app))) ?? "";
    expect(await runAttempt(env.DB, b.org, id)).toEqual({ outcome: "skipped", reason: "no delivery" });
  });
});
