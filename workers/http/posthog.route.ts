import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { config } from "../../schemas";
import { readBody } from "../ingest/body";
import { arrivalOf, ingest } from "../ingest/ingest";
import { appFlags, caller, flagsFor } from "../flags/serve";
import { decodeCapture, flagsAnswer, fromPostHog, remoteConfig, remoteConfigScript } from "../intake/posthog";
import { HttpError } from "../lib/errors";
import { isRecord, recordOf } from "../lib/json";
import { authenticate } from "./write-key";
import { DEFAULT_SDK_CONFIG } from "./config.route";

type Ctx = Context<{ Bindings: Env }>;

// Every path of PostHog's capture API, with and without the trailing slash its clients add.
const CAPTURE = ["/capture", "/batch", "/e", "/i/v0/e"].flatMap((p) => [p, `${p}/`]);
const FLAGS = ["/flags", "/decide"].flatMap((p) => [p, `${p}/`]);
const CONFIG_JSON = "/array/:token/config";
const CONFIG_JS = "/array/:token/config.js";

// PostHog's error body (`type`, `code`, `detail`, `attr`), which its clients log as sent.
const ERROR_TYPES: Partial<Record<number, string>> = { 401: "authentication_error", 429: "throttled", 503: "server_error" };

function refusal(c: Ctx, err: HttpError): Response {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  const type = ERROR_TYPES[err.status] ?? (err.status >= 500 ? "server_error" : "validation_error");
  return c.json({ type, code: err.code, detail: err.message, attr: null }, err.status as ContentfulStatusCode);
}

function epochMs(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{10,16}$/.test(v)) return undefined;
  return Number(v);
}

async function capture(c: Ctx): Promise<Response> {
  const request = c.req.raw;
  const arrival = arrivalOf(request);
  const compression = c.req.query("compression") ?? null;
  const gzip = compression === "gzip-js" || compression === "gzip";
  try {
    const result = await ingest(
      {
        key: null,
        arrival,
        read: async () => {
          // posthog-js gzips without saying so in a header, and recent versions not in the query either.
          const body = request.method === "GET" ? "" : await readBody(request, { decompress: gzip ? "gzip" : "auto", anyContentType: true });
          return fromPostHog(body, { compression: gzip ? null : compression, data: c.req.query("data") }, {
            receivedAt: arrival.receivedAt,
            querySentAt: epochMs(c.req.query("sent_at") ?? c.req.query("_")),
            queryKey: c.req.query("token") ?? c.req.query("api_key") ?? null,
          });
        },
      },
      { env: c.env, ctx: c.executionCtx },
    );
    // posthog-js retries any answer but exactly 200, so success is always 200.
    return c.json({ status: 1, ...result }, 200);
  } catch (err) {
    if (err instanceof HttpError) return refusal(c, err);
    throw err;
  }
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * `/flags/` and `/decide/`: the app's flags evaluated for PostHog's caller. PostHog targets and
 * buckets a person by `distinct_id`, so that is the caller's id here too, and its
 * `person_properties` are the traits rules test.
 */
async function flags(c: Ctx): Promise<Response> {
  const request = c.req.raw;
  const compression = c.req.query("compression") ?? null;
  const gzip = compression === "gzip-js" || compression === "gzip";
  try {
    const body = request.method === "GET" ? "" : await readBody(request, { decompress: gzip ? "gzip" : "auto", anyContentType: true });
    const payload = body.trim() === "" && !c.req.query("data") ? {} : decodeCapture(body, { compression: gzip ? null : compression, data: c.req.query("data") });
    const p = recordOf(payload);
    const token = text(p.token) ?? text(p.api_key) ?? c.req.query("token") ?? c.req.query("api_key") ?? null;
    const app = await appFlags(c.env.DB, (await authenticate(c.env.DB, token)).appId, Date.now(), config(c.env).flagsRecheckMs);
    if (!app) throw new HttpError(401, "unauthorized", "this project key's app no longer exists");
    const distinctId = text(p.distinct_id);
    const traits = isRecord(p.person_properties) ? p.person_properties : undefined;
    const country = (request.cf as { country?: unknown } | undefined)?.country;
    const served = flagsFor(app, caller({ userId: distinctId, anonymousId: text(p.$anon_distinct_id) ?? distinctId, traits }), typeof country === "string" ? country : undefined);
    const only = Array.isArray(p.flag_keys) ? new Set(p.flag_keys.filter((k): k is string => typeof k === "string")) : null;
    const answers = only ? Object.fromEntries(Object.entries(served).filter(([k]) => only.has(k))) : served;
    return c.json(flagsAnswer(token ?? "", answers));
  } catch (err) {
    if (err instanceof HttpError) return refusal(c, err);
    throw err;
  }
}

/** Whether the token's app has flags, so posthog-js asks for them; an unknown token has none. */
async function hasFlags(c: Ctx, token: string): Promise<boolean> {
  try {
    const app = await appFlags(c.env.DB, (await authenticate(c.env.DB, token)).appId, Date.now(), config(c.env).flagsRecheckMs);
    return (app?.flags.length ?? 0) > 0;
  } catch (err) {
    if (err instanceof HttpError) return false;
    throw err;
  }
}

/**
 * PostHog's capture API (`/capture/`, `/batch/`, `/e/`, `/i/v0/e/`), with the project key
 * (`api_key`, `token` or each event's `properties.token`) being one of our write keys, and the
 * flag and config calls posthog-js makes at start.
 */
export const posthogRoutes = new Hono<{ Bindings: Env }>();

const corsFor = cors({ origin: "*", allowMethods: ["GET", "POST", "OPTIONS"], allowHeaders: ["Content-Type", "Content-Encoding"], exposeHeaders: ["Retry-After"], maxAge: 86_400 });
for (const path of [...CAPTURE, ...FLAGS, CONFIG_JSON, CONFIG_JS]) posthogRoutes.use(path, corsFor);
for (const path of CAPTURE) posthogRoutes.on(["GET", "POST"], path, capture);
for (const path of FLAGS) posthogRoutes.on(["GET", "POST"], path, flags);
posthogRoutes.get(CONFIG_JSON, async (c) => {
  const token = c.req.param("token") ?? "";
  return c.json(remoteConfig(token, await hasFlags(c, token)), 200, { "Cache-Control": "public, max-age=300" });
});
posthogRoutes.get(CONFIG_JS, async (c) => {
  const token = c.req.param("token") ?? "";
  return c.body(remoteConfigScript(token, await hasFlags(c, token)), 200, { "Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" });
});
