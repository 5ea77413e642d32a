// Alert rules and the webhook endpoints they send to, for the dashboard: the shared stores
// (workers/alerts), always scoped to the viewer's organisation, so no page can reach another
// organisation's rule or endpoint.
import type { AlertRuleInput, WebhookEndpointInfo } from "../../../schemas";
import { inOrg } from "../../../workers/apps/store";
import * as rules from "../../../workers/alerts/rules/store";
import { listEndpoints } from "../../../workers/alerts/webhooks/store";

export type { AlertHistoryEntry, AlertRuleInfo, RuleChange } from "../../../workers/alerts/rules/store";
export { MAX_RULES_PER_APP } from "../../../workers/alerts/rules/store";

/** The app's rules, oldest first; null when the organisation has no such app. */
export const listRules = (db: D1Database, orgId: string, appId: string) => rules.listRules(db, inOrg(orgId), appId);

export const getRule = (db: D1Database, orgId: string, appId: string, ruleId: string) => rules.getRule(db, inOrg(orgId), appId, ruleId);

/** Creates a rule from `input`, checked against the rule schema; null when the organisation has no such app. */
export const createRule = (db: D1Database, orgId: string, appId: string, input: unknown, createdBy: string) =>
  rules.createRule(db, inOrg(orgId), appId, input, { createdBy });

export const updateRule = (db: D1Database, orgId: string, appId: string, ruleId: string, patch: Partial<AlertRuleInput> | Readonly<Record<string, unknown>>) =>
  rules.updateRule(db, inOrg(orgId), appId, ruleId, patch);

export const deleteRule = (db: D1Database, orgId: string, appId: string, ruleId: string) => rules.deleteRule(db, inOrg(orgId), appId, ruleId);

/** A page of the rule's transitions, newest first, and the `before` of the next page when there is one. */
export async function historyPage(
  db: D1Database,
  orgId: string,
  appId: string,
  ruleId: string,
  before: number | undefined,
  limit = 50,
): Promise<{ entries: rules.AlertHistoryEntry[]; next: number | null } | null> {
  const rows = await rules.ruleHistory(db, inOrg(orgId), appId, ruleId, { before, limit: limit + 1 });
  if (!rows) return null;
  const entries = rows.slice(0, limit);
  const last = entries[entries.length - 1];
  return { entries, next: rows.length > limit && last ? last.at : null };
}

/** What a rule page shows of an endpoint: its description, or only its host, since a webhook URL's path can be its credential. */
export interface EndpointChoice {
  id: string;
  label: string;
  enabled: boolean;
  disabledReason: string | null;
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
};

/** The organisation's webhook endpoints a rule may send to. */
export async function endpointChoices(db: D1Database, orgId: string): Promise<EndpointChoice[]> {
  return (await listEndpoints(db, orgId)).map((e: WebhookEndpointInfo) => ({
    id: e.id,
    label: e.description !== "" ? `${e.description} (${hostOf(e.url)})` : hostOf(e.url) || e.id,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
  }));
}
