// Who is asking and what they may do. Every loader and action starts with requirePermission
// (or requireApp for app-scoped routes), which answers 302 to the sign-in page, 403 or 404.
import { redirect } from "@remix-run/cloudflare";
import { getUser, primaryMembership } from "../db/accounts.server";
import { getApp, type AppDetails } from "../db/apps.server";
import type { DashboardEnv } from "../env.server";
import { can, type Permission, type Role } from "./permissions";
import { readCookie, SESSION_COOKIE, verifySessionToken } from "./session.server";

export interface Viewer {
  userId: string;
  email: string;
  name: string;
  orgId: string;
  orgName: string;
  role: Role;
}

/** The signed-in member, or null (no cookie, bad or expired token, signed out, no organisation). */
export async function getViewer(request: Request, env: DashboardEnv): Promise<Viewer | null> {
  const token = readCookie(request, SESSION_COOKIE);
  if (!token) return null;
  const claims = await verifySessionToken(env.sessionSecret, token);
  if (!claims) return null;
  const user = await getUser(env.db, claims.userId);
  if (!user || user.sessionVersion !== claims.version) return null;
  const membership = await primaryMembership(env.db, user.id);
  if (!membership) return null;
  return { userId: user.id, email: user.email, name: user.name, ...membership };
}

/** The viewer if allowed `permission`; otherwise a redirect to sign in, or 403. */
export async function requirePermission(request: Request, env: DashboardEnv, permission: Permission): Promise<Viewer> {
  const viewer = await getViewer(request, env);
  if (!viewer) {
    const url = new URL(request.url);
    throw redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  if (!can(viewer.role, permission)) throw new Response(`Your role (${viewer.role}) does not allow this`, { status: 403 });
  return viewer;
}

/** requirePermission, and the app, which must belong to the viewer's organisation (else 404). */
export async function requireApp(request: Request, env: DashboardEnv, appId: string | undefined, permission: Permission): Promise<{ viewer: Viewer; app: AppDetails }> {
  const viewer = await requirePermission(request, env, permission);
  const app = appId ? await getApp(env.db, viewer.orgId, appId) : null;
  if (!app) throw new Response("No such app in your organisation", { status: 404 });
  return { viewer, app };
}
