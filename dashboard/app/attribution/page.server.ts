// The attribution pages' guard: the viewer, the app, its settings and what the URL asks for
// (./query.ts), shared by the report, its CSV and a person's paths.
import { requireApp } from "../auth/guard.server";
import type { Permission } from "../auth/permissions";
import { getAttribution } from "../db/apps.server";
import type { DashboardEnv } from "../env.server";
import { parseAttributionQuery } from "./query";

/** The viewer, the app (404 when not theirs), its attribution settings and what the URL asks for. */
export async function attributionPage(request: Request, env: DashboardEnv, appId: string | undefined, permission: Permission) {
  const { viewer, app } = await requireApp(request, env, appId, permission);
  const settings = await getAttribution(env.db, viewer.orgId, app.id);
  if (!settings) throw new Response("No such app in your organisation", { status: 404 });
  const url = new URL(request.url);
  return { viewer, app, settings, url, q: parseAttributionQuery(url, settings) };
}
