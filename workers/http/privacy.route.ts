import { Hono } from "hono";
import { AppId, config } from "../../schemas";
import { storedIdOf } from "../apps/stored-ids";
import { getApp, OPERATOR } from "../apps/store";
import { clickhouseClient } from "../lib/clickhouse";
import { HttpError } from "../lib/errors";
import { jsonBody, zodMessage } from "../lib/validate";
import { exportPage, MAX_EXPORT_PAGE } from "../privacy/export";
import { getDeletion, listAudit, listDeletions, recordExport, requestDeletion } from "../privacy/requests";
import { clientRead, subjectOf, SubjectInput, withStoredIds, type Subject } from "../privacy/subject";

// A person's data for operators (`/admin/apps/:app/privacy/…`): deletion requests (answered at
// once, run by the cron), the audit log, and subject access exports.

/** Who the audit log names for requests made with the admin token. */
const ADMIN = "admin";

const noApp = (id: string) => new HttpError(404, "not_found", `no app ${id.slice(0, 64)}`);

async function liveApp(db: D1Database, raw: string | undefined): Promise<string> {
  const parsed = AppId.safeParse(raw);
  if (!parsed.success || !(await getApp(db, OPERATOR, parsed.data))) throw noApp(raw ?? "");
  return parsed.data;
}

function subject(input: SubjectInput): Subject {
  const s = subjectOf(input);
  if ("error" in s) throw new HttpError(400, "invalid_body", s.error);
  return s;
}

function pageLimit(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_EXPORT_PAGE) throw new HttpError(400, "invalid_body", `limit must be a whole number from 1 to ${MAX_EXPORT_PAGE}`);
  return n;
}

export const privacyRoutes = new Hono<{ Bindings: Env }>()
  // 202: the edge drops the person's events within a minute; the cron deletes their rows a few minutes later.
  .post("/:app/privacy/deletions", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const request = await requestDeletion(c.env.DB, appId, subject(await jsonBody(c.req.raw, SubjectInput)), ADMIN);
    return c.json({ request }, 202);
  })
  .get("/:app/privacy/deletions", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    return c.json({ requests: await listDeletions(c.env.DB, appId) });
  })
  .get("/:app/privacy/deletions/:id", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const request = await getDeletion(c.env.DB, appId, c.req.param("id"));
    if (!request) throw new HttpError(404, "not_found", `no deletion request ${c.req.param("id").slice(0, 64)}`);
    return c.json({ request });
  })
  .get("/:app/privacy/audit", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    return c.json({ entries: await listAudit(c.env.DB, appId) });
  })
  // `?userId=` and/or `?anonymousId=`; events beyond `limit` continue with `?cursor=<nextCursor>`.
  .get("/:app/privacy/export", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const input = SubjectInput.safeParse({ userIds: c.req.queries("userId"), anonymousIds: c.req.queries("anonymousId") });
    if (!input.success) throw new HttpError(400, "invalid_body", zodMessage(input.error.issues));
    const asked = withStoredIds(subject(input.data), await storedIdOf(c.env.DB, appId));
    const cursor = c.req.query("cursor") ?? null;
    const client = clickhouseClient(config(c.env).clickhouse);
    try {
      const page = await exportPage(clientRead(client, appId), asked, { cursor, limit: pageLimit(c.req.query("limit")) });
      if ("error" in page) throw new HttpError(400, "invalid_body", page.error);
      if (cursor === null) await recordExport(c.env.DB, appId, page.subject, ADMIN);
      return c.json({ app: appId, exportedAt: new Date().toISOString(), ...page });
    } finally {
      await client.close();
    }
  });
