import { Hono } from "hono";
import { archiveBuckets } from "../apps/location";
import { HttpError } from "../lib/errors";
import { DEAD_LETTER_PREFIX, replayDeadLetters } from "../queue/dead-letters";
import { adminAuth, type AdminEnv } from "./admin-auth";
import { alertRoutes } from "./alerts.route";
import { apiClientRoutes } from "./api-clients.route";
import { exportRoutes } from "./exports.route";
import { appRoutes } from "./apps.route";
import { flagRoutes } from "./flags.route";
import { lakeRoutes } from "./lake.route";
import { privacyRoutes } from "./privacy.route";
import { sourceMapRoutes } from "./sourcemaps.route";

/**
 * Routes under `/admin`, behind `Authorization: Bearer <token>`: the operator's ADMIN_TOKEN, or an
 * organisation's OAuth access token, limited to its apps and scopes (admin-auth.ts).
 */
export const adminRoutes = new Hono<AdminEnv>()
  .use(adminAuth)
  .route("/", sourceMapRoutes)
  .route("/apps", appRoutes)
  .route("/apps", alertRoutes)
  .route("/apps", flagRoutes)
  .route("/orgs", apiClientRoutes)
  .route("/apps", privacyRoutes)
  .route("/apps", exportRoutes)
  .route("/apps", lakeRoutes)
  .get("/dead-letters", async (c) => {
    const listings = await Promise.all(archiveBuckets(c.env).map(async ({ location, bucket }) => ({ location, listing: await bucket.list({ prefix: DEAD_LETTER_PREFIX, limit: 1000 }) })));
    return c.json({
      deadLetters: listings.flatMap(({ location, listing }) => listing.objects.map((o) => ({ key: o.key, bytes: o.size, uploaded: o.uploaded.toISOString(), location }))),
      truncated: listings.some(({ listing }) => listing.truncated),
    });
  })
  .post("/dead-letters/replay", async (c) => {
    const prefix = c.req.query("prefix") ?? "";
    const limit = Number(c.req.query("limit") ?? "100");
    if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, "invalid_body", "limit must be a positive whole number");
    return c.json(await replayDeadLetters(c.env, { prefix, limit }));
  });
