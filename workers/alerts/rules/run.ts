import type { ClickHouseClient } from "@clickhouse/client-web";
import { AlertRuleSchema, type AlertState } from "../../../schemas";
import { measureRules } from "./evaluate";
import { initialState, observedValue, step, testIntent, type HistoryRow, type NotificationIntent, type RuleRef, type RuleState } from "./state";

// The minute's evaluation of every enabled rule of every live app. A rule's state is written only
// if no run has evaluated this minute yet, and its transition's history row in the same batch,
// so a cron retried within the minute fires nothing twice. One app's failure leaves the others.

interface RuleRow {
  id: string;
  app_id: string;
  name: string;
  definition: string;
  muted_until: number | null;
  state: AlertState | null;
  since: number | null;
  last_value: number | null;
  last_evaluated_at: number | null;
  clear_count: number | null;
  last_fired_at: number | null;
}

export interface AlertRun {
  intents: NotificationIntent[];
  evaluated: number;
  /** Apps whose rules could not be measured, and rules whose stored definition no longer parses, with why. */
  failed: Array<{ appId: string; ruleId?: string; error: string }>;
}

function refOf(row: RuleRow): RuleRef | string {
  let json: unknown;
  try {
    json = JSON.parse(row.definition);
  } catch {
    return "definition is not JSON";
  }
  const parsed = AlertRuleSchema.safeParse(json);
  if (!parsed.success) return parsed.error.issues.map((i) => i.message).join("; ");
  return { id: row.id, appId: row.app_id, name: row.name, rule: { ...parsed.data, mutedUntil: row.muted_until } };
}

function stateOf(row: RuleRow): RuleState {
  if (row.state === null) return initialState();
  return { state: row.state, since: row.since ?? 0, lastValue: row.last_value, lastEvaluatedAt: row.last_evaluated_at, clearCount: row.clear_count ?? 0, lastFiredAt: row.last_fired_at };
}

const nullIfNaN = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);

function upsertState(db: D1Database, appId: string, ruleId: string, s: RuleState, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO alert_rule_states (rule_id, app_id, state, since, last_value, last_evaluated_at, clear_count, last_fired_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state, since = excluded.since, last_value = excluded.last_value,
         last_evaluated_at = excluded.last_evaluated_at, clear_count = excluded.clear_count, last_fired_at = excluded.last_fired_at
       WHERE alert_rule_states.last_evaluated_at < excluded.last_evaluated_at`,
    )
    .bind(ruleId, appId, s.state, s.since, nullIfNaN(s.lastValue), now, s.clearCount, s.lastFiredAt);
}

// Written only if the state this run computed is the one stored: a concurrent run of the same
// minute that won the upsert with another outcome leaves no row of this one.
function insertHistory(db: D1Database, h: HistoryRow, s: RuleState): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO alert_rule_history (rule_id, app_id, at, from_state, to_state, value, threshold, detail)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?
       WHERE EXISTS (SELECT 1 FROM alert_rule_states WHERE rule_id = ? AND app_id = ? AND last_evaluated_at = ? AND state = ? AND since = ?)`,
    )
    .bind(h.ruleId, h.appId, h.at, h.from, h.to, nullIfNaN(h.value), h.threshold, h.detail, h.ruleId, h.appId, h.at, s.state, s.since);
}

/** Evaluates the rules of one app at minute `now`, writes their states and history in one batch, and returns what to notify. */
async function evaluateApp(deps: { db: D1Database; client: ClickHouseClient }, appId: string, rules: ReadonlyArray<{ ref: RuleRef; row: RuleRow }>, now: number): Promise<NotificationIntent[]> {
  const due = rules.flatMap(({ ref, row }) => {
    const prev = stateOf(row);
    return prev.lastEvaluatedAt === null || prev.lastEvaluatedAt < now ? [{ ref, prev }] : [];
  });
  if (due.length === 0) return [];
  const measured = await measureRules(deps, appId, due.map((d) => d.ref), now);
  const statements: D1PreparedStatement[] = [];
  const pending: Array<{ upsertAt: number; intent: NotificationIntent | null }> = [];
  for (const [i, { ref, prev }] of due.entries()) {
    const m = measured[i];
    if (m === undefined) continue;
    const s = step(ref, prev, m, now);
    pending.push({ upsertAt: statements.length, intent: s.intent });
    statements.push(upsertState(deps.db, appId, ref.id, s.next, now));
    if (s.history !== null) statements.push(insertHistory(deps.db, s.history, s.next));
  }
  if (statements.length === 0) return [];
  const results = await deps.db.batch(statements);
  return pending.flatMap((p) => ((results[p.upsertAt]?.meta.changes ?? 0) > 0 && p.intent !== null ? [p.intent] : []));
}

/** Evaluates every enabled rule of every live app at the minute of `now` and returns the notifications to send. */
export async function evaluateAlerts(deps: { db: D1Database; client: ClickHouseClient }, now: number): Promise<AlertRun> {
  const minute = Math.floor(now / 60_000) * 60_000;
  const rs = await deps.db
    .prepare(
      `SELECT r.id, r.app_id, r.name, r.definition, r.muted_until, s.state, s.since, s.last_value, s.last_evaluated_at, s.clear_count, s.last_fired_at
       FROM alert_rules r JOIN apps a ON a.id = r.app_id
       LEFT JOIN alert_rule_states s ON s.rule_id = r.id
       WHERE r.enabled = 1 AND a.deleted_at IS NULL
       ORDER BY r.app_id, r.id`,
    )
    .all<RuleRow>();
  const run: AlertRun = { intents: [], evaluated: 0, failed: [] };
  const byApp = new Map<string, Array<{ ref: RuleRef; row: RuleRow }>>();
  for (const row of rs.results) {
    const ref = refOf(row);
    if (typeof ref === "string") {
      run.failed.push({ appId: row.app_id, ruleId: row.id, error: ref });
      continue;
    }
    byApp.set(row.app_id, [...(byApp.get(row.app_id) ?? []), { ref, row }]);
    run.evaluated++;
  }
  for (const [appId, rows] of byApp) {
    try {
      run.intents.push(...(await evaluateApp(deps, appId, rows, minute)));
    } catch (e) {
      run.failed.push({ appId, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return run;
}

/** A rule's "test": a sample `alert.test` notification with the value its window has now, changing no state; null when the app has no such rule. */
export async function testAlert(deps: { db: D1Database; client: ClickHouseClient }, appId: string, ruleId: string, now: number): Promise<NotificationIntent | string | null> {
  const row = await deps.db
    .prepare(
      `SELECT r.id, r.app_id, r.name, r.definition, r.muted_until, NULL AS state, NULL AS since, NULL AS last_value, NULL AS last_evaluated_at, NULL AS clear_count, NULL AS last_fired_at
       FROM alert_rules r WHERE r.app_id = ? AND r.id = ?`,
    )
    .bind(appId, ruleId)
    .first<RuleRow>();
  if (row === null) return null;
  const ref = refOf(row);
  if (typeof ref === "string") return ref;
  const minute = Math.floor(now / 60_000) * 60_000;
  const [m] = await measureRules(deps, appId, [ref], minute);
  return testIntent(ref, minute, m === undefined ? null : nullIfNaN(observedValue(ref.rule.condition, m)));
}
