import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { config, ConfigError } from "../../schemas";
import { HttpError } from "../lib/errors";
import { errorText, log } from "../lib/log";
import { adminRoutes } from "./admin.route";
import { configRoutes } from "./config.route";
import { healthRoutes } from "./health.route";
import { ingestRoutes } from "./ingest.route";
import { oauthRoutes } from "./oauth.route";
import { openApiJson } from "./openapi";
import { sentryRoutes } from "./sentry.route";
import { posthogRoutes } from "./posthog.route";

/** The edge Worker's HTTP API. Every error, expected or not, answers `{error: {code, message}}`. */
export const app = new Hono<{ Bindings: Env }>()
  // A misconfigured deployment says what is wrong on every route, /health included.
  .use(async (c, next) => {
    config(c.env);
    await next();
  })
  .use(
    "/v1/*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "Content-Encoding", "X-Write-Key", "X-Retry-Count", "If-None-Match"],
      exposeHeaders: ["ETag"],
      maxAge: 86_400,
    }),
  )
  .route("/", healthRoutes)
  // Before ingest, whose `POST /v1/:name` would take `/v1/flags` for an unknown door.
  .route("/v1", configRoutes)
  .route("/v1", ingestRoutes)
  .route("/admin", adminRoutes)
  .route("/", oauthRoutes)
  .get("/openapi.json", (c) => c.body(openApiJson(), 200, { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=3600", "access-control-allow-origin": "*" }))
  .route("/", sentryRoutes)
  .route("/", posthogRoutes)
  .notFound(() => {
    throw new HttpError(404, "not_found", "no such route");
  })
  .onError((err, c) => {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(err.body(), err.status);
    }
    if (err instanceof ConfigError) {
      log.error("config.invalid", { error: err.message });
      return c.json({ error: { code: "misconfigured", message: err.message } }, 500);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      return c.json({ error: { code: status === 405 ? "method_not_allowed" : "invalid_body", message: err.message || "bad request" } }, status);
    }
    log.error("http.unhandled", { method: c.req.method, path: c.req.path, error: errorText(err), stack: err instanceof Error ? err.stack : undefined });
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });
