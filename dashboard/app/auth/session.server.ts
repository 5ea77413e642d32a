// Sessions are short JWTs (HS256, jose) in an HttpOnly cookie. A token names the user and the
// user's session version: signing out bumps the version in D1, which voids every token issued
// before. Tokens live 12 hours and are reissued after one, so an active user stays signed in
// while a stolen cookie stops working soon after it stops being refreshed.
import { SignJWT, jwtVerify } from "jose";

export const SESSION_COOKIE = "__session";
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
export const ROTATE_AFTER_SECONDS = 60 * 60;

export interface SessionClaims {
  userId: string;
  version: number;
  issuedAt: number;
}

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** A signed session token for `userId` at session version `version`. */
export async function issueSessionToken(secret: string, userId: string, version: number, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ sv: version })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + SESSION_TTL_SECONDS)
    .sign(keyOf(secret));
}

/** How far ahead of ours another server's clock may be when it issues a token. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * The claims of a valid token: ours, unexpired, with an expiry no later than a session lasts,
 * and not issued in the future. Null for anything else, so a token that leaked from a
 * misconfigured signer cannot live forever or be minted ahead of time.
 */
export async function verifySessionToken(secret: string, token: string): Promise<SessionClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: ["HS256"], requiredClaims: ["sub", "iat", "exp"] });
    const { sub, sv, iat, exp } = payload;
    if (typeof sub !== "string" || typeof sv !== "number" || typeof iat !== "number" || typeof exp !== "number") return null;
    if (iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS || exp - iat > SESSION_TTL_SECONDS) return null;
    return { userId: sub, version: sv, issuedAt: iat };
  } catch {
    return null;
  }
}

/** One cookie's value from a request, or null. */
export function readCookie(request: Request, name: string): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Browsers drop Secure cookies on plain http, which local development uses. */
function isLocalHttp(request: Request): boolean {
  const url = new URL(request.url);
  return url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
}

/** `Set-Cookie` for a cookie the page's scripts never read. */
export function cookieHeader(request: Request, name: string, value: string, maxAgeSeconds: number): string {
  const secure = isLocalHttp(request) ? "" : "; Secure";
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

export const sessionCookie = (request: Request, token: string): string => cookieHeader(request, SESSION_COOKIE, token, SESSION_TTL_SECONDS);
export const clearSessionCookie = (request: Request): string => cookieHeader(request, SESSION_COOKIE, "", 0);

/**
 * Reissues the session cookie on a response when the request's token is valid but older than
 * an hour (and the response does not set the session itself, as sign-in and sign-out do).
 */
export async function rotateSession(request: Request, response: Response, secret: string, now = Date.now()): Promise<Response> {
  const token = readCookie(request, SESSION_COOKIE);
  if (!token || (response.headers.get("set-cookie") ?? "").includes(`${SESSION_COOKIE}=`)) return response;
  const claims = await verifySessionToken(secret, token);
  if (!claims || Math.floor(now / 1000) - claims.issuedAt < ROTATE_AFTER_SECONDS) return response;
  const rotated = new Response(response.body, response);
  rotated.headers.append("set-cookie", sessionCookie(request, await issueSessionToken(secret, claims.userId, claims.version, now)));
  return rotated;
}
