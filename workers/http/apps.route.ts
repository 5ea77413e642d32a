import { Hono } from "hono";
import { AppId, CreateApp, CreateWriteKey } from "../../schemas";
import { createApp, createWriteKey, getApp, listApps, listWriteKeys, revokeWriteKey } from "../lib/apps";
import { HttpError } from "../lib/errors";
import { jsonBody } from "../lib/validate";

function appIdParam(raw: string): string {
  const parsed = AppId.safeParse(raw);
  if (!parsed.success) throw new HttpError(404, "not_found", `no app ${raw.slice(0, 64)}`);
  return parsed.data;
}

/** Apps and write keys for operators (`/admin/apps`), until the dashboard manages them. */
export const appRoutes = new Hono<{ Bindings: Env }>()
  .get("/", async (c) => c.json({ apps: await listApps(c.env.DB) }))
  .post("/", async (c) => c.json({ app: await createApp(c.env.DB, await jsonBody(c.req.raw, CreateApp)) }, 201))
  .get("/:app", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const app = await getApp(c.env.DB, id);
    if (!app) throw new HttpError(404, "not_found", `no app ${id}`);
    return c.json({ app, keys: await listWriteKeys(c.env.DB, id) });
  })
  .post("/:app/keys", async (c) => {
    const id = appIdParam(c.req.param("app"));
    const body = await jsonBody(c.req.raw, CreateWriteKey);
    return c.json({ key: await createWriteKey(c.env.DB, id, body) }, 201);
  })
  .delete("/:app/keys/:key", async (c) => {
    const id = appIdParam(c.req.param("app"));
    return c.json({ key: await revokeWriteKey(c.env.DB, id, c.req.param("key")) });
  });
