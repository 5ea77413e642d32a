import { Hono, type Context } from "hono";
import { config } from "../../schemas";
import { readBody } from "../ingest/body";
import { authenticateClient } from "../oauth/clients";
import { publishedKeys } from "../oauth/signing-keys";
import { issueToken } from "../oauth/tokens";

type Ctx = Context<{ Bindings: Env }>;

// RFC 6749 §5.2: errors are `{error, error_description}`; a client that authenticated with
// HTTP Basic and failed gets 401 with a challenge.
function oauthError(c: Ctx, status: 400 | 401 | 503, error: string, description: string, basic = false): Response {
  if (status === 401 && basic) c.header("www-authenticate", 'Basic realm="oauth", charset="UTF-8"');
  c.header("cache-control", "no-store");
  return c.json({ error, error_description: description }, status);
}

/** The client's id and secret from HTTP Basic (RFC 6749 §2.3.1, each form-encoded) or the body. */
function credentials(c: Ctx, form: URLSearchParams): { id: string; secret: string; basic: boolean } | null {
  const auth = c.req.header("authorization") ?? "";
  const m = /^Basic\s+(\S+)$/i.exec(auth);
  if (m) {
    try {
      const decoded = atob(m[1] ?? "");
      const at = decoded.indexOf(":");
      if (at < 0) return null;
      return { id: decodeURIComponent(decoded.slice(0, at).replace(/\+/g, " ")), secret: decodeURIComponent(decoded.slice(at + 1).replace(/\+/g, " ")), basic: true };
    } catch {
      return null;
    }
  }
  const id = form.get("client_id");
  const secret = form.get("client_secret");
  return id && secret ? { id, secret, basic: false } : null;
}

async function formOf(c: Ctx): Promise<URLSearchParams | null> {
  const text = await readBody(c.req.raw, { anyContentType: true, maxBytes: 8 * 1024 });
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") {
    try {
      const json: unknown = JSON.parse(text);
      if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
      return new URLSearchParams(Object.entries(json).flatMap(([k, v]): Array<[string, string]> => (typeof v === "string" ? [[k, v]] : [])));
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text);
}

/**
 * `POST /oauth/token`: the client credentials grant. An organisation's API client trades its id
 * and secret for an access token of its scopes (or fewer, `scope=`), valid 15 minutes.
 * `GET /.well-known/jwks.json`: the keys tokens are signed with.
 */
export const oauthRoutes = new Hono<{ Bindings: Env }>()
  .post("/oauth/token", async (c) => {
    const secret = config(c.env).oauthKeySecret;
    if (!secret) return oauthError(c, 503, "temporarily_unavailable", "OAuth is off on this deployment: set the OAUTH_KEY_SECRET secret");
    const form = await formOf(c);
    if (!form) return oauthError(c, 400, "invalid_request", "send the parameters as application/x-www-form-urlencoded (or a JSON object)");
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") return oauthError(c, 400, grant ? "unsupported_grant_type" : "invalid_request", grant ? `grant_type ${grant.slice(0, 40)} is not supported: use client_credentials` : "grant_type is required: client_credentials");
    const creds = credentials(c, form);
    if (!creds) return oauthError(c, 401, "invalid_client", "the client's id and secret are required, as HTTP Basic credentials or client_id and client_secret", true);
    const client = await authenticateClient(c.env.DB, creds.id, creds.secret);
    if (!client) return oauthError(c, 401, "invalid_client", "no such client, a wrong secret, or a revoked client", creds.basic);
    const asked = (form.get("scope") ?? "").split(" ").filter(Boolean);
    const extra = asked.filter((s) => !client.scopes.includes(s));
    if (extra.length > 0) return oauthError(c, 400, "invalid_scope", `the client does not hold ${extra.slice(0, 5).join(", ")}; it holds ${client.scopes.join(" ")}`);
    c.header("cache-control", "no-store");
    c.header("pragma", "no-cache");
    return c.json(await issueToken(c.env.DB, secret, client, asked.length > 0 ? [...new Set(asked)] : client.scopes));
  })
  .get("/.well-known/jwks.json", async (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json(await publishedKeys(c.env.DB));
  });
