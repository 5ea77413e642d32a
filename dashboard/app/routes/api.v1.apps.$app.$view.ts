// `GET /api/v1/apps/:app/:view?…`: a dashboard view as JSON for an API client (api/), with the
// same query string as the view's page.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { apiError, requireApiAccess } from "../api/auth.server";
import { answerView } from "../api/respond.server";
import { API_VIEWS } from "../api/views.server";
import { envOf } from "../context.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const appId = params.app ?? "";
  const grant = await requireApiAccess(request, env, "data:read", appId);
  const view = API_VIEWS[params.view ?? ""];
  if (!view) return apiError(404, "not_found", `no view ${(params.view ?? "").slice(0, 40)}: views are ${Object.keys(API_VIEWS).join(", ")}`);
  return answerView(grant, () => view({ env, orgId: grant.orgId, appId, url: new URL(request.url), now: Date.now() }), { app: appId, view: params.view }, `no app ${appId.slice(0, 64)}`);
}
