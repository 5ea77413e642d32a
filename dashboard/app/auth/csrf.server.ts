// CSRF: every form carries a token that only this server can compute, bound to the browser (a
// random id in an HttpOnly cookie) and, once signed in, to the session (user and session
// version), plus a check that the request comes from our own origin. A cookie an attacker
// manages to plant (from a sibling subdomain, say) is worthless without the matching token,
// and a token is worthless to anyone but the browser and session it was issued to.
// SameSite=Lax already stops most cross-site posts; the token covers the rest.
import type { DashboardEnv } from "../env.server";
import { constantTimeEqual } from "./password.server";
import { cookieHeader, readCookie, SESSION_COOKIE, verifySessionToken, type SessionClaims } from "./session.server";

export const CSRF_COOKIE = "__csrf";
export const CSRF_FIELD = "csrf";
const BROWSER_ID = /^[0-9a-f]{48}$/;
const BROWSER_ID_MAX_AGE = 7 * 24 * 60 * 60;

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** What a form token stands for: the browser, and the session once there is one. */
export const csrfBinding = (browserId: string, session: SessionClaims | null): string =>
  session ? `session:${session.userId}:${session.version}:${browserId}` : `browser:${browserId}`;

/** What the token MACs: prefixed so it can never equal what the same secret signs for sessions. */
export const csrfMessage = (binding: string): string => `csrf\0${binding}`;

/** The token for `binding`: HMAC-SHA256 of csrfMessage under the session secret, in hex. */
export async function csrfToken(secret: string, binding: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(csrfMessage(binding)))));
}

async function sessionOf(request: Request, secret: string): Promise<SessionClaims | null> {
  const token = readCookie(request, SESSION_COOKIE);
  return token ? verifySessionToken(secret, token) : null;
}

/** The token this request's forms echo, and the cookie that sets the browser id when it has none. */
export async function ensureCsrfToken(request: Request, env: DashboardEnv): Promise<{ token: string; setCookie: string | null }> {
  const existing = readCookie(request, CSRF_COOKIE);
  const browserId = existing && BROWSER_ID.test(existing) ? existing : hex(crypto.getRandomValues(new Uint8Array(24)));
  const setCookie = browserId === existing ? null : cookieHeader(request, CSRF_COOKIE, browserId, BROWSER_ID_MAX_AGE);
  return { token: await csrfToken(env.sessionSecret, csrfBinding(browserId, await sessionOf(request, env.sessionSecret))), setCookie };
}

/** A 403 for a request another site's page sent (by Origin or Sec-Fetch-Site), else null. */
export function crossOriginRefusal(request: Request): Response | null {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== new URL(request.url).origin) return new Response("Cross-origin request refused", { status: 403 });
  if (request.headers.get("sec-fetch-site") === "cross-site") return new Response("Cross-site request refused", { status: 403 });
  return null;
}

/**
 * The posted form, once the request is known to come from our own pages: same origin, and a
 * token issued to this browser and session. Throws 403 otherwise, and 400 for a body that is
 * not a form.
 */
export async function csrfForm(request: Request, env: DashboardEnv): Promise<FormData> {
  const refused = crossOriginRefusal(request);
  if (refused) throw refused;
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new Response("Expected a form", { status: 400 });
  }
  const browserId = readCookie(request, CSRF_COOKIE);
  const given = form.get(CSRF_FIELD);
  const enc = new TextEncoder();
  if (browserId && BROWSER_ID.test(browserId) && typeof given === "string") {
    const expected = await csrfToken(env.sessionSecret, csrfBinding(browserId, await sessionOf(request, env.sessionSecret)));
    if (constantTimeEqual(enc.encode(given), enc.encode(expected))) return form;
  }
  throw new Response("The form expired: reload the page and try again", { status: 403 });
}
