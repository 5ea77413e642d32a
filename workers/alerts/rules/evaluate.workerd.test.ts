// Alert evaluation against the real local ClickHouse and D1: every metric kind measured on
// inserted fixtures with hand-worked values, the checkout rule firing on its sixth event in a
// minute and resolving once the window is clear, a retried minute firing nothing twice, and a
// hundred rules of an app costing a query per source.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chHeaders } from "../../../test/seed";
import { AlertRuleSchema, config, type AlertRuleInput } from "../../../schemas";
import { createApp, OPERATOR } from "../../apps/store";
import { clickhouseClient } from "../../lib/clickhouse";
import { measureRules } from "./evaluate";
import { evaluateAlerts, testAlert } from "./run";
import type { RuleRef } from "./state";

const MIN = 60_000;
// Every fixture sits in the past hour, at whole minutes from M; rules are evaluated at minutes after M.
const M = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
const at = (minutes: number, seconds = 0): number => M + minutes * MIN + seconds * 1000;
const iso = (ms: number): string => new Date(ms).toISOString();
let seq = 0;

type Row = Record<string, string | number>;

async function insert(table: string, rows: Row[]): Promise<void> {
  const url = new URL(env.CLICKHOUSE_DIRECT_URL);
  url.searchParams.set("query", `INSERT INTO ${table} FORMAT JSONEachRow`);
  url.searchParams.set("date_time_input_format", "best_effort");
  const res = await fetch(url, { method: "POST", headers: chHeaders(), body: rows.map((r) => JSON.stringify(r)).join("\n") });
  if (!res.ok) throw new Error(await res.text());
}

const event = (app: string, ms: number, fields: Row = {}): Row => ({
  app_id: app,
  type: "track",
  event: "Opened",
  message_id: `m${++seq}`,
  anonymous_id: "anon",
  timestamp: iso(ms),
  received_at: iso(ms),
  ...fields,
});

const call = (app: string, ms: number, status: number, duration: number, path = "/checkout", method = "POST", outcome = ""): Row =>
  event(app, ms, { type: "network", event: "", net_method: method, net_host: "api.example.com", net_path: path, net_status: status, duration_ms: duration, net_outcome: outcome });

async function newApp(): Promise<string> {
  const id = `app_al_${crypto.randomUUID().slice(0, 8)}`;
  expect(await createApp(env.DB, OPERATOR, { id, name: id, rateLimit: 0, shardCount: 1 })).not.toBe("unavailable");
  return id;
}

const base = { name: "rule", window: "5m", condition: { type: "threshold", direction: "above", value: 0 }, endpointIds: ["wh_1"], cooldownMinutes: 0 } as const;

function ref(app: string, input: Partial<AlertRuleInput>): RuleRef {
  const rule = AlertRuleSchema.parse({ ...base, ...input });
  return { id: `r${++seq}`, appId: app, name: rule.name, rule };
}

async function addRule(app: string, input: Partial<AlertRuleInput>): Promise<string> {
  const rule = AlertRuleSchema.parse({ ...base, ...input });
  const id = `rule_${++seq}`;
  const { enabled, mutedUntil, ...definition } = rule;
  await env.DB.prepare("INSERT INTO alert_rules (id, app_id, name, definition, enabled, muted_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(id, app, rule.name, JSON.stringify({ ...definition, enabled }), enabled ? 1 : 0, mutedUntil, M, M)
    .run();
  return id;
}

let queries = 0;
function client(): ClickHouseClient {
  const c = clickhouseClient({ ...config(env).clickhouse, url: env.CLICKHOUSE_DIRECT_URL });
  const query = c.query.bind(c);
  c.query = ((params: Parameters<ClickHouseClient["query"]>[0]) => {
    queries++;
    return query(params);
  }) as ClickHouseClient["query"];
  return c;
}

const deps = () => ({ db: env.DB, client: client() });
// Evaluated at minute 11: a 5-minute window is [M+5, M+10), the minute before 11 left to settle.
const E = at(11);

async function measure(app: string, input: Partial<AlertRuleInput>, now = E) {
  const [m] = await measureRules(deps(), app, [ref(app, input)], now);
  return m;
}

describe("every metric kind, measured over its window", () => {
  it("events: by name through the minute rollup, by type, and with release and property filters from raw events", async () => {
    const app = await newApp();
    await insert("events", [
      event(app, at(4, 59), { event: "Checkout Failed" }), // before the window
      event(app, at(5), { event: "Checkout Failed", app_version: "2.0", properties: JSON.stringify({ plan: "pro", seats: 3 }) }),
      event(app, at(7), { event: "Checkout Failed", app_version: "2.0", properties: JSON.stringify({ plan: "pro", seats: 5 }) }),
      event(app, at(8), { event: "Checkout Failed", app_version: "2.0", properties: JSON.stringify({ plan: "free" }) }),
      event(app, at(9, 59), { event: "Checkout Failed", app_version: "1.0", properties: JSON.stringify({ plan: "pro" }) }),
      event(app, at(10), { event: "Checkout Failed" }), // the settling minute is read at the next evaluation
      event(app, at(6), { type: "screen", event: "Home" }),
    ]);
    expect(await measure(app, { metric: { kind: "events", name: "Checkout Failed" } })).toMatchObject({ value: 4 });
    expect(await measure(app, { metric: { kind: "events", type: "screen" } })).toMatchObject({ value: 1 });
    expect(await measure(app, { metric: { kind: "events" } })).toMatchObject({ value: 5 });
    expect(await measure(app, { metric: { kind: "events", name: "Checkout Failed" }, filter: { release: "2.0" } })).toMatchObject({ value: 3 });
    expect(await measure(app, { metric: { kind: "events", name: "Checkout Failed" }, filter: { property: { key: "plan", value: "pro" } } })).toMatchObject({ value: 3 });
    expect(await measure(app, { metric: { kind: "events" }, filter: { property: { key: "seats", value: "5" } } })).toMatchObject({ value: 1 });
  });

  it("users: each user or anonymous id once, filtered by platform and by an event they sent", async () => {
    const app = await newApp();
    await insert("events", [
      event(app, at(5), { user_id: "u1", platform: "ios" }),
      event(app, at(6), { user_id: "u1", platform: "ios", event: "Checkout Failed" }),
      event(app, at(6), { user_id: "u2", platform: "android", event: "Checkout Failed" }),
      event(app, at(7), { anonymous_id: "a3", platform: "ios" }),
      event(app, at(2), { user_id: "u4", platform: "ios" }), // before the window
    ]);
    expect(await measure(app, { metric: { kind: "users" } })).toMatchObject({ value: 3 });
    expect(await measure(app, { metric: { kind: "users" }, filter: { platform: "ios" } })).toMatchObject({ value: 2 });
    expect(await measure(app, { metric: { kind: "users" }, filter: { event: "Checkout Failed" } })).toMatchObject({ value: 2 });
  });

  it("crashes: counted in the window, and by release", async () => {
    const app = await newApp();
    const crash = (ms: number, release: string): Row => event(app, ms, { type: "crash", event: "", crash_type: "Error", crash_fingerprint: "fp", crash_fatal: 1, app_version: release });
    await insert("events", [crash(at(5), "1.0"), crash(at(6), "1.0"), crash(at(8), "2.0"), crash(at(9), "2.0"), crash(at(1), "2.0"), event(app, at(6))]);
    expect(await measure(app, { metric: { kind: "crashes" } })).toMatchObject({ value: 4 });
    expect(await measure(app, { metric: { kind: "crashes" }, filter: { release: "2.0" } })).toMatchObject({ value: 2 });
  });

  it("new issue: only issues whose first crash ever falls in the window", async () => {
    const app = await newApp();
    const crash = (ms: number, fp: string): Row => event(app, ms, { type: "crash", event: "", crash_type: "Error", crash_fingerprint: fp, crash_fatal: 1 });
    await insert("events", [crash(at(-30), "fp_old"), crash(at(6), "fp_old"), crash(at(6), "fp_new"), crash(at(7), "fp_new"), crash(at(9), "fp_new2"), crash(at(11), "fp_later")]);
    expect(await measure(app, { metric: { kind: "new_issue" } })).toMatchObject({ value: 2 });
  });

  it("regressed issue: issues whose state became regressed in the window, from the issue history", async () => {
    const app = await newApp();
    const history = (fp: string, status: string, ms: number) =>
      env.DB.prepare("INSERT INTO crash_issue_history (app_id, fingerprint, status, detail, at, by) VALUES (?, ?, ?, '', ?, 'edge')").bind(app, fp, status, ms).run();
    await history("fp1", "regressed", at(5));
    await history("fp2", "regressed", at(9, 59));
    await history("fp3", "regressed", at(4));
    await history("fp4", "resolved", at(6));
    await history("fp5", "regressed", at(10));
    expect(await measure(app, { metric: { kind: "regressed_issue" } })).toMatchObject({ value: 2 });
  });

  it("crash-free users and sessions: the share without a fatal crash over the last whole hours, in percent, as the releases page counts them", async () => {
    const app = await newApp();
    const HOUR = 60 * MIN;
    const H = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const t = (minutes: number): number => H + minutes * MIN;
    const fatal = { type: "crash", event: "", crash_fatal: 1, crash_fingerprint: "fp" };
    await insert("events", [
      event(app, t(5), { user_id: "u1", session_id: "s1", app_version: "1.0" }),
      event(app, t(5), { user_id: "u2", session_id: "s2", app_version: "1.0" }),
      event(app, t(6), { user_id: "u2", session_id: "s2", app_version: "1.0", ...fatal }),
      event(app, t(6), { user_id: "u3", session_id: "s3", app_version: "1.0", ...fatal, crash_fatal: 0 }),
      event(app, t(7), { user_id: "u4", session_id: "s4", app_version: "2.0" }),
      event(app, t(59), { user_id: "u4", session_id: "s5", app_version: "2.0" }),
      event(app, t(-5), { user_id: "u9", session_id: "s9", app_version: "2.0", ...fatal }), // the hour before
      event(app, t(61), { user_id: "u8", session_id: "s8", app_version: "2.0", ...fatal }), // the hour after
    ]);
    // Evaluated at 00:01 of the next hour: the window is the hour that just ended.
    const now = t(61);
    expect(await measure(app, { metric: { kind: "crash_free_users" }, window: "1h" }, now)).toMatchObject({ value: 75, samples: 4 });
    expect(await measure(app, { metric: { kind: "crash_free_sessions" }, window: "1h" }, now)).toMatchObject({ value: 80, samples: 5 });
    expect(await measure(app, { metric: { kind: "crash_free_users" }, window: "1h", filter: { release: "1.0" } }, now)).toMatchObject({ value: expect.closeTo((2 / 3) * 100, 6), samples: 3 });
    // Two hours back, the crash of the hour before counts as well: 5 users, 2 crashed.
    expect(await measure(app, { metric: { kind: "crash_free_users" }, window: 120 }, now)).toMatchObject({ value: 60, samples: 5 });
    // Until the hour's settling minute has passed, the hour before is still the window.
    expect(await measure(app, { metric: { kind: "crash_free_users" }, window: "1h" }, t(60))).toMatchObject({ value: 0, samples: 1 });
  });

  it("network error rate: calls that were not ok, in percent, for the app and for one endpoint", async () => {
    const app = await newApp();
    await insert("events", [
      call(app, at(5), 200, 10),
      call(app, at(5), 500, 10),
      call(app, at(6), 404, 10, "/cart", "GET"),
      call(app, at(6), 0, 10, "/cart", "GET"),
      call(app, at(7), 200, 10, "/cart", "GET"),
      call(app, at(7), 200, 10, "/cart", "GET", "timeout"),
      call(app, at(8), 200, 10, "/cart", "GET"),
      call(app, at(8), 200, 10, "/cart", "GET"),
      call(app, at(9), 200, 10),
      call(app, at(9), 200, 10),
      call(app, at(1), 500, 10), // before the window
    ]);
    expect(await measure(app, { metric: { kind: "network_error_rate" } })).toMatchObject({ value: 40, samples: 10 });
    expect(await measure(app, { metric: { kind: "network_error_rate", endpoint: { method: "post", host: "api.example.com", template: "/checkout" } } })).toMatchObject({ value: 25, samples: 4 });
  });

  it("network latency and a perf metric: the percentile of the window's samples", async () => {
    const app = await newApp();
    // Neighbouring values within 1 % of each other, so the rank convention does not matter.
    const durations = Array.from({ length: 20 }, (_, i) => 1000 + i);
    await insert("events", [
      ...durations.map((d, i) => call(app, at(5 + (i % 5)), 200, d)),
      call(app, at(2), 200, 90_000), // before the window
      ...Array.from({ length: 11 }, (_, i) => event(app, at(6), { type: "perf", event: "", perf_metric: "LCP", perf_value: 2000 + i, perf_unit: "ms" })),
      event(app, at(6), { type: "perf", event: "", perf_metric: "INP", perf_value: 50_000 }),
    ]);
    const p95 = await measure(app, { metric: { kind: "network_latency", percentile: "p95" } });
    // Nearest rank: ceil(0.95 × 20) = 19th of 1000…1019.
    expect(p95?.samples).toBe(20);
    expect(Math.abs((p95?.value ?? 0) - 1018) / 1018).toBeLessThan(0.01);
    const p50 = await measure(app, { metric: { kind: "network_latency", percentile: "p50" } });
    expect(Math.abs((p50?.value ?? 0) - 1009) / 1009).toBeLessThan(0.01);
    const lcp = await measure(app, { metric: { kind: "perf", name: "LCP", percentile: "p50" } });
    // ceil(0.5 × 11) = 6th of 2000…2010.
    expect(lcp?.samples).toBe(11);
    expect(Math.abs((lcp?.value ?? 0) - 2005) / 2005).toBeLessThan(0.01);
    expect(await measure(app, { metric: { kind: "perf", name: "CLS", percentile: "p95" } })).toMatchObject({ value: null, samples: 0 });
  });

  it("pipeline counters: rejected, dead-lettered and capped events, and the p95 lag from edge to storage", async () => {
    const app = await newApp();
    const tally = (ms: number, stage: string, n: number): Row => ({ app_id: app, minute: iso(ms), stage, reason: "r", n });
    await insert("pipeline_minutely", [tally(at(5), "rejected", 3), tally(at(8), "rejected", 4), tally(at(1), "rejected", 100), tally(at(6), "dead_lettered", 2), tally(at(9), "capped", 7), tally(at(7), "accepted", 50)]);
    await insert(
      "events",
      Array.from({ length: 20 }, (_, i) => ({ ...event(app, at(6) - 2000), received_at: iso(at(6) - 2000), inserted_at: iso(at(6) + (i < 19 ? 0 : 8000)) })),
    );
    expect(await measure(app, { metric: { kind: "pipeline", counter: "rejected" } })).toMatchObject({ value: 7 });
    expect(await measure(app, { metric: { kind: "pipeline", counter: "dead_lettered" } })).toMatchObject({ value: 2 });
    expect(await measure(app, { metric: { kind: "pipeline", counter: "capped" } })).toMatchObject({ value: 7 });
    const lag = await measure(app, { metric: { kind: "pipeline", counter: "lag_p95" } });
    // 19 rows 2 s late and one 10 s late: the 95th percentile is 2 s.
    expect(Math.abs((lag?.value ?? 0) - 2000) / 2000).toBeLessThan(0.01);
  });

  it("a change is measured against the previous window and against the same window a week before", async () => {
    const app = await newApp();
    const week = 7 * 24 * 60 * MIN;
    const n = (count: number, ms: number): Row[] => Array.from({ length: count }, () => event(app, ms, { event: "Signed Up" }));
    await insert("events", [...n(6, at(7)), ...n(3, at(2)), ...n(2, at(7) - week)]);
    const metric = { kind: "events", name: "Signed Up" } as const;
    expect(await measure(app, { metric, condition: { type: "change_pct", direction: "above", value: 50, against: "previous" } })).toMatchObject({ value: 6, baseline: 3 });
    expect(await measure(app, { metric, condition: { type: "change_pct", direction: "above", value: 50, against: "week_before" } })).toMatchObject({ value: 6, baseline: 2 });
  });
});

describe("the minute's evaluation", () => {
  const checkout = { name: "Checkout failures", metric: { kind: "events", name: "Checkout Failed" }, window: "1m", condition: { type: "threshold", direction: "above", value: 5 } } as const;
  const mine = (app: string, run: Awaited<ReturnType<typeof evaluateAlerts>>) => run.intents.filter((i) => i.rule.appId === app);

  it("more than 5 Checkout Failed in 1 minute fires on the sixth event, once however often the minute is retried, and resolves once the window is clear", async () => {
    const app = await newApp();
    const rule = await addRule(app, checkout);
    const failed = (count: number, minute: number): Row[] => Array.from({ length: count }, (_, i) => event(app, at(minute, i), { event: "Checkout Failed" }));
    await insert("events", [...failed(5, 20), ...failed(5, 21), event(app, at(21, 30), { event: "Checkout Succeeded" })]);

    expect(mine(app, await evaluateAlerts(deps(), at(22, 5)))).toEqual([]);
    await insert("events", [event(app, at(21, 40), { event: "Checkout Failed" })]);
    // Two crons for the same minute at once, then a third retry: one notification between them.
    const runs = await Promise.all([evaluateAlerts(deps(), at(23, 1)), evaluateAlerts(deps(), at(23, 7))]);
    const retry = await evaluateAlerts(deps(), at(23, 50));
    const fired = [...runs.flatMap((r) => mine(app, r)), ...mine(app, retry)];
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ type: "firing", value: 6, threshold: 5, at: at(23), rule: { id: rule, appId: app, name: "Checkout failures", window: 1, endpointIds: ["wh_1"] } });

    expect(mine(app, await evaluateAlerts(deps(), at(24)))).toMatchObject([{ type: "resolved", value: 0, threshold: 5 }]);
    expect(mine(app, await evaluateAlerts(deps(), at(25)))).toEqual([]);

    const state = await env.DB.prepare("SELECT state, since, last_value, last_evaluated_at FROM alert_rule_states WHERE rule_id = ?").bind(rule).first();
    expect(state).toEqual({ state: "resolved", since: at(24), last_value: 0, last_evaluated_at: at(25) });
    const history = await env.DB.prepare("SELECT at, from_state, to_state, value, threshold FROM alert_rule_history WHERE app_id = ? ORDER BY at").bind(app).all();
    expect(history.results).toEqual([
      { at: at(23), from_state: "ok", to_state: "firing", value: 6, threshold: 5 },
      { at: at(24), from_state: "firing", to_state: "resolved", value: 0, threshold: 5 },
    ]);
  });

  it("muted and disabled rules notify nobody; a muted one still keeps its state", async () => {
    const app = await newApp();
    const muted = await addRule(app, { ...checkout, mutedUntil: at(60) });
    await addRule(app, { ...checkout, enabled: false, endpointIds: [] });
    await insert("events", Array.from({ length: 8 }, (_, i) => event(app, at(30, i), { event: "Checkout Failed" })));
    expect(mine(app, await evaluateAlerts(deps(), at(32)))).toEqual([]);
    const state = await env.DB.prepare("SELECT state FROM alert_rule_states WHERE rule_id = ?").bind(muted).first<{ state: string }>();
    expect(state?.state).toBe("firing");
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM alert_rule_states WHERE app_id = ?").bind(app).first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it("a rule whose definition no longer parses is reported, and the app's other rules and other apps are still evaluated; a deleted app's rules are not", async () => {
    const app = await newApp();
    const gone = await newApp();
    const good = await addRule(app, checkout);
    await addRule(gone, checkout);
    await env.DB.prepare("INSERT INTO alert_rules (id, app_id, name, definition, enabled, created_at, updated_at) VALUES ('rule_broken', ?, 'broken', '{\"name\":1}', 1, 0, 0)").bind(app).run();
    await env.DB.prepare("UPDATE apps SET deleted_at = ? WHERE id = ?").bind(M, gone).run();
    await insert("events", [app, gone].flatMap((a) => Array.from({ length: 6 }, (_, i) => event(a, at(50, i), { event: "Checkout Failed" }))));
    const run = await evaluateAlerts(deps(), at(52));
    expect(mine(app, run).map((i) => i.rule.id)).toEqual([good]);
    expect(mine(gone, run)).toEqual([]);
    expect(run.failed.filter((f) => f.appId === app)).toMatchObject([{ ruleId: "rule_broken", error: expect.stringContaining("name must be a string") }]);
  });

  it("a rule's test is a sample notification with the window's value that changes no state, and only for the rule's own app", async () => {
    const app = await newApp();
    const other = await newApp();
    const rule = await addRule(app, checkout);
    await insert("events", Array.from({ length: 2 }, (_, i) => event(app, at(45, i), { event: "Checkout Failed" })));
    expect(await testAlert(deps(), app, rule, at(47, 30))).toMatchObject({ type: "alert.test", value: 2, threshold: 5, at: at(47), rule: { id: rule, appId: app } });
    expect(await testAlert(deps(), other, rule, at(46))).toBeNull();
    const state = await env.DB.prepare("SELECT COUNT(*) AS n FROM alert_rule_states WHERE rule_id = ?").bind(rule).first<{ n: number }>();
    expect(state?.n).toBe(0);
  });

  it("a rate below minEvents samples does not fire, and fires once it has them", async () => {
    const app = await newApp();
    await addRule(app, { name: "errors", metric: { kind: "network_error_rate" }, window: "1m", minEvents: 4, condition: { type: "threshold", direction: "above", value: 50 } });
    await insert("events", [call(app, at(40), 500, 1), call(app, at(40), 500, 1), call(app, at(40), 200, 1)]);
    expect(mine(app, await evaluateAlerts(deps(), at(42)))).toEqual([]);
    await insert("events", [call(app, at(41), 500, 1), call(app, at(41), 500, 1), call(app, at(41), 500, 1), call(app, at(41), 200, 1)]);
    expect(mine(app, await evaluateAlerts(deps(), at(43)))).toMatchObject([{ type: "firing", value: 75 }]);
  });

  it("a hundred rules of an app cost one query per source, not one per rule", async () => {
    const app = await newApp();
    const kinds: Array<Partial<AlertRuleInput>> = [
      { metric: { kind: "events", name: "Checkout Failed" } },
      { metric: { kind: "crashes" }, filter: { platform: "ios" } },
      { metric: { kind: "users" } },
      { metric: { kind: "crash_free_users" }, window: "1h" },
      { metric: { kind: "network_latency", percentile: "p99" } },
      { metric: { kind: "perf", name: "LCP", percentile: "p95" } },
      { metric: { kind: "pipeline", counter: "rejected" } },
      { metric: { kind: "pipeline", counter: "lag_p95" } },
      { metric: { kind: "events" }, condition: { type: "change_pct", direction: "above", value: 100, against: "week_before" } },
      { metric: { kind: "regressed_issue" } },
    ];
    const refs = Array.from({ length: 100 }, (_, i) => ref(app, { window: (i % 60) + 1, ...kinds[i % kinds.length] }));
    queries = 0;
    const measured = await measureRules(deps(), app, refs, E);
    expect(measured).toHaveLength(100);
    // Minute rollup, raw events, release health, pipeline counters, pipeline lag (regressions are read from D1).
    expect(queries).toBe(5);
  });
});
