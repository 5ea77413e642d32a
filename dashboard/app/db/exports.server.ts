// Scheduled exports for the dashboard: schedules and runs read, switched and deleted in D1 by the
// Worker's own store; creating one and running one now through the EXPORTS service binding
// (workers/exports/api.ts), since only the Worker holds the sealing secret and the buckets.
import type { ExportsApi } from "../../../workers/exports/api";
import type { RawEnv } from "../env.server";

export { deleteSchedule, getSchedule, listRuns, listSchedules, updateSchedule } from "../../../workers/exports/store";

function isExportsApi(value: unknown): value is ExportsApi {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.createExport === "function" && typeof v.runExport === "function";
}

/** The edge Worker's ExportsService (workers/exports/service.ts). */
export function exportsApi(raw: RawEnv): ExportsApi {
  if (!isExportsApi(raw.EXPORTS)) throw new Error("dashboard configuration: EXPORTS must be a service binding to the edge Worker's ExportsService entrypoint (dashboard/wrangler.toml)");
  return raw.EXPORTS;
}

/** The body `createExport` takes, from the new-export form's fields. */
export function exportInput(f: (name: string) => string): Record<string, unknown> {
  const destination =
    f("destination") === "s3"
      ? { kind: "s3", endpoint: f("endpoint"), bucket: f("bucket"), region: f("region") || "us-east-1", prefix: f("prefix"), accessKeyId: f("accessKeyId"), secretAccessKey: f("secretAccessKey") }
      : { kind: "r2" };
  const source = f("source") === "view" ? { kind: "view", view: f("view"), query: f("query") } : f("source") === "insight" ? { kind: "insight", insightId: f("insightId") } : { kind: "events" };
  return { name: f("name"), source, format: f("format"), frequency: f("frequency"), destination };
}
