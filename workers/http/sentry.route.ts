import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { authenticate } from "../apps/auth";
import { readBodyBytes } from "../ingest/body";
import { arrivalOf, ingest, type FoundKey } from "../ingest/ingest";
import { keyFromAuthHeader, translateEnvelope, translateStore, type SentryBatch } from "../intake/sentry";
import { HttpError } from "../lib/errors";

type Ctx = Context<{ Bindings: Env }>;

// An envelope of client reports or attachments alone holds nothing to keep, but is still
// answered as accepted once its key is known to be good.
class NothingToKeep extends Error {
  constructor(readonly batch: SentryBatch) {
    super("nothing to keep");
  }
}

// Sentry SDKs send the DSN's public key in an auth header or in the query string (browsers,
// to avoid a preflight); an envelope may also carry its DSN in its header.
function keyOutsideBody(c: Ctx): FoundKey | null {
  const header = keyFromAuthHeader(c.req.header("x-sentry-auth") ?? null) ?? keyFromAuthHeader(c.req.header("authorization") ?? null);
  if (header) return { key: header, from: "header" };
  const query = c.req.query("sentry_key");
  return query ? { key: query, from: "query" } : null;
}

// Sentry's error body is `{"detail": …}`; a refusal for load also says, in Sentry's own header,
// how long the SDK should hold back every category, which its transport obeys.
function refusal(c: Ctx, err: HttpError): Response {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  const retryAfter = err.headers["Retry-After"] ?? err.headers["retry-after"];
  if (retryAfter !== undefined) c.header("X-Sentry-Rate-Limits", `${retryAfter}::project:${err.code}`);
  return c.json({ detail: err.message }, err.status as ContentfulStatusCode);
}

async function intake(c: Ctx, translate: (bytes: Uint8Array) => SentryBatch): Promise<Response> {
  const request = c.req.raw;
  const key = keyOutsideBody(c);
  let id: string | null = null;
  try {
    const result = await ingest(
      {
        key,
        arrival: arrivalOf(request),
        read: async () => {
          const batch = translate(await readBodyBytes(request, { anyContentType: true }));
          id = batch.id;
          if (!key && !batch.key) throw new HttpError(401, "unauthorized", "the DSN's public key is required: sentry_key in the query, X-Sentry-Auth, or the envelope header's dsn");
          if (batch.events.length === 0) throw new NothingToKeep(batch);
          return { events: batch.events, envelope: { sentAt: batch.sentAt }, key: batch.key ? { key: batch.key, from: "body" } : null };
        },
      },
      { env: c.env, ctx: c.executionCtx },
    );
    // Nothing kept of what was sent: the SDK logs the reason with its debug option on.
    const first = result.rejected[0];
    if (result.accepted === 0 && first) return refusal(c, new HttpError(400, "invalid_body", `event ${first.index}: ${first.message}`));
  } catch (err) {
    if (err instanceof NothingToKeep) {
      // A key outside the body was checked before the body was read.
      if (!key) {
        try {
          await authenticate(c.env.DB, err.batch.key);
        } catch (authErr) {
          if (authErr instanceof HttpError) return refusal(c, authErr);
          throw authErr;
        }
      }
    } else if (err instanceof HttpError) {
      return refusal(c, err);
    } else {
      throw err;
    }
  }
  return c.json(id === null ? {} : { id }, 200);
}

/**
 * Sentry's intake: `POST /api/<project>/envelope/` and the older `/api/<project>/store/` (the
 * trailing slash optional, any project number), with the DSN's public key being one of our
 * write keys. Answers `{"id": <event id>}` as Sentry does, and refusals as `{"detail": …}`.
 */
export const sentryRoutes = new Hono<{ Bindings: Env }>();

const corsFor = cors({
  origin: "*",
  allowMethods: ["POST", "OPTIONS"],
  allowHeaders: ["Content-Type", "Content-Encoding", "X-Sentry-Auth", "Authorization"],
  exposeHeaders: ["Retry-After", "X-Sentry-Rate-Limits"],
  maxAge: 86_400,
});
for (const [path, translate] of [
  ["/api/:project/envelope", translateEnvelope],
  ["/api/:project/store", translateStore],
] as const) {
  for (const p of [path, `${path}/`]) {
    sentryRoutes.use(p, corsFor);
    sentryRoutes.post(p, (c) => intake(c, translate));
  }
}
