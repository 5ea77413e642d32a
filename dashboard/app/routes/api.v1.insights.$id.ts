// `GET /api/v1/insights/:id`: a saved insight of the token's organisation, run now, as JSON;
// `?range=` and the other shared filters override its own as a dashboard's would.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { apiError, requireApiAccess } from "../api/auth.server";
import { answerView } from "../api/respond.server";
import { runInsight } from "../api/views.server";
import { envOf } from "../context.server";
import { getSavedInsight } from "../db/insights.server";
import { applyScope, scopeFromUrl } from "../insights/saved";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const grant = await requireApiAccess(request, env, "data:read");
  const insight = await getSavedInsight(env.db, grant.orgId, params.id ?? "");
  if (!insight || (grant.appIds !== null && !grant.appIds.includes(insight.appId))) return apiError(404, "not_found", "no such saved insight");
  const query = applyScope(insight.query, scopeFromUrl(new URL(request.url), { range: "", filters: "" }));
  return answerView(grant, () => runInsight(env.clickhouse, insight.appId, insight.type, query, Date.now()), { insight: { id: insight.id, name: insight.name, description: insight.description, type: insight.type, appId: insight.appId } });
}
