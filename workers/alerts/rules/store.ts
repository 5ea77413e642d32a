// Alert rules in D1: the one place that creates, reads, changes and deletes them, for the admin
// API and the dashboard. Every call names an app scope (workers/apps/store.ts), so no call
// reaches another organisation's app. A rule sends only to endpoints of its app's organisation.
import { AlertRuleSchema, type AlertRule, type AlertRuleInput, type AlertState } from "../../../schemas";
import { appOrgId, type AppScope } from "../../apps/store";
import { randomHex } from "../../apps/keys";

/** Rules an app may have: each costs a ClickHouse read a minute, batched per app. */
export const MAX_RULES_PER_APP = 200;

/** A rule with where it stands: `state.lastEvaluatedAt` null until the cron first evaluated it. */
export interface AlertRuleInfo {
  id: string;
  appId: string;
  name: string;
  rule: AlertRule;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  state: { state: AlertState; since: number | null; lastValue: number | null; lastEvaluatedAt: number | null; lastFiredAt: number | null };
}

/** One transition of a rule: `{at, from: "ok", to: "firing", value: 6, threshold: 5, detail: ""}`. */
export interface AlertHistoryEntry {
  at: number;
  from: AlertState;
  to: AlertState;
  value: number | null;
  threshold: number;
  detail: string;
}

/** A change that happened, or why it was refused, in words for people. */
export type RuleChange = { ok: true; rule: AlertRuleInfo } | { ok: false; reason: string };

interface RuleRow {
  id: string;
  app_id: string;
  name: string;
  definition: string;
  enabled: number;
  muted_until: number | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  state: AlertState | null;
  since: number | null;
  last_value: number | null;
  last_evaluated_at: number | null;
  last_fired_at: number | null;
}

const SELECT_RULES = `SELECT r.id, r.app_id, r.name, r.definition, r.enabled, r.muted_until, r.created_at, r.created_by, r.updated_at,
    s.state, s.since, s.last_value, s.last_evaluated_at, s.last_fired_at
  FROM alert_rules r LEFT JOIN alert_rule_states s ON s.rule_id = r.id`;

/** The first problem of a rule as one line: `condition.value: condition.value must be a number`. */
function problem(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const first = issues[0];
  if (!first) return "invalid rule";
  const at = first.path.map(String).join(".");
  return at === "" || first.message.startsWith(at) ? first.message : `${at}: ${first.message}`;
}

// A stored definition that no longer parses (a schema tightened since) still lists, disabled in
// effect: the cron reports it, and saving the rule again shows what to fix.
function toInfo(r: RuleRow): AlertRuleInfo {
  let definition: unknown = {};
  try {
    definition = JSON.parse(r.definition);
  } catch {
    // listed with the defaults below
  }
  const parsed = AlertRuleSchema.safeParse(definition);
  const rule: AlertRule = parsed.success
    ? { ...parsed.data, name: r.name, enabled: r.enabled === 1, mutedUntil: r.muted_until }
    : {
        name: r.name,
        metric: { kind: "events" },
        filter: {},
        window: 1,
        condition: { type: "threshold", direction: "above", value: 0 },
        minEvents: 0,
        cooldownMinutes: 30,
        resolveAfter: 1,
        mutedUntil: r.muted_until,
        enabled: false,
        endpointIds: [],
      };
  return {
    id: r.id,
    appId: r.app_id,
    name: r.name,
    rule,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
    state: { state: r.state ?? "ok", since: r.since, lastValue: r.last_value, lastEvaluatedAt: r.last_evaluated_at, lastFiredAt: r.last_fired_at },
  };
}

/** Why `endpointIds` cannot be used by a rule of an app in `orgId`, or null when they can. */
async function endpointProblem(db: D1Database, orgId: string | null, endpointIds: readonly string[]): Promise<string | null> {
  if (endpointIds.length === 0) return null;
  if (orgId === null) return "this app belongs to no organisation yet, and webhook endpoints belong to organisations: a rule of it cannot send anywhere";
  const rs = await db
    .prepare(`SELECT id FROM webhook_endpoints WHERE org_id = ?1 AND id IN (SELECT value FROM json_each(?2))`)
    .bind(orgId, JSON.stringify(endpointIds))
    .all<{ id: string }>();
  const known = new Set(rs.results.map((r) => r.id));
  const unknown = endpointIds.filter((id) => !known.has(id));
  return unknown.length > 0 ? `no webhook endpoint ${unknown.map((id) => id.slice(0, 64)).join(", ")} in the app's organisation` : null;
}

/** The scope's app's rules, oldest first; null when the scope has no such app. */
export async function listRules(db: D1Database, scope: AppScope, appId: string): Promise<AlertRuleInfo[] | null> {
  if ((await appOrgId(db, scope, appId)) === undefined) return null;
  const rs = await db.prepare(`${SELECT_RULES} WHERE r.app_id = ?1 ORDER BY r.created_at, r.id`).bind(appId).all<RuleRow>();
  return rs.results.map(toInfo);
}

/** One rule of the scope's app, or null. */
export async function getRule(db: D1Database, scope: AppScope, appId: string, ruleId: string): Promise<AlertRuleInfo | null> {
  if ((await appOrgId(db, scope, appId)) === undefined) return null;
  const row = await db.prepare(`${SELECT_RULES} WHERE r.app_id = ?1 AND r.id = ?2`).bind(appId, ruleId).first<RuleRow>();
  return row ? toInfo(row) : null;
}

/** Creates a rule from `input` (the AlertRuleSchema shape); null when the scope has no such app. */
export async function createRule(db: D1Database, scope: AppScope, appId: string, input: unknown, opts: { createdBy?: string; now?: number } = {}): Promise<RuleChange | null> {
  const orgId = await appOrgId(db, scope, appId);
  if (orgId === undefined) return null;
  const parsed = AlertRuleSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: problem(parsed.error.issues) };
  const rule = parsed.data;
  const refused = await endpointProblem(db, orgId, rule.endpointIds);
  if (refused !== null) return { ok: false, reason: refused };
  const now = opts.now ?? Date.now();
  const id = `rule_${randomHex(8)}`;
  // The count and the insert are one statement, so two concurrent creations cannot pass the cap together.
  const r = await db
    .prepare(
      `INSERT INTO alert_rules (id, app_id, name, definition, enabled, muted_until, created_at, created_by, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7 WHERE (SELECT count(*) FROM alert_rules WHERE app_id = ?2) < ?9`,
    )
    .bind(id, appId, rule.name, JSON.stringify(rule), rule.enabled ? 1 : 0, rule.mutedUntil, now, opts.createdBy ?? "", MAX_RULES_PER_APP)
    .run();
  if (r.meta.changes === 0) return { ok: false, reason: `an app has at most ${MAX_RULES_PER_APP} alert rules: delete one first` };
  const stored = await getRule(db, scope, appId, id);
  if (!stored) throw new Error(`alert rule ${id} was not stored`);
  return { ok: true, rule: stored };
}

// What a rule measures and when it holds: changing any of these starts its state over.
const MEASURED: ReadonlyArray<keyof AlertRule> = ["metric", "filter", "window", "condition", "minEvents"];

/**
 * Changes a rule: `patch` holds any fields of AlertRuleSchema, the rest stay. Changing what it
 * measures or when it holds (metric, filter, window, condition, minEvents) starts it over at `ok`,
 * with a history row saying so: the old state said nothing about the new question. null when
 * the scope's app has no such rule.
 */
export async function updateRule(
  db: D1Database,
  scope: AppScope,
  appId: string,
  ruleId: string,
  patch: Partial<AlertRuleInput> | Readonly<Record<string, unknown>>,
  opts: { now?: number } = {},
): Promise<RuleChange | null> {
  const orgId = await appOrgId(db, scope, appId);
  if (orgId === undefined) return null;
  const current = await getRule(db, scope, appId, ruleId);
  if (!current) return null;
  const parsed = AlertRuleSchema.safeParse({ ...current.rule, ...patch });
  if (!parsed.success) return { ok: false, reason: problem(parsed.error.issues) };
  const rule = parsed.data;
  const added = rule.endpointIds.filter((id) => !current.rule.endpointIds.includes(id));
  const refused = await endpointProblem(db, orgId, added);
  if (refused !== null) return { ok: false, reason: refused };
  const now = opts.now ?? Date.now();
  const restarts = MEASURED.some((k) => JSON.stringify(rule[k]) !== JSON.stringify(current.rule[k])) && current.state.lastEvaluatedAt !== null;
  const statements = [
    db
      .prepare(`UPDATE alert_rules SET name = ?3, definition = ?4, enabled = ?5, muted_until = ?6, updated_at = ?7 WHERE app_id = ?1 AND id = ?2`)
      .bind(appId, ruleId, rule.name, JSON.stringify(rule), rule.enabled ? 1 : 0, rule.mutedUntil, now),
  ];
  if (restarts) {
    statements.push(
      db.prepare(`DELETE FROM alert_rule_states WHERE app_id = ?1 AND rule_id = ?2`).bind(appId, ruleId),
      db
        .prepare(
          `INSERT OR IGNORE INTO alert_rule_history (rule_id, app_id, at, from_state, to_state, value, threshold, detail) VALUES (?1, ?2, ?3, ?4, 'ok', NULL, ?5, 'rule changed: evaluation starts over')`,
        )
        .bind(ruleId, appId, now, current.state.state, rule.condition.value),
    );
  }
  await db.batch(statements);
  const stored = await getRule(db, scope, appId, ruleId);
  return stored ? { ok: true, rule: stored } : null;
}

/** Deletes a rule with its state and history; its deliveries stay in the endpoints' logs. false when the scope's app has no such rule. */
export async function deleteRule(db: D1Database, scope: AppScope, appId: string, ruleId: string): Promise<boolean> {
  if ((await appOrgId(db, scope, appId)) === undefined) return false;
  const r = await db.prepare(`DELETE FROM alert_rules WHERE app_id = ?1 AND id = ?2`).bind(appId, ruleId).run();
  return r.meta.changes > 0;
}

/** A rule's transitions, newest first, `limit` of them from before `before` (ms); null when the scope's app has no such rule. */
export async function ruleHistory(
  db: D1Database,
  scope: AppScope,
  appId: string,
  ruleId: string,
  page: { limit?: number; before?: number } = {},
): Promise<AlertHistoryEntry[] | null> {
  if (!(await getRule(db, scope, appId, ruleId))) return null;
  const limit = Math.min(Math.max(page.limit ?? 100, 1), 500);
  const rs = await db
    .prepare(
      `SELECT at, from_state, to_state, value, threshold, detail FROM alert_rule_history
       WHERE app_id = ?1 AND rule_id = ?2 AND at < ?3 ORDER BY at DESC LIMIT ?4`,
    )
    .bind(appId, ruleId, page.before ?? Number.MAX_SAFE_INTEGER, limit)
    .all<{ at: number; from_state: AlertState; to_state: AlertState; value: number | null; threshold: number; detail: string }>();
  return rs.results.map((r) => ({ at: r.at, from: r.from_state, to: r.to_state, value: r.value, threshold: r.threshold, detail: r.detail }));
}
