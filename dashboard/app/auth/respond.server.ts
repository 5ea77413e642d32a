// Every request the Pages Function hands to Remix passes here: the configuration is checked
// first (a deployment that must not run says why instead of serving), session cookies older
// than an hour are reissued, and every answer carries the security headers. Documents bring
// their own Content-Security-Policy with a per-request nonce (entry.server.tsx); everything
// else (CSV, data requests, redirects) gets one that allows nothing to run.
import { createRequestHandler, type ServerBuild } from "@remix-run/cloudflare";
import { dashboardEnv, type DashboardEnv, type RawEnv } from "../env.server";
import { crossOriginRefusal } from "./csrf.server";
import { rotateSession } from "./session.server";

const ALWAYS: Readonly<Record<string, string>> = {
  // Pages show one organisation's data to one signed-in person: never kept by a shared cache
  // or the browser's back/forward cache after signing out.
  "cache-control": "private, no-store",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};
const NOTHING_RUNS = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The policy of an HTML document whose only scripts are Remix's, each carrying `nonce`. */
export const documentPolicy = (nonce: string): string =>
  [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    // React renders a few style attributes and uPlot positions its cursor and legend inline.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");

/** A fresh nonce for one document's scripts. */
export const newNonce = (): string => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))));

/** `response` with the headers every dynamic answer carries. */
export function withSecurityHeaders(response: Response): Response {
  const out = new Response(response.body, response);
  for (const [k, v] of Object.entries(ALWAYS)) out.headers.set(k, v);
  if (!out.headers.has("content-security-policy")) out.headers.set("content-security-policy", NOTHING_RUNS);
  return out;
}

const handlers = new WeakMap<ServerBuild, ReturnType<typeof createRequestHandler>>();

/** Remix's answer to `request`, checked, rotated and with its headers. */
export async function handleDashboardRequest(build: ServerBuild, request: Request, raw: RawEnv, waitUntil?: (work: Promise<unknown>) => void): Promise<Response> {
  let env: DashboardEnv;
  try {
    env = dashboardEnv(raw);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(message);
    return withSecurityHeaders(new Response(`This dashboard is not configured to run: ${message}`, { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } }));
  }
  // Remix refuses a cross-origin form post itself, but as a bare 500; say what happened.
  const refused = request.method === "GET" || request.method === "HEAD" ? null : crossOriginRefusal(request);
  if (refused) return withSecurityHeaders(refused);
  let handle = handlers.get(build);
  if (!handle) {
    handle = createRequestHandler(build);
    handlers.set(build, handle);
  }
  const response = await handle(request, { cloudflare: { env: raw, waitUntil } });
  return withSecurityHeaders(await rotateSession(request, response, env.sessionSecret));
}
