import { Hono, type Context } from "hono";
import { z } from "zod";
import { AppId } from "../../schemas";
import { appFlagsFor, type AppFlagsAdmin, type ConfigSaved, type Invalid, type Saved } from "../flags/service";
import { HttpError } from "../lib/errors";
import { jsonBody } from "../lib/validate";
import { actorOf, type AdminEnv } from "./admin-auth";

// Feature flags and remote configuration over the admin API: `/admin/apps/:app/flags…` and
// `/admin/apps/:app/config…`. Every change is recorded with its author: "admin" for the
// operator's token, `client:<id>` for an organisation's API client.

type Ctx = Context<AdminEnv>;

async function admin(c: Ctx): Promise<AppFlagsAdmin> {
  const raw = c.req.param("app") ?? "";
  const parsed = AppId.safeParse(raw);
  const flags = parsed.success ? await appFlagsFor(c.env.DB, actorOf(c).scope, parsed.data) : null;
  if (!flags) throw new HttpError(404, "not_found", `no app ${raw.slice(0, 64)}`);
  return flags;
}

const noFlag = (key: string) => new HttpError(404, "not_found", `no flag ${key.slice(0, 64)}`);

function saved(result: Saved | ConfigSaved | Invalid, what: string): number {
  switch (result.status) {
    case "saved":
      return result.version;
    case "invalid":
      throw new HttpError(400, "invalid_body", result.errors.join("; "));
    case "conflict":
      throw new HttpError(409, "conflict", `the ${what} changed meanwhile (now version ${result.version}): read it again and reapply your change`);
    case "missing":
      throw new HttpError(404, "not_found", `no such ${what} version`);
  }
}

/** `If-Match: <version>` or `?expected=` makes a save apply only to the version it was read at. */
function expected(c: Ctx): number | undefined {
  const raw = c.req.header("if-match")?.replace(/"/g, "") ?? c.req.query("expected");
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, "invalid_body", "If-Match (or expected) must be the version you read, a whole number");
  return n;
}

function limit(c: Ctx): number {
  const n = Number(c.req.query("limit") ?? "50");
  if (!Number.isSafeInteger(n) || n < 1 || n > 500) throw new HttpError(400, "invalid_body", "limit must be a whole number from 1 to 500");
  return n;
}

const AnyObject = z.record(z.string(), z.unknown(), { error: "the body must be a JSON object" });
const Rollback = z.object({ version: z.number().int().positive() }).strict();
const ConfigBody = z.object({ config: z.unknown(), schema: z.unknown().optional(), note: z.string().max(500).optional() }).strict();

export const flagRoutes = new Hono<AdminEnv>()
  .get("/:app/flags", async (c) => {
    const flags = await (await admin(c)).list();
    return c.json({ flags });
  })
  .post("/:app/flags", async (c) => {
    const flags = await admin(c);
    const body = await jsonBody(c.req.raw, AnyObject);
    const key = typeof body.key === "string" ? body.key : "";
    if (key && (await flags.get(key))) throw new HttpError(409, "conflict", `a flag ${key} exists: change it with PUT /admin/apps/:app/flags/${key}`);
    const version = saved(await flags.save(body, { by: actorOf(c).by, expected: 0 }), "flag");
    return c.json({ flag: await flags.get(key), version }, 201);
  })
  .get("/:app/flags/:key", async (c) => {
    const flag = await (await admin(c)).get(c.req.param("key"));
    if (!flag) throw noFlag(c.req.param("key"));
    return c.json(flag);
  })
  // The body is the whole flag; its key is the path's.
  .put("/:app/flags/:key", async (c) => {
    const flags = await admin(c);
    const key = c.req.param("key");
    const body = await jsonBody(c.req.raw, AnyObject);
    const version = saved(await flags.save({ ...body, key }, { by: actorOf(c).by, expected: expected(c) }), "flag");
    return c.json({ flag: await flags.get(key), version });
  })
  .delete("/:app/flags/:key", async (c) => {
    const flags = await admin(c);
    const result = await flags.remove(c.req.param("key"), { by: actorOf(c).by });
    if (result.status === "missing") throw noFlag(c.req.param("key"));
    return c.json({ deleted: c.req.param("key"), version: saved(result, "flag") });
  })
  .get("/:app/flags/:key/history", async (c) => {
    const changes = await (await admin(c)).history(c.req.param("key"), limit(c));
    return c.json({ changes });
  })
  .post("/:app/flags/:key/rollback", async (c) => {
    const flags = await admin(c);
    const { version: to } = await jsonBody(c.req.raw, Rollback);
    const version = saved(await flags.rollback(c.req.param("key"), to, { by: actorOf(c).by }), "flag");
    return c.json({ flag: await flags.get(c.req.param("key")), version });
  })
  .get("/:app/config", async (c) => c.json(await (await admin(c)).config()))
  .put("/:app/config", async (c) => {
    const flags = await admin(c);
    const body = await jsonBody(c.req.raw, ConfigBody);
    saved(await flags.saveConfig({ config: body.config, schema: body.schema }, { by: actorOf(c).by, expected: expected(c), note: body.note }), "configuration");
    return c.json(await flags.config());
  })
  .get("/:app/config/history", async (c) => c.json({ versions: await (await admin(c)).configHistory(limit(c)) }))
  .post("/:app/config/rollback", async (c) => {
    const flags = await admin(c);
    const { version } = await jsonBody(c.req.raw, Rollback);
    saved(await flags.rollbackConfig(version, { by: actorOf(c).by }), "configuration");
    return c.json(await flags.config());
  });
