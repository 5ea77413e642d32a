import { redirect, type ActionFunctionArgs } from "@remix-run/cloudflare";
import { csrfForm } from "../auth/csrf.server";
import { currentOrgCookie, requirePermission } from "../auth/guard.server";
import { envOf, field } from "../context.server";

/**
 * Makes another of the viewer's organisations the current one and opens its apps (the app on
 * screen belongs to the old one). The cookie is only a choice: getViewer checks it against the
 * memberships on every request.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const form = await csrfForm(request, env);
  const viewer = await requirePermission(request, env, "member:read");
  const orgId = field(form, "org");
  if (!viewer.orgs.some((o) => o.id === orgId)) throw new Response("You are not a member of that organisation", { status: 404 });
  return redirect("/apps", { headers: { "set-cookie": currentOrgCookie(request, orgId) } });
}

export const loader = () => redirect("/apps");
