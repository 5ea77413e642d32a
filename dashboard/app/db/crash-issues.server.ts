// Crash issue states, their history and the app's grouping rules (D1 tables of
// schemas/sql/d1/0006_crash_issues.sql). Every query names the app; the caller has already
// checked that the app belongs to the viewer's organisation (requireApp). A state change and
// its history row go in one batch, so the history never misses a change.
import { CrashRule, ISSUE_STATUSES, MAX_CRASH_RULES, type IssueStatus } from "../../../schemas";
import { randomHex } from "./ids.server";

export interface IssueState {
  fingerprint: string;
  status: IssueStatus;
  resolvedIn: string;
  resolvedNext: boolean;
  ignoreCount: number | null;
  ignoreBase: number | null;
  ignoreUntil: number | null;
  changedAt: number;
  changedBy: string;
}

export interface IssueHistoryEntry {
  status: string;
  detail: string;
  at: number;
  by: string;
}

interface StateRow {
  fingerprint: string;
  status: string;
  resolved_in: string;
  resolved_next: number;
  ignore_count: number | null;
  ignore_base: number | null;
  ignore_until: number | null;
  changed_at: number;
  changed_by: string;
}

const isStatus = (s: string): s is IssueStatus => (ISSUE_STATUSES as readonly string[]).includes(s);

function toState(r: StateRow): IssueState | null {
  if (!isStatus(r.status)) return null;
  return {
    fingerprint: r.fingerprint,
    status: r.status,
    resolvedIn: r.resolved_in,
    resolvedNext: r.resolved_next === 1,
    ignoreCount: r.ignore_count,
    ignoreBase: r.ignore_base,
    ignoreUntil: r.ignore_until,
    changedAt: r.changed_at,
    changedBy: r.changed_by,
  };
}

const STATE_SELECT =
  "SELECT fingerprint, status, resolved_in, resolved_next, ignore_count, ignore_base, ignore_until, changed_at, changed_by FROM crash_issue_states WHERE app_id = ?";

/** Every issue of the app that has a state row (issues without one are unresolved). */
export async function issueStates(db: D1Database, appId: string): Promise<Map<string, IssueState>> {
  const rs = await db.prepare(STATE_SELECT).bind(appId).all<StateRow>();
  const states = new Map<string, IssueState>();
  for (const row of rs.results) {
    const state = toState(row);
    if (state) states.set(state.fingerprint, state);
  }
  return states;
}

export async function issueState(db: D1Database, appId: string, fingerprint: string): Promise<IssueState | null> {
  const row = await db.prepare(`${STATE_SELECT} AND fingerprint = ?`).bind(appId, fingerprint).first<StateRow>();
  return row ? toState(row) : null;
}

/** The issue's changes of state, newest first. */
export async function issueHistory(db: D1Database, appId: string, fingerprint: string): Promise<IssueHistoryEntry[]> {
  const rs = await db
    .prepare("SELECT status, detail, at, by FROM crash_issue_history WHERE app_id = ? AND fingerprint = ? ORDER BY at DESC, id DESC LIMIT 200")
    .bind(appId, fingerprint)
    .all<IssueHistoryEntry>();
  return rs.results;
}

/**
 * A change someone makes to an issue. `resolved` alone is "fixed now" (any later crash regresses
 * it); `in` names the release the fix shipped in; `next` is "in the next release". `ignored` with
 * neither `count` nor `until` ignores it forever; `count` needs `base`, the issue's event total now.
 */
export type IssueChange =
  | { status: "resolved"; in?: string; next?: boolean }
  | { status: "ignored"; count?: number; base?: number; until?: number }
  | { status: "unresolved" };

/** The history line of a change, e.g. "resolved in 2.1.0", "ignored until 100 more events". */
export function describeChange(change: IssueChange): string {
  switch (change.status) {
    case "resolved":
      if (change.next) return "resolved in the next release";
      return change.in ? `resolved in ${change.in}` : "resolved";
    case "ignored":
      if (change.count !== undefined) return `ignored until ${change.count} more event${change.count === 1 ? "" : "s"}`;
      if (change.until !== undefined) return `ignored until ${new Date(change.until).toISOString().slice(0, 16).replace("T", " ")} UTC`;
      return "ignored forever";
    case "unresolved":
      return "reopened";
  }
}

/** Sets the issue's state and records who changed it and when; returns the new state. */
export async function setIssueState(db: D1Database, appId: string, fingerprint: string, change: IssueChange, by: string, at: number = Date.now()): Promise<IssueState> {
  const state: IssueState = {
    fingerprint,
    status: change.status,
    resolvedIn: change.status === "resolved" && !change.next ? (change.in ?? "") : "",
    resolvedNext: change.status === "resolved" && change.next === true,
    ignoreCount: change.status === "ignored" ? (change.count ?? null) : null,
    ignoreBase: change.status === "ignored" && change.count !== undefined ? (change.base ?? 0) : null,
    ignoreUntil: change.status === "ignored" && change.count === undefined ? (change.until ?? null) : null,
    changedAt: at,
    changedBy: by,
  };
  await db.batch([
    db
      .prepare(
        `INSERT INTO crash_issue_states (app_id, fingerprint, status, resolved_in, resolved_next, ignore_count, ignore_base, ignore_until, changed_at, changed_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_id, fingerprint) DO UPDATE SET status = excluded.status, resolved_in = excluded.resolved_in,
           resolved_next = excluded.resolved_next, ignore_count = excluded.ignore_count, ignore_base = excluded.ignore_base,
           ignore_until = excluded.ignore_until, changed_at = excluded.changed_at, changed_by = excluded.changed_by`,
      )
      .bind(appId, fingerprint, state.status, state.resolvedIn, state.resolvedNext ? 1 : 0, state.ignoreCount, state.ignoreBase, state.ignoreUntil, at, by),
    db.prepare("INSERT INTO crash_issue_history (app_id, fingerprint, status, detail, at, by) VALUES (?, ?, ?, ?, ?, ?)").bind(appId, fingerprint, state.status, describeChange(change), at, by),
  ]);
  return state;
}

// Grouping rules.

/** A grouping rule as the rules page lists it, in the order the edge tries them. */
export interface CrashRuleInfo {
  id: string;
  position: number;
  action: "merge" | "split";
  type: string | null;
  message: string | null;
  module: string | null;
  label: string;
  createdAt: number;
  createdBy: string;
}

interface RuleRow {
  id: string;
  position: number;
  action: string;
  match_type: string | null;
  match_message: string | null;
  match_module: string | null;
  label: string;
  created_at: number;
  created_by: string;
}

const toRule = (r: RuleRow): CrashRuleInfo | null =>
  r.action === "merge" || r.action === "split"
    ? { id: r.id, position: r.position, action: r.action, type: r.match_type, message: r.match_message, module: r.match_module, label: r.label, createdAt: r.created_at, createdBy: r.created_by }
    : null;

export async function listRules(db: D1Database, appId: string): Promise<CrashRuleInfo[]> {
  const rs = await db
    .prepare("SELECT id, position, action, match_type, match_message, match_module, label, created_at, created_by FROM crash_rules WHERE app_id = ? ORDER BY position, created_at, id")
    .bind(appId)
    .all<RuleRow>();
  return rs.results.flatMap((r) => toRule(r) ?? []);
}

export const MAX_RULE_LABEL = 200;

export interface NewRule {
  action: "merge" | "split";
  type: string;
  message: string;
  module: string;
  label: string;
}

/**
 * The rule a form describes, or what is wrong with it. Blank matchers match anything, so a rule
 * needs at least one; lengths are the edge's (CrashRule).
 */
export function parseRule(input: { action: string; type: string; message: string; module: string; label: string }): NewRule | { error: string } {
  const opt = (s: string) => (s.trim() === "" ? undefined : s.trim());
  const parsed = CrashRule.safeParse({ id: "new", action: input.action, type: opt(input.type), message: opt(input.message), module: opt(input.module) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path[0];
    if (where === "action") return { error: "Choose merge or split." };
    if (where === "type") return { error: "The type is at most 256 characters." };
    if (where === "message") return { error: "The message pattern is at most 512 characters." };
    if (where === "module") return { error: "The module pattern is at most 512 characters." };
    return { error: "This rule is not valid." };
  }
  const r = parsed.data;
  // A pattern of stars alone matches anything, like a blank one.
  const narrows = (glob: string | undefined) => glob !== undefined && /[^*]/.test(glob);
  if (r.type === undefined && !narrows(r.message) && !narrows(r.module))
    return { error: "Give at least one of type, message pattern or module pattern: a rule that matches every crash would put them all in one issue." };
  const label = input.label.trim();
  if (label.length > MAX_RULE_LABEL) return { error: `The label is at most ${MAX_RULE_LABEL} characters.` };
  return { action: r.action, type: r.type ?? "", message: r.message ?? "", module: r.module ?? "", label };
}

/** Appends the rule after the app's others; "full" when the app already has MAX_CRASH_RULES. */
export async function addRule(db: D1Database, appId: string, rule: NewRule, by: string, at: number = Date.now()): Promise<CrashRuleInfo | "full"> {
  const id = `cr_${randomHex(8)}`;
  const nullIfBlank = (s: string) => (s === "" ? null : s);
  // The limit is part of the INSERT, so two people adding at once cannot pass it together.
  const row = await db
    .prepare(
      `INSERT INTO crash_rules (id, app_id, position, action, match_type, match_message, match_module, label, created_at, created_by)
       SELECT ?, ?, coalesce(max(position), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM crash_rules WHERE app_id = ?
       HAVING count(*) < ?
       RETURNING id, position, action, match_type, match_message, match_module, label, created_at, created_by`,
    )
    .bind(id, appId, rule.action, nullIfBlank(rule.type), nullIfBlank(rule.message), nullIfBlank(rule.module), rule.label, at, by, appId, MAX_CRASH_RULES)
    .first<RuleRow>();
  if (!row) return "full";
  return toRule(row) ?? "full";
}

/** False when the app has no such rule. */
export async function deleteRule(db: D1Database, appId: string, ruleId: string): Promise<boolean> {
  const rs = await db.prepare("DELETE FROM crash_rules WHERE app_id = ? AND id = ?").bind(appId, ruleId).run();
  return rs.meta.changes > 0;
}

/** Swaps the rule with its neighbour; false when there is no such rule or it is already at that end. */
export async function moveRule(db: D1Database, appId: string, ruleId: string, direction: "up" | "down"): Promise<boolean> {
  const rules = await listRules(db, appId);
  const i = rules.findIndex((r) => r.id === ruleId);
  const j = direction === "up" ? i - 1 : i + 1;
  const rule = rules[i];
  const other = rules[j];
  if (i < 0 || !rule || !other) return false;
  // Positions are rewritten as the list's order, so ties or gaps left by deletions cannot make a swap a no-op.
  const order = rules.map((r) => r.id);
  order[i] = other.id;
  order[j] = rule.id;
  await db.batch(order.map((id, k) => db.prepare("UPDATE crash_rules SET position = ? WHERE app_id = ? AND id = ?").bind(k + 1, appId, id)));
  return true;
}
