// Access tokens of the client credentials grant (RFC 6749 §4.4): short-lived JWTs (ES256) naming
// the client, its organisation, the scopes granted and the apps it may reach. They are checked
// without a D1 read but for the client's liveness, which an isolate remembers for a minute, so a
// revoked client's tokens stop within a minute rather than at their expiry.
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import type { ApiClient } from "./clients";
import { clientIsLive } from "./clients";
import { publishedKeys, signingKey } from "./signing-keys";

export const TOKEN_TTL_SECONDS = 900;
export const ISSUER = "edge-telemetry";
export const AUDIENCE = "edge-telemetry-api";
const LIVE_CACHE_MS = 60_000;

/** What a verified token grants. */
export interface Grant {
  clientId: string;
  orgId: string;
  scopes: string[];
  /** The apps it may reach; null: every app of the organisation. */
  appIds: string[] | null;
}

export interface IssuedToken {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
}

/** Signs a token for `client` with `scopes` (already checked to be the client's). */
export async function issueToken(db: D1Database, secret: string, client: ApiClient, scopes: readonly string[], now = Date.now()): Promise<IssuedToken> {
  const key = await signingKey(db, secret, now);
  const iat = Math.floor(now / 1000);
  const token = await new SignJWT({ org: client.orgId, scope: scopes.join(" "), ...(client.appIds ? { apps: client.appIds } : {}) })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(client.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
  return { access_token: token, token_type: "Bearer", expires_in: TOKEN_TTL_SECONDS, scope: scopes.join(" ") };
}

const live = new Map<string, { live: boolean; until: number }>();

/** Forgets which clients this isolate knows to be live, for tests that revoke one. */
export function clearClientLiveness(): void {
  live.clear();
}

async function isLive(db: D1Database, clientId: string, now: number): Promise<boolean> {
  const hit = live.get(clientId);
  if (hit && hit.until > now) return hit.live;
  const v = await clientIsLive(db, clientId);
  if (live.size > 10_000) live.clear();
  live.set(clientId, { live: v, until: now + LIVE_CACHE_MS });
  return v;
}

/** Why a token was refused, in words an API caller can act on. */
export class TokenRefused extends Error {
  override readonly name = "TokenRefused";
}

/** The grant of a valid token; throws TokenRefused for a token that is malformed, forged, expired or of a revoked client. */
export async function verifyAccessToken(db: D1Database, token: string, now = Date.now()): Promise<Grant> {
  const jwks = createLocalJWKSet(await publishedKeys(db, now));
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["ES256"], typ: "at+jwt", currentDate: new Date(now), requiredClaims: ["sub", "exp", "iat"] }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new TokenRefused(code === "ERR_JWT_EXPIRED" ? "the access token has expired: get a new one from POST /oauth/token" : "the access token is not valid");
  }
  const clientId = typeof payload.sub === "string" ? payload.sub : "";
  const orgId = typeof payload.org === "string" ? payload.org : "";
  const scope = typeof payload.scope === "string" ? payload.scope : "";
  const apps = Array.isArray(payload.apps) ? payload.apps.filter((a): a is string => typeof a === "string") : null;
  if (!clientId || !orgId) throw new TokenRefused("the access token is not valid");
  if (!(await isLive(db, clientId, now))) throw new TokenRefused("the access token's client was revoked");
  return { clientId, orgId, scopes: scope.split(" ").filter(Boolean), appIds: apps };
}
