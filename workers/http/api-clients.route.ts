import { Hono } from "hono";
import { z } from "zod";
import { API_SCOPES } from "../../schemas";
import { createClient, getClient, listClients, revokeClient, rotateSecret } from "../oauth/clients";
import { HttpError } from "../lib/errors";
import { jsonBody } from "../lib/validate";
import type { AdminEnv } from "./admin-auth";

// An organisation's API clients, for the operator (`/admin/orgs/:org/api-clients…`): how the
// first client of an organisation is made from a script; members make theirs in the dashboard.

const NewClient = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(API_SCOPES)).min(1),
    appIds: z.array(z.string()).min(1).max(100).optional(),
  })
  .strict();
const Rotate = z.object({ overlapSeconds: z.number().int().min(0).max(7 * 86_400, "overlapSeconds is at most a week (604800)").optional() }).strict();

async function orgParam(db: D1Database, raw: string): Promise<string> {
  const org = await db.prepare("SELECT id FROM orgs WHERE id = ?").bind(raw.slice(0, 100)).first<{ id: string }>();
  if (!org) throw new HttpError(404, "not_found", `no organisation ${raw.slice(0, 64)}`);
  return org.id;
}

export const apiClientRoutes = new Hono<AdminEnv>()
  .get("/:org/api-clients", async (c) => c.json({ clients: await listClients(c.env.DB, await orgParam(c.env.DB, c.req.param("org"))) }))
  .post("/:org/api-clients", async (c) => {
    const org = await orgParam(c.env.DB, c.req.param("org"));
    const body = await jsonBody(c.req.raw, NewClient);
    const made = await createClient(c.env.DB, org, body, API_SCOPES, "admin");
    if (!made.ok) throw new HttpError(400, "invalid_body", made.reason);
    return c.json({ client: made.client, secret: made.secret }, 201);
  })
  .get("/:org/api-clients/:client", async (c) => {
    const client = await getClient(c.env.DB, await orgParam(c.env.DB, c.req.param("org")), c.req.param("client"));
    if (!client) throw new HttpError(404, "not_found", "no such API client");
    return c.json({ client });
  })
  .post("/:org/api-clients/:client/rotate", async (c) => {
    const { overlapSeconds } = await jsonBody(c.req.raw, Rotate);
    const rotated = await rotateSecret(c.env.DB, await orgParam(c.env.DB, c.req.param("org")), c.req.param("client"), (overlapSeconds ?? 86_400) * 1000);
    if (!rotated) throw new HttpError(404, "not_found", "no such live API client");
    return c.json(rotated);
  })
  .delete("/:org/api-clients/:client", async (c) => {
    if (!(await revokeClient(c.env.DB, await orgParam(c.env.DB, c.req.param("org")), c.req.param("client")))) throw new HttpError(404, "not_found", "no such live API client");
    return c.json({ revoked: c.req.param("client") });
  });
