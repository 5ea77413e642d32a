// Who is asking and what they may do. Every loader and action starts with requirePermission
// (or requireApp for app-scoped routes), which answers 302 to the sign-in page, 403 or 404.
// Memberships are read on every request, so a removed or demoted member loses access at once.
import { redirect } from "@remix-run/cloudflare";
import { intentOf } from "../context.server";
import { getUser, type User } from "../db/accounts.server";
import { getApp, type AppDetails } from "../db/apps.server";
import { listMemberships } from "../db/members.server";
import type { DashboardEnv } from "../env.server";
import { csrfForm } from "./csrf.server";
import { can, type Permission, type Role } from "./permissions";
import { cookieHeader, readCookie, SESSION_COOKIE, verifySessionToken } from "./session.server";

/** The organisation the viewer last switched to; only a hint, checked against memberships. */
export const ORG_COOKIE = "__org";
const ORG_COOKIE_MAX_AGE = 365 * 24 * 60 * 60;

export interface Viewer {
  userId: string;
  email: string;
  name: string;
  orgId: string;
  orgName: string;
  role: Role;
  /** Every organisation the viewer belongs to, for the switcher. */
  orgs: Array<{ id: string; name: string }>;
}

/** The signed-in user, member of any organisation or none; null for no cookie or a bad, expired or signed-out token. */
export async function getSessionUser(request: Request, env: DashboardEnv): Promise<User | null> {
  const token = readCookie(request, SESSION_COOKIE);
  if (!token) return null;
  const claims = await verifySessionToken(env.sessionSecret, token);
  if (!claims) return null;
  const user = await getUser(env.db, claims.userId);
  return user && user.sessionVersion === claims.version ? user : null;
}

/**
 * The signed-in member in their current organisation: the one the org cookie names while they
 * still belong to it, else the first they joined. Null when signed out or in no organisation.
 */
export async function getViewer(request: Request, env: DashboardEnv): Promise<Viewer | null> {
  const user = await getSessionUser(request, env);
  if (!user) return null;
  const memberships = await listMemberships(env.db, user.id);
  const remembered = readCookie(request, ORG_COOKIE);
  const current = memberships.find((m) => m.orgId === remembered) ?? memberships[0];
  if (!current) return null;
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    orgId: current.orgId,
    orgName: current.orgName,
    role: current.role,
    orgs: memberships.map((m) => ({ id: m.orgId, name: m.orgName })),
  };
}

/** `Set-Cookie` that makes `orgId` the current organisation. */
export const currentOrgCookie = (request: Request, orgId: string): string => cookieHeader(request, ORG_COOKIE, orgId, ORG_COOKIE_MAX_AGE);

/**
 * Where a `next` parameter may send the browser once signed in: a path on this site, resolved
 * the way the browser will resolve it (so `/\t/host`, `/\\host` or `/.//host` cannot leave
 * it), else `/apps`. Control characters, which no link of ours carries and which would break
 * the Location header, answer 400.
 */
export function nextPath(raw: string | null, request: Request): string {
  if (!raw) return "/apps";
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new Response("This sign-in link is damaged: its next address holds control characters.", { status: 400 });
  const origin = new URL(request.url).origin;
  let target: URL;
  try {
    target = new URL(raw, origin);
  } catch {
    return "/apps";
  }
  const path = target.pathname + target.search + target.hash;
  return target.origin === origin && !path.startsWith("//") ? path : "/apps";
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

/**
 * For an action whose forms each carry an `intent`: the form once its CSRF token checks out, the
 * intent (400 when unknown), and the viewer if the intent's permission allows it.
 */
export async function requireIntent<K extends string>(
  request: Request,
  env: DashboardEnv,
  intents: Readonly<Record<K, Permission>>,
): Promise<{ viewer: Viewer; form: FormData; intent: K }> {
  const form = await csrfForm(request, env);
  const intent = intentOf(form, intents);
  const viewer = await requirePermission(request, env, intents[intent]);
  return { viewer, form, intent };
}

/** requirePermission, and the app, which must belong to the viewer's organisation (else 404). */
export async function requireApp(request: Request, env: DashboardEnv, appId: string | undefined, permission: Permission): Promise<{ viewer: Viewer; app: AppDetails }> {
  const viewer = await requirePermission(request, env, permission);
  const app = appId ? await getApp(env.db, viewer.orgId, appId) : null;
  if (!app) throw new Response("No such app in your organisation", { status: 404 });
  return { viewer, app };
}
