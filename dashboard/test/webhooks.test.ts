// The organisation's webhook endpoint pages against a real D1 (and the edge Worker's sends run
// on it, as the harness's ALERTS binding): secrets shown once, the URL guard's refusals, editing,
// turning off and on, rotating, the delivery log with its attempts, resends and tests, and who
// may see any of it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebhookAttemptInfo, WebhookDeliveryInfo, WebhookEndpointInfo } from "../../schemas";
import { createRule } from "../../workers/alerts/rules/store";
import { getEndpoint, recordAttempt, recordDelivery } from "../../workers/alerts/webhooks/store";
import { inOrg } from "../../workers/apps/store";
import { utcMinute } from "../app/components/format";
import { createApp } from "../app/db/apps.server";
import * as endpointPage from "../app/routes/org.webhooks.$endpoint";
import * as listPage from "../app/routes/org.webhooks._index";
import { browserRequest, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";
import { startDashboardServer, type DashboardServer } from "./server";

let h: Harness;
let server: DashboardServer;
let orgId = "";
let owner: Person;

interface ListData {
  endpoints: WebhookEndpointInfo[];
}
type Delivery = WebhookDeliveryInfo & { appName: string; ruleName: string | null; attemptLog: WebhookAttemptInfo[] };
interface EndpointData {
  endpoint: WebhookEndpointInfo;
  deliveries: Delivery[];
  next: string | null;
  apps: Array<{ id: string; name: string }>;
}
type Result = { ok: string; secret?: string; endpointId?: string } | { error: string; values?: { url: string; description: string; format: string } };

beforeAll(async () => {
  h = await startHarness();
  ({ orgId, owner } = await newOrg(h, "Hooks"));
  await createApp(h.db, orgId, { id: "app_shop", name: "Shop" });
  await createApp(h.db, orgId, { id: "app_blog", name: "Blog" });
  server = await startDashboardServer(h);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

const list = (session: string) => run(() => listPage.loader({ request: browserRequest("/org/webhooks", { session }), params: {}, context: h.context }));
const create = (session: string, form: Record<string, string>) =>
  run(() => listPage.action({ request: browserRequest("/org/webhooks", { session, form: { intent: "create", ...form } }), params: {}, context: h.context }));
const show = (session: string, id: string, query = "") =>
  run(() => endpointPage.loader({ request: browserRequest(`/org/webhooks/${id}${query}`, { session }), params: { endpoint: id }, context: h.context }));
const act = (session: string, id: string, form: Record<string, string>) =>
  run(() => endpointPage.action({ request: browserRequest(`/org/webhooks/${id}`, { session, form }), params: { endpoint: id }, context: h.context }));

/** A new endpoint of the Hooks organisation pointing at this machine, and its secret. */
async function newEndpoint(description = "pager", format = "standard"): Promise<{ id: string; secret: string }> {
  const res = await create(owner.session, { url: "http://127.0.0.1:9/hook", description, format });
  expect(res.status).toBe(200);
  const body = await bodyOf<Result>(res);
  if (!("secret" in body) || !body.secret || !body.endpointId) throw new Error(`not created: ${JSON.stringify(body)}`);
  return { id: body.endpointId, secret: body.secret };
}

/** The page as the browser gets it, with React's text separators taken out. */
const html = async (path: string, session = owner.session, cookie?: string): Promise<string> =>
  (await (await server.fetch(browserRequest(path, { session, cookie }))).text()).replace(/<!-- -->/g, "");

const failure = { ok: false, status: 500, error: null, latencyMs: 42, excerpt: "upstream down" };
const success = { ok: true, status: 204, error: null, latencyMs: 17, excerpt: "" };

describe("endpoints list and create", () => {
  it("shows a new endpoint's secret once, in the create answer only: the list and its page never hold it", async () => {
    const res = await create(owner.session, { url: "http://127.0.0.1:9/once", description: "on-call", format: "slack" });
    expect(res.status).toBe(200);
    const body = await bodyOf<Result>(res);
    expect("secret" in body && body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const secret = "secret" in body ? (body.secret ?? "") : "";
    const listed = await list(owner.session);
    const text = await listed.text();
    expect(text).not.toContain(secret);
    const endpoints = (JSON.parse(text) as ListData).endpoints;
    expect(endpoints.find((e) => e.url === "http://127.0.0.1:9/once")).toMatchObject({ description: "on-call", format: "slack", enabled: true, disabledReason: null });
    const id = "endpointId" in body ? (body.endpointId ?? "") : "";
    const listHtml = await html("/org/webhooks");
    expect(listHtml).toContain("http://127.0.0.1:9/once");
    expect(listHtml).not.toContain(secret);
    expect(await html(`/org/webhooks/${id}`)).not.toContain(secret);
  });

  it("refuses private, loopback and non-https URLs with the guard's reason and keeps what was typed", async () => {
    for (const [url, reason] of [
      ["https://10.0.0.1/x", "10.0.0.1 is a private address"],
      ["https://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local (cloud metadata) address"],
      ["http://hooks.example.com/x", "only https URLs are allowed"],
      ["https://localhost/x", "localhost is a local or internal host name"],
    ] as const) {
      const res = await create(owner.session, { url, description: "typed", format: "slack" });
      expect(res.status).toBe(400);
      const body = await bodyOf<Result>(res);
      expect("error" in body && body.error).toContain(reason);
      expect("values" in body && body.values).toEqual({ url, description: "typed", format: "slack" });
    }
    const endpoints = (await bodyOf<ListData>(await list(owner.session))).endpoints;
    expect(endpoints.map((e) => e.description)).not.toContain("typed");
  });

  it("accepts http://127.0.0.1 only because the dashboard runs in development here", async () => {
    const form = { url: "http://127.0.0.1:9/x", description: "local", format: "standard" };
    expect((await create(owner.session, form)).status).toBe(200);
    const deployed = { ...h.env, ENVIRONMENT: "production", CLICKHOUSE_URL: "https://clickhouse.example.com" };
    const res = await run(() =>
      listPage.action({ request: browserRequest("/org/webhooks", { session: owner.session, form: { intent: "create", ...form } }), params: {}, context: { cloudflare: { env: deployed } } }),
    );
    expect(res.status).toBe(400);
    expect(await bodyOf<Result>(res)).toMatchObject({ error: expect.stringContaining("only https URLs are allowed") });
  });

  it("says what endpoints are for while the organisation has none", async () => {
    const empty = await newOrg(h, "No hooks");
    expect((await bodyOf<ListData>(await list(empty.owner.session))).endpoints).toEqual([]);
    expect(await html("/org/webhooks", empty.owner.session, `__org=${empty.orgId}`)).toContain("No endpoints yet");
  });
});

describe("one endpoint", () => {
  it("edits URL, description and format, refusing a URL the guard refuses", async () => {
    const { id } = await newEndpoint("before");
    const saved = await act(owner.session, id, { intent: "update", url: "http://127.0.0.1:9/after", description: "after", format: "slack" });
    expect(await bodyOf<Result>(saved)).toEqual({ ok: "Saved." });
    expect((await bodyOf<EndpointData>(await show(owner.session, id))).endpoint).toMatchObject({ url: "http://127.0.0.1:9/after", description: "after", format: "slack" });
    const refused = await act(owner.session, id, { intent: "update", url: "https://192.168.1.10/x", description: "after", format: "slack" });
    expect(refused.status).toBe(400);
    expect(await bodyOf<Result>(refused)).toMatchObject({ error: expect.stringContaining("192.168.1.10 is a private address"), values: { url: "https://192.168.1.10/x" } });
    const badFormat = await act(owner.session, id, { intent: "update", url: "http://127.0.0.1:9/after", description: "after", format: "xml" });
    expect(await bodyOf<Result>(badFormat)).toMatchObject({ error: "Choose the standard or the Slack format." });
    expect((await bodyOf<EndpointData>(await show(owner.session, id))).endpoint).toMatchObject({ url: "http://127.0.0.1:9/after", format: "slack" });
  });

  it("turns off by hand and on again", async () => {
    const { id } = await newEndpoint();
    expect(await bodyOf<Result>(await act(owner.session, id, { intent: "disable" }))).toEqual({ ok: expect.stringContaining("Turned off") });
    expect((await bodyOf<EndpointData>(await show(owner.session, id))).endpoint).toMatchObject({ enabled: false, disabledReason: null });
    expect(await html(`/org/webhooks/${id}`)).toContain("turned off</span> by hand");
    const test = await bodyOf<Result>(await act(owner.session, id, { intent: "test" }));
    expect("ok" in test && test.ok).toContain("The endpoint is turned off, so its attempt fails at once");
    const on = await bodyOf<Result>(await act(owner.session, id, { intent: "enable" }));
    expect("ok" in on && on.ok).toContain("Turned on");
    expect("ok" in on && on.ok).not.toContain("failure record");
    expect((await bodyOf<EndpointData>(await show(owner.session, id))).endpoint.enabled).toBe(true);
  });

  it("shows an endpoint turned off for a day of failures prominently, and enabling it clears its failure record", async () => {
    const { id } = await newEndpoint("flaky");
    const dayAgo = Date.now() - 25 * 60 * 60_000;
    await recordDelivery(h.db, orgId, { id: `msg_old_${id}`, endpointId: id, appId: "app_shop", ruleId: null, eventType: "alert.test", payload: "{}", now: dayAgo });
    await recordAttempt(h.db, orgId, `msg_old_${id}`, failure, dayAgo + 30_000, dayAgo);
    await recordAttempt(h.db, orgId, `msg_old_${id}`, failure, null, Date.now());
    const off = (await bodyOf<EndpointData>(await show(owner.session, id))).endpoint;
    expect(off).toMatchObject({ enabled: false, disabledReason: "every delivery failed for 24 hours", failingSince: dayAgo });
    const since = `failing since ${utcMinute(dayAgo)} UTC`;
    for (const path of ["/org/webhooks", `/org/webhooks/${id}`]) {
      const page = await html(path);
      expect(page).toContain('data-state="failing"');
      expect(page).toContain("every delivery failed for 24 hours");
      expect(page).toContain(since);
    }
    const on = await bodyOf<Result>(await act(owner.session, id, { intent: "enable" }));
    expect("ok" in on && on.ok).toContain("Its failure record is cleared");
    expect(await getEndpoint(h.db, orgId, id)).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
  });

  it("rotates the secret: a new one shown once, and until when the previous one keeps signing", async () => {
    const { id, secret } = await newEndpoint();
    const before = Date.now();
    const res = await bodyOf<Result>(await act(owner.session, id, { intent: "rotate" }));
    const after = Date.now();
    expect("secret" in res && res.secret).toMatch(/^whsec_/);
    expect("secret" in res && res.secret).not.toBe(secret);
    const until = [before, after].map((t) => `until ${utcMinute(t + 24 * 60 * 60_000)} UTC`);
    expect(until.some((u) => "ok" in res && res.ok.includes(u))).toBe(true);
    expect(await (await show(owner.session, id)).text()).not.toContain("secret" in res ? res.secret : "none");

    const leaked = await bodyOf<Result>(await act(owner.session, id, { intent: "rotate", now: "1" }));
    expect("ok" in leaked && leaked.ok).toContain("The previous secret no longer signs");
  });

  it("deletes after the confirm, and the endpoint is gone", async () => {
    const { id } = await newEndpoint("doomed");
    const res = await act(owner.session, id, { intent: "delete" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/org/webhooks");
    expect((await show(owner.session, id)).status).toBe(404);
  });
});

describe("delivery log", () => {
  let id = "";
  const t0 = Date.UTC(2026, 10, 30, 9, 0, 0);

  beforeAll(async () => {
    ({ id } = await newEndpoint("log"));
    const rule = await createRule(
      h.db,
      inOrg(orgId),
      "app_shop",
      { name: "Checkout failures", metric: { kind: "events", event: "Checkout Failed" }, window: "1m", condition: { type: "threshold", direction: "above", value: 5 }, endpointIds: [id] },
      { createdBy: "test" },
    );
    if (!rule?.ok) throw new Error(`rule not created: ${JSON.stringify(rule)}`);
    // 25 deliveries a minute apart, alternating apps; the newest is pending, the one before failed.
    for (let i = 0; i < 25; i++) {
      const app = i % 2 === 0 ? "app_shop" : "app_blog";
      await recordDelivery(h.db, orgId, {
        id: `msg_log_${String(i).padStart(2, "0")}`,
        endpointId: id,
        appId: app,
        ruleId: app === "app_shop" ? rule.rule.id : "rule_gone",
        eventType: i % 3 === 0 ? "alert.resolved" : "alert.firing",
        payload: JSON.stringify({ type: "alert.firing", n: i }),
        now: t0 + i * 60_000,
      });
    }
    await recordAttempt(h.db, orgId, "msg_log_24", failure, t0 + 25 * 60_000, t0 + 24 * 60_000 + 1000);
    await recordAttempt(h.db, orgId, "msg_log_23", failure, t0 + 24 * 60_000, t0 + 23 * 60_000 + 1000);
    await recordAttempt(h.db, orgId, "msg_log_23", { ok: false, status: null, error: "timed out after 10 s", latencyMs: 10_000, excerpt: "" }, null, t0 + 24 * 60_000);
    await recordAttempt(h.db, orgId, "msg_log_22", success, null, t0 + 22 * 60_000 + 500);
  });

  it("lists deliveries newest first with app, rule, status, attempts and each attempt's log and body", async () => {
    const page = await bodyOf<EndpointData>(await show(owner.session, id));
    expect(page.deliveries.map((d) => d.id)).toEqual(Array.from({ length: 20 }, (_, i) => `msg_log_${String(24 - i).padStart(2, "0")}`));
    const [pending, failed, delivered] = page.deliveries;
    expect(pending).toMatchObject({ eventType: "alert.resolved", appName: "Shop", ruleName: "Checkout failures", status: "pending", attempts: 1, nextAttemptAt: t0 + 25 * 60_000 });
    expect(failed).toMatchObject({ appName: "Blog", ruleName: null, ruleId: "rule_gone", status: "failed", attempts: 2, nextAttemptAt: null });
    expect(failed?.attemptLog).toEqual([
      { deliveryId: "msg_log_23", at: t0 + 24 * 60_000, statusCode: null, error: "timed out after 10 s", latencyMs: 10_000, responseExcerpt: "" },
      { deliveryId: "msg_log_23", at: t0 + 23 * 60_000 + 1000, statusCode: 500, error: null, latencyMs: 42, responseExcerpt: "upstream down" },
    ]);
    expect(delivered).toMatchObject({ status: "delivered", attempts: 1, attemptLog: [{ statusCode: 204, latencyMs: 17 }] });
    expect(page.apps.map((a) => a.id).sort()).toEqual(["app_blog", "app_shop"]);

    const shown = await html(`/org/webhooks/${id}`);
    expect(shown.match(/<details>/g)?.length).toBe(20);
    expect(shown).toContain("next attempt 2026-11-30 09:25:00 UTC");
    expect(shown).toContain("deleted rule rule_gone");
    expect(shown).toContain("timed out after 10 s");
    expect(shown).toContain("upstream down");
    expect(shown).toContain("&quot;n&quot;: 23");
    // Resend is offered on failed and delivered deliveries, not on the pending one.
    expect(shown).toContain('aria-label="Resend msg_log_23"');
    expect(shown).toContain('aria-label="Resend msg_log_22"');
    expect(shown).not.toContain('aria-label="Resend msg_log_24"');
  });

  it("pages on with before, and filters to one app of the organisation", async () => {
    const first = await bodyOf<EndpointData>(await show(owner.session, id));
    expect(first.next).toBe(`${t0 + 5 * 60_000}_msg_log_05`);
    const second = await bodyOf<EndpointData>(await show(owner.session, id, `?before=${first.next ?? ""}`));
    expect(second.deliveries.map((d) => d.id)).toEqual(["msg_log_04", "msg_log_03", "msg_log_02", "msg_log_01", "msg_log_00"]);
    expect(second.next).toBeNull();
    const blog = await bodyOf<EndpointData>(await show(owner.session, id, "?app=app_blog"));
    expect(blog.deliveries).toHaveLength(12);
    expect(blog.deliveries.every((d) => d.appId === "app_blog")).toBe(true);
    expect(blog.next).toBeNull();
  });

  it("resends a failed delivery: pending again with the same id, queued for its attempt", async () => {
    const queued = h.webhookMessages.length;
    const res = await act(owner.session, id, { intent: "resend", deliveryId: "msg_log_23" });
    expect(await bodyOf<Result>(res)).toEqual({ ok: expect.stringContaining("msg_log_23 is pending again") });
    const page = await bodyOf<EndpointData>(await show(owner.session, id));
    expect(page.deliveries.find((d) => d.id === "msg_log_23")).toMatchObject({ status: "pending", attempts: 2 });
    expect(h.webhookMessages.slice(queued)).toEqual([expect.objectContaining({ deliveryId: "msg_log_23" })]);
    const again = await act(owner.session, id, { intent: "resend", deliveryId: "msg_log_23" });
    expect(again.status).toBe(409);
  });

  it("refuses to resend a delivery of another endpoint", async () => {
    const other = await newEndpoint("other");
    const res = await act(owner.session, other.id, { intent: "resend", deliveryId: "msg_log_22" });
    expect(res.status).toBe(404);
  });

  it("sends a test: a pending alert.test delivery at the top of the log", async () => {
    const { id: fresh } = await newEndpoint("test me");
    const res = await act(owner.session, fresh, { intent: "test" });
    expect(await bodyOf<Result>(res)).toEqual({ ok: expect.stringContaining("Test delivery queued") });
    const page = await bodyOf<EndpointData>(await show(owner.session, fresh));
    expect(page.deliveries).toHaveLength(1);
    expect(page.deliveries[0]).toMatchObject({ eventType: "alert.test", status: "pending", ruleId: null, attempts: 0 });
    expect(JSON.parse(page.deliveries[0]?.payload ?? "{}")).toMatchObject({ type: "alert.test", version: 1 });
  });
});

describe("who may see endpoints", () => {
  it("answers 404 for another organisation's endpoint, on the page and on every form", async () => {
    const { id } = await newEndpoint("private");
    const other = await newOrg(h, "Snoop");
    expect((await show(other.owner.session, id)).status).toBe(404);
    const forms: Array<Record<string, string>> = [{ intent: "update", url: "https://hooks.example.com/x", description: "", format: "standard" }, { intent: "rotate" }, { intent: "delete" }, { intent: "test" }];
    for (const form of forms) {
      expect((await act(other.owner.session, id, form)).status).toBe(404);
    }
    expect(await getEndpoint(h.db, orgId, id)).toMatchObject({ description: "private", url: "http://127.0.0.1:9/hook" });
  });

  it("refuses analysts and viewers with 403, page and forms alike", async () => {
    const { id } = await newEndpoint();
    for (const role of ["analyst", "viewer"] as const) {
      const person = await newMember(h, orgId, role);
      expect((await list(person.session)).status).toBe(403);
      expect((await create(person.session, { url: "https://hooks.example.com/x", description: "", format: "standard" })).status).toBe(403);
      expect((await show(person.session, id)).status).toBe(403);
      expect((await act(person.session, id, { intent: "rotate" })).status).toBe(403);
    }
  });
});
