import { Hono } from "hono";
import { AppId, config, CreateExport, isDevelopment, RunExport, UpdateExport } from "../../schemas";
import { appOrgId, OPERATOR } from "../apps/store";
import { exportDeps } from "../exports/service";
import { latestPeriod, periodAt } from "../exports/period";
import { runNow } from "../exports/run";
import { createSchedule, deleteSchedule, getSchedule, listRuns, listSchedules, updateSchedule, type ScheduleChange } from "../exports/store";
import { HttpError } from "../lib/errors";
import { jsonBody } from "../lib/validate";
import { actorOf, type AdminEnv } from "./admin-auth";

// Scheduled exports of an app (`/admin/apps/:app/exports`): the schedules, their run log, and a
// period exported now. admin-auth.ts has already kept the caller to its organisation's apps.

const noApp = (id: string) => new HttpError(404, "not_found", `no app ${id.slice(0, 64)}`);
const noSchedule = (id: string) => new HttpError(404, "not_found", `no export ${id.slice(0, 64)}`);

async function liveApp(db: D1Database, raw: string | undefined): Promise<string> {
  const parsed = AppId.safeParse(raw);
  if (!parsed.success || (await appOrgId(db, OPERATOR, parsed.data)) === undefined) throw noApp(raw ?? "");
  return parsed.data;
}

function changed(result: ScheduleChange | null, id: string) {
  if (result === null) throw noSchedule(id);
  if (!result.ok) throw new HttpError(400, "invalid_body", result.reason);
  return result.schedule;
}

const storeOptions = (env: Env, by: string) => ({ by, sealSecret: config(env).oauthKeySecret, localMode: isDevelopment(env) });

export const exportRoutes = new Hono<AdminEnv>()
  .get("/:app/exports", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    return c.json({ exports: await listSchedules(c.env.DB, appId) });
  })
  .post("/:app/exports", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const input = await jsonBody(c.req.raw, CreateExport);
    return c.json({ export: changed(await createSchedule(c.env.DB, appId, input, storeOptions(c.env, actorOf(c).by)), appId) }, 201);
  })
  .get("/:app/exports/:id", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const schedule = await getSchedule(c.env.DB, appId, c.req.param("id"));
    if (!schedule) throw noSchedule(c.req.param("id"));
    return c.json({ export: schedule, runs: await listRuns(c.env.DB, appId, schedule.id, 20) });
  })
  .patch("/:app/exports/:id", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const change = await jsonBody(c.req.raw, UpdateExport);
    return c.json({ export: changed(await updateSchedule(c.env.DB, appId, c.req.param("id"), change, storeOptions(c.env, actorOf(c).by)), c.req.param("id")) });
  })
  .delete("/:app/exports/:id", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    if (!(await deleteSchedule(c.env.DB, appId, c.req.param("id")))) throw noSchedule(c.req.param("id"));
    return c.json({ export: { id: c.req.param("id") } });
  })
  .get("/:app/exports/:id/runs", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    if (!(await getSchedule(c.env.DB, appId, c.req.param("id")))) throw noSchedule(c.req.param("id"));
    const limit = Number(c.req.query("limit") ?? "50");
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, "invalid_body", "limit must be a whole number from 1 to 500");
    return c.json({ runs: await listRuns(c.env.DB, appId, c.req.param("id"), limit) });
  })
  // Exports the period now, again if it was exported before; answers when the file is written or the attempt failed (the run says which).
  .post("/:app/exports/:id/run", async (c) => {
    const appId = await liveApp(c.env.DB, c.req.param("app"));
    const schedule = await getSchedule(c.env.DB, appId, c.req.param("id"));
    if (!schedule) throw noSchedule(c.req.param("id"));
    const body = c.req.header("content-length") === "0" || !c.req.raw.body ? {} : await jsonBody(c.req.raw, RunExport);
    const now = Date.now();
    const period = body.periodStart === undefined ? latestPeriod(schedule.frequency, now) : periodAt(schedule.frequency, Date.parse(body.periodStart));
    if (period === null) throw new HttpError(400, "invalid_body", `periodStart must start a whole ${schedule.frequency === "hourly" ? "hour" : "day"} (UTC)`);
    if (period.end > now) throw new HttpError(400, "invalid_body", "periodStart: that period has not ended yet");
    const run = await exportDeps(c.env, (deps) => runNow(deps, schedule, period, now));
    if (run === null) throw new HttpError(409, "conflict", "this period is being exported right now");
    return c.json({ run });
  });
