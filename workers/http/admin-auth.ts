// Who calls an `/admin` route: the operator, with the static ADMIN_TOKEN (every organisation,
// every route), or an organisation's API client, with an OAuth access token (workers/oauth):
// its organisation's apps only (and only those its token lists), and only what its scopes
// permit. One table says which permission each route needs; a route it does not name is the
// operator's alone.
import type { Context, MiddlewareHandler } from "hono";
import { config, type ApiScope } from "../../schemas";
import { appOrgId, inOrg, OPERATOR, type AppScope } from "../apps/store";
import { HttpError } from "../lib/errors";
import { TokenRefused, verifyAccessToken, type Grant } from "../oauth/tokens";

export interface Actor {
  /** Whose apps the call may touch. */
  scope: AppScope;
  /** Who changes things, for audit logs: "admin" or `client:<id>`. */
  by: string;
  /** The token's grant; null for the operator. */
  grant: Grant | null;
}

export type AdminEnv = { Bindings: Env; Variables: { actor: Actor } };

/** The caller of an admin route; the operator when the middleware did not run (tests of a router alone). */
export const actorOf = (c: Context<AdminEnv>): Actor => c.get("actor") ?? { scope: OPERATOR, by: "admin", grant: null };

const ANY = "*";
// Paths relative to /admin. The first row that matches decides.
const RULES: ReadonlyArray<readonly [method: string, path: RegExp, permission: ApiScope]> = [
  ["GET", /^\/apps$/, "data:read"],
  ["POST", /^\/apps$/, "app:create"],
  ["GET", /^\/apps\/[^/]+$/, "data:read"],
  ["DELETE", /^\/apps\/[^/]+$/, "app:delete"],
  ["GET", /^\/apps\/[^/]+\/(shards|url-templates)$/, "data:read"],
  ["PUT", /^\/apps\/[^/]+\/url-templates$/, "app:update"],
  ["POST", /^\/apps\/[^/]+\/keys$/, "key:create"],
  ["DELETE", /^\/apps\/[^/]+\/keys\/[^/]+$/, "key:revoke"],
  ["GET", /^\/apps\/[^/]+\/releases\//, "data:read"],
  [ANY, /^\/apps\/[^/]+\/releases\//, "app:update"],
  ["GET", /^\/apps\/[^/]+\/alerts(\/|$)/, "data:read"],
  // A webhook endpoint's URL can be its credential: reading endpoints is managing alerts.
  [ANY, /^\/apps\/[^/]+\/(alerts|webhooks)(\/|$)/, "alert:update"],
  [ANY, /^\/apps\/[^/]+\/privacy\//, "privacy:manage"],
  ["GET", /^\/apps\/[^/]+\/(flags|config)(\/|$)/, "data:read"],
  [ANY, /^\/apps\/[^/]+\/(flags|config)(\/|$)/, "flag:update"],
  // Schedules name where the app's data goes: reading them is part of managing exports.
  [ANY, /^\/apps\/[^/]+\/exports(\/|$)/, "data:export"],
];

/** The scopes some admin route asks for. */
export const ADMIN_ROUTE_SCOPES: ReadonlySet<ApiScope> = new Set(RULES.map((r) => r[2]));

/** The permission `method path` (relative to /admin) needs from an API client; null: operators only. */
export function permissionFor(method: string, path: string): ApiScope | null {
  for (const [m, re, permission] of RULES) if ((m === ANY || m === method) && re.test(path)) return permission;
  return null;
}

function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const bearerError = (status: 401 | 403, code: "unauthorized" | "forbidden", message: string, error: string) =>
  new HttpError(status, code, message, { "www-authenticate": `Bearer realm="admin", error="${error}", error_description="${message.replace(/"/g, "'")}"` });

/** Sets the actor of every `/admin` request, or refuses it. */
export const adminAuth: MiddlewareHandler<AdminEnv> = async (c, next) => {
  const given = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
  const adminToken = config(c.env).adminToken;
  if (given && adminToken && timingSafeEqual(given, adminToken)) {
    c.set("actor", { scope: OPERATOR, by: "admin", grant: null });
    return next();
  }
  // A JWT has three dot-separated parts; anything else is a wrong admin token.
  if (given.split(".").length !== 3) {
    if (!adminToken) throw new HttpError(403, "forbidden", "admin routes take an OAuth access token (POST /oauth/token); the static admin token is off: set the ADMIN_TOKEN secret");
    throw new HttpError(401, "unauthorized", "a valid admin token or OAuth access token is required as `Authorization: Bearer <token>`");
  }
  let grant: Grant;
  try {
    grant = await verifyAccessToken(c.env.DB, given);
  } catch (err) {
    if (err instanceof TokenRefused) throw bearerError(401, "unauthorized", err.message, "invalid_token");
    throw err;
  }
  const path = c.req.path.replace(/^\/admin/, "").replace(/\/+$/, "");
  const permission = permissionFor(c.req.method, path);
  if (!permission) throw bearerError(403, "forbidden", "this route is for the operator's admin token only", "insufficient_scope");
  const app = /^\/apps\/([^/]+)/.exec(path)?.[1];
  // Another organisation's app, or one the token does not list, is not there for this caller.
  if (app !== undefined) {
    const id = decodeURIComponent(app);
    if ((grant.appIds !== null && !grant.appIds.includes(id)) || (await appOrgId(c.env.DB, inOrg(grant.orgId), id)) === undefined) throw new HttpError(404, "not_found", `no app ${id.slice(0, 64)}`);
  }
  if (!grant.scopes.includes(permission)) throw bearerError(403, "forbidden", `this needs the ${permission} scope, which the token does not hold`, "insufficient_scope");
  c.set("actor", { scope: inOrg(grant.orgId), by: `client:${grant.clientId}`, grant });
  return next();
};
