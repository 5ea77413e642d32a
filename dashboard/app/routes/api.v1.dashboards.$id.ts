// `GET /api/v1/dashboards/:id`: a dashboard of the token's organisation with its cards run now, as
// JSON; `?range=` and the other shared filters override its own as on its page.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApiAccess } from "../api/auth.server";
import { answerView } from "../api/respond.server";
import { readApiDashboard } from "../api/views.server";
import { envOf } from "../context.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const grant = await requireApiAccess(request, env, "data:read");
  return answerView(grant, () => readApiDashboard(env, grant.orgId, grant.appIds, params.id ?? "", new URL(request.url), Date.now()), {}, "no such dashboard");
}
