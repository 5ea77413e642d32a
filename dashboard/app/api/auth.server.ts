// The query API's callers: an organisation's API client with an OAuth access token from the
// Worker's /oauth/token (workers/oauth), checked here against the same keys in D1. A token
// reaches its organisation's apps (only those it lists) with its scopes, and each client is held
// to a request rate per isolate so one script cannot take a dashboard's ClickHouse for itself.
import { TokenBucket } from "../../../durable-objects/token-bucket";
import type { Permission } from "../../../schemas";
import { appOrgId, inOrg } from "../../../workers/apps/store";
import { TokenRefused, verifyAccessToken, type Grant } from "../../../workers/oauth/tokens";
import type { DashboardEnv } from "../env.server";

/** Requests a second each client may make to one isolate, and the burst it may spend at once. */
export const API_RATE_PER_SECOND = 10;
export const API_BURST = 60;

/** An answer in the API's error shape: `{error: {code, message}}`. */
export function apiError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers } });
}

const buckets = new Map<string, TokenBucket>();

function limited(clientId: string, now: number): number {
  let bucket = buckets.get(clientId);
  if (!bucket) {
    if (buckets.size > 10_000) buckets.clear();
    bucket = new TokenBucket(API_RATE_PER_SECOND, API_BURST);
    buckets.set(clientId, bucket);
  }
  return bucket.take(1, now);
}

/**
 * The grant of the request's bearer token if it may use `permission` on `appId` (when given);
 * otherwise throws the Response to answer: 401 for a missing or bad token, 403 for a scope it
 * lacks, 404 for an app it cannot reach, 429 past its rate.
 */
export async function requireApiAccess(request: Request, env: DashboardEnv, permission: Permission, appId?: string, now = Date.now()): Promise<Grant> {
  const token = /^Bearer +(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const challenge = (error: string, message: string) => ({ "www-authenticate": `Bearer realm="api", error="${error}", error_description="${message.replace(/"/g, "'")}"` });
  if (!token) throw apiError(401, "unauthorized", "an OAuth access token is required as `Authorization: Bearer <token>` (POST /oauth/token on the edge Worker)", { "www-authenticate": 'Bearer realm="api"' });
  let grant: Grant;
  try {
    grant = await verifyAccessToken(env.db, token, now);
  } catch (err) {
    if (err instanceof TokenRefused) throw apiError(401, "unauthorized", err.message, challenge("invalid_token", err.message));
    throw err;
  }
  if (appId !== undefined) {
    const listed = grant.appIds === null || grant.appIds.includes(appId);
    if (!listed || (await appOrgId(env.db, inOrg(grant.orgId), appId)) === undefined) throw apiError(404, "not_found", `no app ${appId.slice(0, 64)}`);
  }
  if (!grant.scopes.includes(permission)) {
    const message = `this needs the ${permission} scope, which the token does not hold`;
    throw apiError(403, "forbidden", message, challenge("insufficient_scope", message));
  }
  const wait = limited(grant.clientId, now);
  if (wait > 0) throw apiError(429, "rate_limited", `at most ${API_RATE_PER_SECOND} requests a second per client: try again shortly`, { "retry-after": String(Math.ceil(wait / 1000)) });
  return grant;
}
