// `GET /api/v1/dashboards`: the token's organisation's dashboards as JSON for an API client.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApiAccess } from "../api/auth.server";
import { answerView } from "../api/respond.server";
import { listApiDashboards } from "../api/views.server";
import { envOf } from "../context.server";

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const grant = await requireApiAccess(request, env, "data:read");
  return answerView(grant, () => listApiDashboards(env, grant.orgId), {});
}
