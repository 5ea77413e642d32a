import { Hono } from "hono";
import { authenticate, writeKeyFromHeaders } from "./write-key";

/**
 * What every app gets until apps can set their own: everything captured, nothing sampled out.
 * The SDK can only narrow its own settings with it, e.g. `{capture: {network: false}}`.
 */
export const DEFAULT_SDK_CONFIG = {
  sampling: { network: 1, perf: 1 },
  capture: { pageviews: true, errors: true, network: true, vitals: true, interactions: true },
} as const;

/**
 * `GET /v1/config`: the SDK's remote configuration for the write key's app. The key comes as
 * for ingest, or as `?writeKey=`, which keeps the browser's request free of a CORS preflight.
 */
export const configRoutes = new Hono<{ Bindings: Env }>().get("/config", async (c) => {
  await authenticate(c.env.DB, writeKeyFromHeaders(c.req.raw.headers) ?? c.req.query("writeKey"));
  // Five minutes: a change reaches devices soon enough, and each device asks rarely.
  c.header("cache-control", "max-age=300");
  return c.json(DEFAULT_SDK_CONFIG);
});
