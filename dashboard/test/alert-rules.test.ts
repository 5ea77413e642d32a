// The alert rules pages against a real D1 and ClickHouse: rules made from the form for every
// metric kind, the store's refusals shown with the input kept, a rule firing and resolving on
// fixture events and starting over when edited, mute, enable, test and delete, and who may do it.
import { createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app/db/apps.server";
import * as list from "../app/routes/apps.$app.alerts._index";
import * as page from "../app/routes/apps.$app.alerts.$rule";
import type { RuleFormValues } from "../app/queries/alert-form";
import { evaluateAlerts } from "../../workers/alerts/rules/run";
import { createEndpoint } from "../../workers/alerts/webhooks/store";
import { CSRF, csrfTokenFor, ORIGIN, run, startHarness, type Harness } from "./harness";
import { bodyOf, newMember, newOrg, type Person } from "./orgs";

let h: Harness;
let writer: ClickHouseClient;
let owner: Person;
let developer: Person;
let viewer: Person;
let outsider: Person;
let orgId = "";
let hook = "";
let pager = "";
let foreignHook = "";
const APP = "app_shop";

type Form = Record<string, string | string[]>;

/** A same-origin post with the session's CSRF token, as the page's forms send it; a field may repeat (endpoint checkboxes). */
function post(path: string, session: string, form: Form): Request {
  const body = new URLSearchParams({ csrf: csrfTokenFor(session) });
  for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return new Request(`${ORIGIN}${path}`, { method: "POST", headers: { cookie: `__csrf=${CSRF}; __session=${session}`, origin: ORIGIN }, body });
}
const get = (path: string, session: string) => new Request(`${ORIGIN}${path}`, { headers: { cookie: `__csrf=${CSRF}; __session=${session}` } });

const create = (who: Person, form: Form, app = APP) => run(() => list.action({ request: post(`/apps/${app}/alerts`, who.session, { intent: "create", ...form }), params: { app }, context: h.context }));
const act = (who: Person, rule: string, form: Form, app = APP) =>
  run(() => page.action({ request: post(`/apps/${app}/alerts/${rule}`, who.session, form), params: { app, rule }, context: h.context }));
const listPage = async (who: Person, app = APP) => run(() => list.loader({ request: get(`/apps/${app}/alerts`, who.session), params: { app }, context: h.context }));
const rulePage = (who: Person, rule: string, app = APP, query = "") =>
  run(() => page.loader({ request: get(`/apps/${app}/alerts/${rule}${query}`, who.session), params: { app, rule }, context: h.context }));

interface Listed {
  rules: Array<{ id: string; name: string; watches: string; state: string; lastValue: string | null; mutedUntil: number | null; enabled: boolean; endpoints: string[] }>;
  endpoints: Array<{ id: string; label: string }>;
  canEdit: boolean;
}
interface RulePage {
  rule: { name: string; watches: string; view: string; enabled: boolean; mutedUntil: number | null; endpoints: string[] };
  state: { state: string; lastValue: string | null; since: number | null };
  history: Array<{ at: number; from: string; to: string; value: string; threshold: string; detail: string }>;
  next: string | null;
  form: RuleFormValues | null;
}

const CHECKOUT: Form = { name: "Checkout failures", kind: "events", eventName: "Checkout Failed", window: "1m", condition: "above", value: "5", enabled: "on" };
/** The checkout rule with "Enabled" unticked: browsers leave an unticked checkbox out of the post. */
const DRAFT: Form = Object.fromEntries(Object.entries(CHECKOUT).filter(([k]) => k !== "enabled"));

async function created(who: Person, form: Form): Promise<string> {
  const res = await create(who, form);
  const body = await bodyOf<{ ok?: string; ruleId?: string; error?: string }>(res);
  if (res.status !== 200 || !body.ruleId) throw new Error(`rule not created: ${res.status} ${body.error ?? ""}`);
  return body.ruleId;
}

beforeAll(async () => {
  h = await startHarness();
  writer = createClient({ url: h.clickhouseUrl, ...h.clickhouseWriter, clickhouse_settings: { date_time_input_format: "best_effort" } });
  const org = await newOrg(h, "Shop");
  orgId = org.orgId;
  owner = org.owner;
  developer = await newMember(h, orgId, "developer");
  viewer = await newMember(h, orgId, "viewer");
  await createApp(h.db, orgId, { id: APP, name: "Shop" });
  await createApp(h.db, orgId, { id: "app_admin", name: "Back office" });
  const made = await createEndpoint(h.db, orgId, { url: "https://hooks.example.com/services/T0/B0/secret", description: "On-call", format: "standard" });
  const second = await createEndpoint(h.db, orgId, { url: "https://pager.example.net/in", description: "", format: "slack" });
  const other = await newOrg(h, "Other");
  outsider = other.owner;
  await createApp(h.db, other.orgId, { id: "app_foreign", name: "Foreign" });
  const foreign = await createEndpoint(h.db, other.orgId, { url: "https://other.example.org/hook", description: "theirs", format: "standard" });
  if (!made.ok || !second.ok || !foreign.ok) throw new Error("endpoints not created");
  hook = made.endpoint.id;
  pager = second.endpoint.id;
  foreignHook = foreign.endpoint.id;
}, 180_000);

afterAll(async () => {
  await writer?.close();
  await h?.close();
});

describe("creating rules from the form", () => {
  it("creates the checkout rule and lists it in words, ok and not yet evaluated, with where it sends", async () => {
    const id = await created(developer, { ...CHECKOUT, endpointIds: [hook, pager] });
    const listed = await bodyOf<Listed>(await listPage(viewer));
    expect(listed.rules.find((r) => r.id === id)).toEqual({
      id,
      name: "Checkout failures",
      watches: "events Checkout Failed, count over 1 min above 5",
      state: "ok",
      since: null,
      evaluated: false,
      lastValue: null,
      mutedUntil: null,
      enabled: true,
      endpoints: ["On-call (hooks.example.com)", "pager.example.net"],
    });
    // Viewers see where a rule sends, never an endpoint's URL (its path can be its credential).
    expect(JSON.stringify(listed)).not.toContain("secret");
    expect(listed.canEdit).toBe(false);
  });

  it("creates a rule of every metric kind from the fields that kind needs", async () => {
    const kinds: Array<[Form, string]> = [
      [{ kind: "events", eventType: "track", eventName: "" }, "track events, count over 5 min above 5"],
      [{ kind: "users", event: "Signed Up", propKey: "plan", propValue: "pro" }, "unique users over 5 min above 5 where event Signed Up, plan = pro"],
      [{ kind: "crashes", platform: "ios" }, "crashes, count over 5 min above 5 where platform ios"],
      [{ kind: "new_issue", release: "2.0.0" }, "new crash issues over 5 min above 5 where release 2.0.0"],
      [{ kind: "regressed_issue" }, "regressed crash issues over 5 min above 5"],
      [{ kind: "crash_free_users", window: "1d", condition: "below", value: "99.5" }, "crash-free users over 1 day below 99.5 %"],
      [{ kind: "crash_free_sessions", window: "1h", condition: "down:previous", value: "2" }, "crash-free sessions over 1 h down more than 2 % on the previous window"],
      [{ kind: "network_error_rate", method: "get", host: "api.shop.test", template: "/cart/:id", minEvents: "20" }, "network error rate of GET api.shop.test/cart/:id over 5 min above 5 %"],
      [{ kind: "network_latency", percentile: "p99", country: "de" }, "network latency p99 over 5 min above 5 ms where country DE"],
      [{ kind: "perf", perfName: "LCP", percentile: "p95", window: "15m", value: "2500" }, "LCP p95 over 15 min above 2,500 ms"],
      [{ kind: "pipeline", counter: "dead_lettered", condition: "up:week_before", value: "50" }, "pipeline dead-lettered events over 5 min up more than 50 % on the same window a week before"],
    ];
    for (const [fields, words] of kinds) {
      const id = await created(owner, { name: `Rule ${String(fields.kind)}`, window: "5m", condition: "above", value: "5", enabled: "on", endpointIds: hook, ...fields });
      const shown = await bodyOf<RulePage>(await rulePage(viewer, id));
      expect(shown.rule.watches, String(fields.kind)).toBe(words);
    }
  });

  it("answers the store's reason next to the form and keeps what was typed", async () => {
    const refusals: Array<[Form, string]> = [
      [{ kind: "crash_free_users", window: "1h", platform: "ios" }, "filter.platform: metric crash_free_users cannot be filtered by platform: it accepts release"],
      [{ kind: "events", eventName: "X", event: "X" }, "filter.event: metric events cannot be filtered by event: it accepts platform, release, country, property (set metric.name instead)"],
      [{ endpointIds: "whe_nope" }, "no webhook endpoint whe_nope in the app's organisation"],
      [{ endpointIds: foreignHook }, `no webhook endpoint ${foreignHook} in the app's organisation`],
      [{ endpointIds: [] }, "endpointIds: an enabled rule needs at least one webhook endpoint"],
      [{ kind: "crash_free_sessions", window: "5m" }, expect.stringContaining("its window must be whole hours")],
    ] as Array<[Form, string]>;
    for (const [fields, reason] of refusals) {
      const res = await create(developer, { ...CHECKOUT, name: "Refused", platform: "", endpointIds: hook, ...fields });
      expect(res.status).toBe(400);
      const body = await bodyOf<{ error: string; values: RuleFormValues }>(res);
      expect(body.error).toEqual(reason);
      expect(body.values).toMatchObject({ name: "Refused", kind: fields.kind ?? "events", value: "5", condition: "above" });
    }
    const kept = await bodyOf<{ values: RuleFormValues }>(await create(developer, { ...CHECKOUT, kind: "crash_free_users", window: "1h", platform: "ios", release: "2.0", endpointIds: [hook, pager] }));
    expect(kept.values).toMatchObject({ kind: "crash_free_users", window: "1h", platform: "ios", release: "2.0", endpointIds: [hook, pager], enabled: true });
    expect((await bodyOf<Listed>(await listPage(owner))).rules.map((r) => r.name)).not.toContain("Refused");
  });

  it("saves a rule with no endpoint when it is disabled", async () => {
    const id = await created(developer, { ...DRAFT, name: "Draft" });
    const draft = (await bodyOf<Listed>(await listPage(owner))).rules.find((r) => r.id === id);
    expect(draft).toMatchObject({ enabled: false, endpoints: [] });
    const enable = await act(developer, id, { intent: "enable" });
    expect(enable.status).toBe(400);
    expect(await bodyOf(enable)).toEqual({ error: "endpointIds: an enabled rule needs at least one webhook endpoint" });
  });
});

describe("one rule's page", () => {
  const minute = 60_000;
  it("shows the rule firing on its sixth event and resolving, and starting over when edited", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Checkout spike", endpointIds: hook });
    // Minutes already past, so the edit below comes after both evaluations.
    const now = Math.floor(Date.now() / minute) * minute - 2 * minute;
    // Six failures in the minute a rule evaluated at `now` reads: [now − 2 min, now − 1 min).
    const at = new Date(now - 90_000).toISOString();
    await writer.insert({
      table: "events",
      format: "JSONEachRow",
      values: Array.from({ length: 6 }, (_, i) => ({ app_id: APP, type: "track", event: "Checkout Failed", message_id: `cf-${i}`, anonymous_id: `u${i}`, timestamp: at, received_at: at })),
    });
    await evaluateAlerts({ db: h.db, client: writer }, now);
    const firing = await bodyOf<RulePage>(await rulePage(viewer, id));
    expect(firing.state).toMatchObject({ state: "firing", since: now, lastValue: "6" });
    expect(firing.history).toEqual([{ at: now, from: "ok", to: "firing", value: "6", threshold: "5", detail: "" }]);

    await evaluateAlerts({ db: h.db, client: writer }, now + minute);
    const resolved = await bodyOf<RulePage>(await rulePage(viewer, id));
    expect(resolved.state).toMatchObject({ state: "resolved", since: now + minute, lastValue: "0" });
    expect(resolved.history.map((e) => `${e.from}→${e.to}`)).toEqual(["firing→resolved", "ok→firing"]);

    // The edit form holds the rule as stored; raising the threshold changes the question.
    const form = (await bodyOf<RulePage>(await rulePage(developer, id))).form;
    expect(form).toMatchObject({ name: "Checkout spike", kind: "events", eventName: "Checkout Failed", window: "1m", condition: "above", value: "5", endpointIds: [hook] });
    const saved = await act(developer, id, { intent: "update", ...CHECKOUT, name: "Checkout spike", value: "10", endpointIds: hook });
    expect(saved.status).toBe(200);
    const edited = await bodyOf<RulePage>(await rulePage(viewer, id));
    expect(edited.rule.watches).toBe("events Checkout Failed, count over 1 min above 10");
    expect(edited.state).toMatchObject({ state: "ok", lastValue: null });
    expect(edited.history[0]).toMatchObject({ from: "resolved", to: "ok", detail: "rule changed: evaluation starts over", threshold: "10" });

    // A refused edit keeps what was typed and changes nothing.
    const refused = await act(developer, id, { intent: "update", ...CHECKOUT, name: "Checkout spike", kind: "pipeline", counter: "rejected", platform: "web", endpointIds: hook });
    expect(refused.status).toBe(400);
    expect(await bodyOf(refused)).toMatchObject({ error: "filter.platform: metric pipeline cannot be filtered by platform: it accepts no filter", values: { kind: "pipeline", platform: "web" } });
    expect((await bodyOf<RulePage>(await rulePage(viewer, id))).rule.watches).toBe("events Checkout Failed, count over 1 min above 10");
  });

  it("links to the view of what the rule watches", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Slow LCP", kind: "perf", perfName: "LCP", percentile: "p95", endpointIds: hook });
    expect((await bodyOf<RulePage>(await rulePage(viewer, id))).rule.view).toBe(`/apps/${APP}/performance/LCP`);
  });

  it("mutes for a chosen while and unmutes, in the list too", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Mutable", endpointIds: hook });
    const before = Date.now();
    const muted = await act(developer, id, { intent: "mute", for: "24h" });
    expect(muted.status).toBe(200);
    expect((await bodyOf<{ ok: string }>(muted)).ok).toMatch(/^Muted until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const until = (await bodyOf<RulePage>(await rulePage(viewer, id))).rule.mutedUntil ?? 0;
    expect(until).toBeGreaterThanOrEqual(before + 24 * 3_600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
    expect((await bodyOf<Listed>(await listPage(viewer))).rules.find((r) => r.id === id)?.mutedUntil).toBe(until);
    expect((await act(developer, id, { intent: "mute", for: "forever" })).status).toBe(400);

    expect((await act(owner, id, { intent: "unmute" })).status).toBe(200);
    expect((await bodyOf<RulePage>(await rulePage(viewer, id))).rule.mutedUntil).toBeNull();
  });

  it("disables and enables", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Toggled", endpointIds: hook });
    expect((await act(developer, id, { intent: "disable" })).status).toBe(200);
    expect((await bodyOf<RulePage>(await rulePage(viewer, id))).rule.enabled).toBe(false);
    expect((await act(developer, id, { intent: "enable" })).status).toBe(200);
    expect((await bodyOf<RulePage>(await rulePage(viewer, id))).rule.enabled).toBe(true);
  });

  it("sends a test to the rule's endpoints, or says why it cannot", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Testable", endpointIds: [hook, pager] });
    const queued = h.webhookMessages.length;
    const sent = await act(developer, id, { intent: "test" });
    expect(sent.status).toBe(200);
    expect((await bodyOf<{ ok: string }>(sent)).ok).toMatch(/^Test sent to 2 endpoints/);
    expect(h.webhookMessages.length).toBe(queued + 2);

    const draft = await created(developer, { ...DRAFT, name: "Nowhere" });
    const refused = await act(developer, draft, { intent: "test" });
    expect(refused.status).toBe(409);
    expect(await bodyOf(refused)).toEqual({ error: "No test sent: the rule sends to no webhook endpoint: add one first" });
  });

  it("pages the history, newest first", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Long history", endpointIds: hook });
    const base = Date.UTC(2026, 10, 1);
    const insert = h.db.prepare(
      "INSERT INTO alert_rule_history (rule_id, app_id, at, from_state, to_state, value, threshold, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 5, '')",
    );
    await h.db.batch(Array.from({ length: 60 }, (_, i) => insert.bind(id, APP, base + i * 60_000, i % 2 === 0 ? "ok" : "firing", i % 2 === 0 ? "firing" : "resolved", i)));
    const first = await bodyOf<RulePage>(await rulePage(viewer, id));
    expect(first.history).toHaveLength(50);
    expect(first.history[0]).toMatchObject({ at: base + 59 * 60_000, value: "59" });
    expect(first.next).toBe(String(base + 10 * 60_000));
    const second = await bodyOf<RulePage>(await rulePage(viewer, id, APP, `?before=${first.next ?? ""}`));
    expect(second.history.map((e) => e.value)).toEqual(["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
    expect(second.next).toBeNull();
  });

  it("deletes a rule, which is then gone from the list and its page", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Doomed", endpointIds: hook });
    const res = await act(owner, id, { intent: "delete" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`/apps/${APP}/alerts`);
    expect((await rulePage(viewer, id)).status).toBe(404);
    expect((await bodyOf<Listed>(await listPage(viewer))).rules.map((r) => r.id)).not.toContain(id);
    expect((await act(owner, id, { intent: "delete" })).status).toBe(404);
  });
});

describe("boundaries", () => {
  it("answers 404 for a rule of another app or another organisation, on read and on write", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Ours", endpointIds: hook });
    // Another app of the same organisation does not have it.
    expect((await rulePage(owner, id, "app_admin")).status).toBe(404);
    expect((await act(owner, id, { intent: "mute", for: "1h" }, "app_admin")).status).toBe(404);
    // Another organisation sees neither the app nor the rule.
    expect((await rulePage(outsider, id)).status).toBe(404);
    expect((await listPage(outsider)).status).toBe(404);
    for (const form of [{ intent: "mute", for: "1h" }, { intent: "test" }, { intent: "delete" }, { intent: "update", ...CHECKOUT, endpointIds: foreignHook }] as Form[]) {
      expect((await act(outsider, id, form)).status).toBe(404);
    }
    expect((await create(outsider, { ...CHECKOUT, endpointIds: foreignHook })).status).toBe(404);
    const ours = await bodyOf<RulePage>(await rulePage(viewer, id));
    expect(ours.rule).toMatchObject({ name: "Ours", mutedUntil: null });
  });

  it("lets a viewer read the rules but not change them", async () => {
    const id = await created(developer, { ...CHECKOUT, name: "Watched", endpointIds: hook });
    expect((await listPage(viewer)).status).toBe(200);
    const shown = await bodyOf<RulePage>(await rulePage(viewer, id));
    expect(shown.form).toBeNull();
    expect((await create(viewer, { ...CHECKOUT, endpointIds: hook })).status).toBe(403);
    for (const form of [{ intent: "mute", for: "1h" }, { intent: "disable" }, { intent: "test" }, { intent: "delete" }] as Form[]) {
      expect((await act(viewer, id, form)).status).toBe(403);
    }
    expect((await bodyOf<RulePage>(await rulePage(viewer, id))).rule).toMatchObject({ enabled: true, mutedUntil: null });
  });
});
