// An app's feature flags and remote configuration for the dashboard: the shared service
// (workers/flags/service.ts), always scoped to the viewer's organisation, so no page can read or
// change another organisation's flags. Every change is recorded under the signed-in e-mail.
import { requireApp } from "../auth/guard.server";
import type { Permission } from "../auth/permissions";
import type { DashboardEnv } from "../env.server";
import { inOrg } from "../../../workers/apps/store";
import { appFlagsFor, type AppFlagsAdmin } from "../../../workers/flags/service";

export type { ConfigVersion, FlagChange, StoredFlag } from "../../../workers/flags/service";
export type AppFlags = AppFlagsAdmin;

/** The app's flags and configuration, or null when the organisation has no such app. */
export const appFlags = (db: D1Database, orgId: string, appId: string): Promise<AppFlags | null> => appFlagsFor(db, inOrg(orgId), appId);

/** The viewer, with `permission`, and the flags of the app the route names; 403 or 404 otherwise. */
export async function requireAppFlags(request: Request, env: DashboardEnv, appParam: string | undefined, permission: Permission) {
  const { viewer, app } = await requireApp(request, env, appParam, permission);
  const flags = await appFlags(env.db, viewer.orgId, app.id);
  if (!flags) throw new Response("No such app in your organisation", { status: 404 });
  return { viewer, app, flags };
}
