import { Hono, type Context } from "hono";
import { config } from "../../schemas";
import { readBody } from "../ingest/body";
import { appFlags, caller, callerFromQuery, notModified, serve, type CallerInput } from "../flags/serve";
import { HttpError } from "../lib/errors";
import { authenticate, writeKeyFromHeaders } from "./write-key";

/**
 * What every app's SDKs get beside its flags and configuration: everything captured, nothing
 * sampled out. The SDK can only narrow its own settings with it, e.g. `{capture: {network: false}}`.
 */
export const DEFAULT_SDK_CONFIG = {
  sampling: { network: 1, perf: 1 },
  capture: { pageviews: true, errors: true, network: true, vitals: true, interactions: true },
} as const;

type Ctx = Context<{ Bindings: Env }>;

async function answer(c: Ctx, who: CallerInput): Promise<Response> {
  const auth = await authenticate(c.env.DB, writeKeyFromHeaders(c.req.raw.headers) ?? c.req.query("writeKey"));
  const app = await appFlags(c.env.DB, auth.appId, Date.now(), config(c.env).flagsRecheckMs);
  if (!app) throw new HttpError(401, "unauthorized", "this write key's app no longer exists");
  const country = (c.req.raw.cf as { country?: unknown } | undefined)?.country;
  const { body, etag } = serve(app, DEFAULT_SDK_CONFIG, who, typeof country === "string" ? country : undefined);
  // Devices always revalidate: the answer is per caller and changes within seconds of a team's
  // change, and an unchanged one costs a 304 without a body.
  c.header("etag", etag);
  c.header("cache-control", "private, no-cache");
  c.header("vary", "Authorization, X-Write-Key");
  if (notModified(c.req.header("if-none-match"), etag)) return c.body(null, 304);
  return c.body(body, 200, { "content-type": "application/json; charset=utf-8" });
}

/**
 * `GET /v1/config`: the app's configuration and its flags evaluated for the caller described in
 * the query (`userId`, `anonymousId`, `platform`, `os`, `appVersion`, `locale`, `traits` as JSON).
 * The key comes as for ingest, or as `?writeKey=`, which keeps the browser's request free of a
 * CORS preflight. `POST /v1/flags` answers the same for a caller in a JSON body, for servers
 * that evaluate for many users and for traits too large for a URL.
 */
export const configRoutes = new Hono<{ Bindings: Env }>()
  .get("/config", (c) => answer(c, callerFromQuery((name) => c.req.query(name))))
  .post("/flags", async (c) => {
    // text/plain is accepted so a browser can send it without a preflight.
    const text = await readBody(c.req.raw, { anyContentType: true });
    let raw: unknown;
    try {
      raw = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      throw new HttpError(400, "invalid_json", "the body is not valid JSON");
    }
    return answer(c, caller(raw));
  });
