import { Hono } from "hono";
import { AppId, config } from "../../schemas";
import { LakeReplay } from "../../schemas/lake";
import { archiveBucket } from "../apps/location";
import { getApp, OPERATOR } from "../apps/store";
import { HttpError } from "../lib/errors";
import { jsonBody } from "../lib/validate";
import { readAppManifest } from "../lake/manifest";
import { replayLake } from "../lake/replay";
import { withReplayDeps } from "../lake/service";
import type { AdminEnv } from "./admin-auth";

// An app's data lake (`/admin/apps/:app/lake`): its manifest, and replaying it into ClickHouse.
// Operators only (admin-auth.ts gives these paths no API scope): a replay writes events.

async function liveApp(db: D1Database, raw: string | undefined) {
  const parsed = AppId.safeParse(raw);
  const app = parsed.success ? await getApp(db, OPERATOR, parsed.data) : null;
  if (app === null) throw new HttpError(404, "not_found", `no app ${(raw ?? "").slice(0, 64)}`);
  return app;
}

export const lakeRoutes = new Hono<AdminEnv>()
  .get("/:app/lake", async (c) => {
    const app = await liveApp(c.env.DB, c.req.param("app"));
    return c.json({ location: app.location, manifest: await readAppManifest(archiveBucket(c.env, app.location), app.id) });
  })
  .post("/:app/lake/replay", async (c) => {
    const app = await liveApp(c.env.DB, c.req.param("app"));
    const req = await jsonBody(c.req.raw, LakeReplay);
    return c.json(await withReplayDeps(config(c.env).clickhouse, archiveBucket(c.env, app.location), (deps) => replayLake(deps, app.id, req)));
  });
