import type { ClickHouseClient } from "@clickhouse/client-web";
import { AlertRuleSchema, type AlertState } from "../../../schemas";
import { measureRules } from "./evaluate";
import { initialState, step, type HistoryRow, type NotificationIntent, type RuleRef, type RuleState } from "./state";

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

async function save(db: D1Database, appId: string, ruleId: string, s: RuleState, now: number, history: HistoryRow | null): Promise<boolean> {
  const upsert = db
    .prepare(
      `INSERT INTO alert_rule_states (rule_id, app_id, state, since, last_value, last_evaluated_at, clear_count, last_fired_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state, since = excluded.since, last_value = excluded.last_value,
         last_evaluated_at = excluded.last_evaluated_at, clear_count = excluded.clear_count, last_fired_at = excluded.last_fired_at
       WHERE alert_rule_states.last_evaluated_at < excluded.last_evaluated_at`,
    )
    .bind(ruleId, appId, s.state, s.since, nullIfNaN(s.lastValue), now, s.clearCount, s.lastFiredAt);
  if (history === null) {
    const r = await upsert.run();
    return r.meta.changes > 0;
  }
  const [r] = await db.batch([
    upsert,
    db
      .prepare(
        `INSERT OR IGNORE INTO alert_rule_history (rule_id, app_id, at, from_state, to_state, value, threshold, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(ruleId, appId, history.at, history.from, history.to, nullIfNaN(history.value), history.threshold, history.detail),
  ]);
  return r !== undefined && r.meta.changes > 0;
}

/** Evaluates the rules of one app at minute `now`, writes their states and history, and returns what to notify. */
async function evaluateApp(deps: { db: D1Database; client: ClickHouseClient }, appId: string, rules: ReadonlyArray<{ ref: RuleRef; row: RuleRow }>, now: number): Promise<NotificationIntent[]> {
  const due = rules.flatMap(({ ref, row }) => {
    const prev = stateOf(row);
    return prev.lastEvaluatedAt === null || prev.lastEvaluatedAt < now ? [{ ref, prev }] : [];
  });
  if (due.length === 0) return [];
  const measured = await measureRules(deps, appId, due.map((d) => d.ref), now);
  const intents: NotificationIntent[] = [];
  for (const [i, { ref, prev }] of due.entries()) {
    const m = measured[i];
    if (m === undefined) continue;
    const s = step(ref, prev, m, now);
    const won = await save(deps.db, appId, ref.id, s.next, now, s.history);
    if (won && s.intent !== null) intents.push(s.intent);
  }
  return intents;
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
