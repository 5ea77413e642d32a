import { Hono } from "hono";
import { AppId } from "../../schemas";
import { archiveBucket } from "../apps/location";
import { getApp, OPERATOR } from "../apps/store";
import { readBody } from "../ingest/body";
import { forgetSourceMaps } from "../ingest/symbolicate";
import { HttpError } from "../lib/errors";
import { deleteSourceMaps, isRelease, isScriptName, listSourceMaps, MAX_SOURCE_MAP_BYTES, parseSourceMap, putSourceMap } from "../sourcemaps/store";

// The app's maps live in the bucket of its location.
async function liveApp(env: Env, raw: string): Promise<{ appId: string; bucket: R2Bucket }> {
  const parsed = AppId.safeParse(raw);
  const app = parsed.success ? await getApp(env.DB, OPERATOR, parsed.data) : null;
  if (app) return { appId: app.id, bucket: archiveBucket(env, app.location) };
  throw new HttpError(404, "not_found", `no app ${raw.slice(0, 64)}`);
}

function releaseParam(raw: string): string {
  if (!isRelease(raw)) throw new HttpError(400, "invalid_body", "a release is 1-200 letters, digits, . _ + @ or -, starting with a letter or digit (e.g. 1.4.0+212)");
  return raw;
}

/**
 * Source maps per app and release for operators, under `/admin/apps/:app/releases/:release/sourcemaps`:
 * `PUT …/:file` stores the map (raw JSON body, gzip accepted) of the minified file named `:file`
 * (its basename, e.g. `app.3f2a1b.js`), `GET` lists a release's maps, `DELETE` removes them all.
 */
export const sourceMapRoutes = new Hono<{ Bindings: Env }>()
  .put("/apps/:app/releases/:release/sourcemaps/:file", async (c) => {
    const { appId, bucket } = await liveApp(c.env, c.req.param("app"));
    const release = releaseParam(c.req.param("release"));
    const file = c.req.param("file");
    if (!isScriptName(file)) throw new HttpError(400, "invalid_body", "the file is the minified script's basename: up to 200 letters, digits, . _ ~ @ + $ or -, ending in .js, .mjs or .cjs (e.g. app.3f2a1b.js)");
    const map = parseSourceMap(await readBody(c.req.raw, { maxBytes: MAX_SOURCE_MAP_BYTES, anyContentType: true }));
    if (typeof map === "string") throw new HttpError(400, "invalid_body", `not a source map v3: ${map}`);
    const bytes = await putSourceMap(bucket, appId, release, file, map);
    forgetSourceMaps(appId, release);
    return c.json({ sourceMap: { app: appId, release, file, bytes } }, 201);
  })
  .get("/apps/:app/releases/:release/sourcemaps", async (c) => {
    const { appId, bucket } = await liveApp(c.env, c.req.param("app"));
    const release = releaseParam(c.req.param("release"));
    return c.json({ app: appId, release, sourceMaps: await listSourceMaps(bucket, appId, release) });
  })
  .delete("/apps/:app/releases/:release/sourcemaps", async (c) => {
    const { appId, bucket } = await liveApp(c.env, c.req.param("app"));
    const release = releaseParam(c.req.param("release"));
    const deleted = await deleteSourceMaps(bucket, appId, release);
    forgetSourceMaps(appId, release);
    return c.json({ app: appId, release, deleted });
  });
