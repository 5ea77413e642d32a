// The ExportsApi calls (./api.ts), bound to their dependencies: the Worker's (./service.ts) or a
// test's.
import { CreateExport } from "../../schemas";
import { appOrgId, inOrg } from "../apps/store";
import { zodMessage } from "../lib/validate";
import type { ExportsApi } from "./api";
import { latestPeriod } from "./period";
import { runNow, type ExportDeps } from "./run";
import { createSchedule, getSchedule } from "./store";

export interface ExportsApiDeps {
  db: D1Database;
  sealSecret: string;
  localMode: boolean;
  withExportDeps<T>(fn: (deps: ExportDeps) => Promise<T>): Promise<T>;
  now?: () => number;
}

/** The calls, bound to their dependencies; each first checks the app is the organisation's. */
export function exportsApi(deps: ExportsApiDeps): ExportsApi {
  const clock = deps.now ?? Date.now;
  const inOrgApp = async (orgId: string, appId: string): Promise<boolean> => typeof (await appOrgId(deps.db, inOrg(orgId), appId)) === "string";
  return {
    async createExport(orgId, appId, input, by) {
      if (!(await inOrgApp(orgId, appId))) return { ok: false, reason: "no such app in this organisation" };
      const parsed = CreateExport.safeParse(input);
      if (!parsed.success) return { ok: false, reason: zodMessage(parsed.error.issues) };
      const made = await createSchedule(deps.db, appId, parsed.data, { by, sealSecret: deps.sealSecret, localMode: deps.localMode, now: clock() });
      if (made === null) return { ok: false, reason: "no such app in this organisation" };
      return made.ok ? { ok: true, schedule: made.schedule } : made;
    },
    async runExport(orgId, appId, scheduleId) {
      if (!(await inOrgApp(orgId, appId))) return { ok: false, reason: "no such app in this organisation" };
      const schedule = await getSchedule(deps.db, appId, scheduleId);
      if (!schedule) return { ok: false, reason: "no such export" };
      const now = clock();
      const run = await deps.withExportDeps((d) => runNow(d, schedule, latestPeriod(schedule.frequency, now), now));
      return run === null ? { ok: false, reason: "this period is being exported right now" } : { ok: true, run };
    },
  };
}
