// Saves the insight a page shows (the SaveInsight form): its type, app and URL query string, as a
// new saved insight or in place of the one the page was opened from.
import { json, type ActionFunctionArgs } from "@remix-run/cloudflare";
import { requireIntent } from "../auth/guard.server";
import type { Permission } from "../auth/permissions";
import type { SaveInsightResult } from "../components/insights/save-insight";
import { envOf, field } from "../context.server";
import { createSavedInsight, replaceSavedInsightQuery } from "../db/insights.server";

export const INTENT_PERMISSIONS = { save: "insight:update", replace: "insight:update" } as const satisfies Record<string, Permission>;

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, intent, form } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const input = { type: field(form, "type"), appId: field(form, "appId"), name: field(form, "name"), description: field(form, "description"), query: field(form, "query") };
  if (intent === "replace") {
    const replaced = await replaceSavedInsightQuery(env.db, viewer.orgId, field(form, "insightId"), input);
    const body: SaveInsightResult = !replaced ? { ok: false, error: "No such saved insight in your organisation." } : replaced.ok ? { ok: true, id: replaced.value.id, name: replaced.value.name, replaced: true } : { ok: false, error: replaced.reason };
    return json(body, { status: !replaced ? 404 : replaced.ok ? 200 : 400 });
  }
  const saved = await createSavedInsight(env.db, viewer.orgId, input, viewer.email);
  const body: SaveInsightResult = saved.ok ? { ok: true, id: saved.value.id, name: saved.value.name } : { ok: false, error: saved.reason };
  return json(body, { status: saved.ok ? 200 : saved.reason.startsWith("No such app") ? 404 : 400 });
}
