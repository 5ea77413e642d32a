import { Hono } from "hono";
import { config } from "../../schemas";
import { archiveBuckets } from "../apps/location";
import { HttpError } from "../lib/errors";
import { DEAD_LETTER_PREFIX, replayDeadLetters } from "../queue/dead-letters";
import { alertRoutes } from "./alerts.route";
import { appRoutes } from "./apps.route";
import { flagRoutes } from "./flags.route";
import { privacyRoutes } from "./privacy.route";
import { sourceMapRoutes } from "./sourcemaps.route";

function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Operator routes under `/admin`, behind `Authorization: Bearer $ADMIN_TOKEN`. */
export const adminRoutes = new Hono<{ Bindings: Env }>()
  .use(async (c, next) => {
    const token = config(c.env).adminToken;
    if (!token) throw new HttpError(403, "forbidden", "admin routes are off: set the ADMIN_TOKEN secret");
    const given = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    if (!given || !timingSafeEqual(given, token)) throw new HttpError(401, "unauthorized", "a valid admin token is required as `Authorization: Bearer <token>`");
    await next();
  })
  .route("/", sourceMapRoutes)
  .route("/apps", appRoutes)
  .route("/apps", alertRoutes)
  .route("/apps", flagRoutes)
  .route("/apps", privacyRoutes)
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
