import { Hono } from "hono";
import { z } from "zod";
import { AppId, CreateApp, CreateWriteKey, MAX_URL_TEMPLATES, UrlTemplates } from "../../schemas";
import { deleteApp } from "../apps/delete";
import { batcherStub } from "../apps/location";
import { withDeletionDeps } from "../apps/service";
import { createApp, createWriteKey, getApp, getUrlTemplates, listApps, listWriteKeys, OPERATOR, revokeWriteKey, setUrlTemplates } from "../apps/store";
import { HttpError } from "../lib/errors";
import { jsonBody, zodMessage } from "../lib/validate";
import { actorOf, type AdminEnv } from "./admin-auth";

const noApp = (id: string) => new HttpError(404, "not_found", `no app ${id.slice(0, 64)}`);

function appIdParam(raw: string): string {
  const parsed = AppId.safeParse(raw);
  if (!parsed.success) throw noApp(raw);
  return parsed.data;
}

const TemplatesBody = z.object({ templates: z.array(z.unknown()) });

// The answer names the template that is wrong, as the operator wrote it.
function urlTemplates(templates: readonly unknown[]): string[] {
  if (templates.length > MAX_URL_TEMPLATES) throw new HttpError(400, "invalid_body", `at most ${MAX_URL_TEMPLATES} URL templates, got ${templates.length}`);
  const parsed = UrlTemplates.safeParse(templates);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue?.path[0];
  if (issue === undefined || typeof at !== "number") throw new HttpError(400, "invalid_body", zodMessage(parsed.error.issues));
  throw new HttpError(400, "invalid_body", `template ${at + 1} ${JSON.stringify(templates[at])?.slice(0, 200) ?? "undefined"}: ${issue.message}`);
}

/**
 * Apps and write keys (`/admin/apps`): every organisation's for the operator, one organisation's
 * for its API clients (whose access to each app admin-auth.ts has checked before these run).
 */
export const appRoutes = new Hono<AdminEnv>()
  .get("/", async (c) => {
    const { scope, grant } = actorOf(c);
    const apps = await listApps(c.env.DB, scope);
    return c.json({ apps: grant?.appIds ? apps.filter((a) => grant.appIds?.includes(a.id)) : apps });
  })
  .post("/", async (c) => {
    const app = await createApp(c.env.DB, actorOf(c).scope, await jsonBody(c.req.raw, CreateApp));
    // The same answer whoever holds the id, or held it: ids of deleted apps are never reused.
    if (app === "unavailable") throw new HttpError(409, "conflict", "that app id is not available: choose another");
    return c.json({ app }, 201);
  })
  .get("/:app", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const app = await getApp(c.env.DB, OPERATOR, id);
    if (!app) throw noApp(id);
    return c.json({ app, keys: await listWriteKeys(c.env.DB, OPERATOR, id) });
  })
  // Each shard's backlog, counters and SQLite usage, read from its batcher.
  .get("/:app/shards", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const app = await getApp(c.env.DB, OPERATOR, id);
    if (!app) throw noApp(id);
    const shards = await Promise.all(Array.from({ length: app.shardCount }, async (_, shard) => ({ shard, ...(await batcherStub(c.env, app.location, id, shard).stats()) })));
    return c.json({ shards });
  })
  .delete("/:app", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const result = await withDeletionDeps(c.env, (deps) => deleteApp(deps, OPERATOR, id));
    if (!result.deleted) throw noApp(id);
    return c.json({ app: { id }, purged: result.purged });
  })
  .get("/:app/url-templates", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const templates = await getUrlTemplates(c.env.DB, OPERATOR, id);
    if (!templates) throw noApp(id);
    return c.json({ templates });
  })
  // Calls received within a minute of a change may still be grouped by the old templates.
  .put("/:app/url-templates", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const templates = urlTemplates((await jsonBody(c.req.raw, TemplatesBody)).templates);
    if (!(await setUrlTemplates(c.env.DB, OPERATOR, id, templates))) throw noApp(id);
    return c.json({ templates });
  })
  .post("/:app/keys", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const body = await jsonBody(c.req.raw, CreateWriteKey);
    const key = await createWriteKey(c.env.DB, OPERATOR, id, body);
    if (key === "no_app") throw noApp(id);
    if (key === "key_in_use") throw new HttpError(409, "conflict", "that write key is already in use or was revoked");
    return c.json({ key }, 201);
  })
  .delete("/:app/keys/:key", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const key = await revokeWriteKey(c.env.DB, OPERATOR, id, c.req.param("key"));
    if (!key) throw new HttpError(404, "not_found", `no key ${c.req.param("key").slice(0, 64)} for app ${id}`);
    return c.json({ key });
  });
