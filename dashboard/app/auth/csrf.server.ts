// CSRF: a double-submit token (a random cookie that every form echoes in a hidden field) plus
// a check that the request comes from our own origin. SameSite=Lax already stops most cross-site
// posts; the token also covers same-site subdomains and older browsers.
import { constantTimeEqual } from "./password.server";
import { cookieHeader, readCookie } from "./session.server";

export const CSRF_COOKIE = "__csrf";
export const CSRF_FIELD = "csrf";

const randomToken = (): string => [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The request's CSRF token, or a new one with the cookie that sets it. */
export function ensureCsrfToken(request: Request): { token: string; setCookie: string | null } {
  const existing = readCookie(request, CSRF_COOKIE);
  if (existing && /^[0-9a-f]{48}$/.test(existing)) return { token: existing, setCookie: null };
  const token = randomToken();
  return { token, setCookie: cookieHeader(request, CSRF_COOKIE, token, 7 * 24 * 60 * 60) };
}

/** A 403 for a request another site's page sent (by Origin or Sec-Fetch-Site), else null. */
export function crossOriginRefusal(request: Request): Response | null {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== new URL(request.url).origin) return new Response("Cross-origin request refused", { status: 403 });
  if (request.headers.get("sec-fetch-site") === "cross-site") return new Response("Cross-site request refused", { status: 403 });
  return null;
}

/** Throws 403 unless the form carries the cookie's token and the request is not cross-origin. */
export function requireCsrf(request: Request, form: FormData): void {
  const refused = crossOriginRefusal(request);
  if (refused) throw refused;
  const cookie = readCookie(request, CSRF_COOKIE) ?? "";
  const field = form.get(CSRF_FIELD);
  const enc = new TextEncoder();
  if (!cookie || typeof field !== "string" || !constantTimeEqual(enc.encode(cookie), enc.encode(field))) {
    throw new Response("The form expired: reload the page and try again", { status: 403 });
  }
}
