// `GET /api/v1/apps/:app/:view/:id?…`: one thing a view lists (a user, a session, an issue, a
// metric, an endpoint, an event) as JSON for an API client, with the query string of its page.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { apiError, requireApiAccess } from "../api/auth.server";
import { answerView } from "../api/respond.server";
import { API_ITEMS } from "../api/views.server";
import { envOf } from "../context.server";

const NOUNS: Record<string, string> = { events: "event", users: "user", sessions: "session", crashes: "issue", performance: "metric", network: "endpoint", attribution: "page" };

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const appId = params.app ?? "";
  const grant = await requireApiAccess(request, env, "data:read", appId);
  const name = params.view ?? "";
  const item = API_ITEMS[name];
  if (!item) return apiError(404, "not_found", `no view ${name.slice(0, 40)} with items: those are ${Object.keys(API_ITEMS).join(", ")}`);
  const id = params.id ?? "";
  // Another app's user, session or issue is as absent as a made-up id.
  return answerView(grant, () => item({ env, orgId: grant.orgId, appId, url: new URL(request.url), now: Date.now() }, id), { app: appId, view: name, id }, `no such ${NOUNS[name] ?? "item"} in this app`);
}
