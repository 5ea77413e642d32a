// What the dashboard asks of the edge Worker about exports, through the EXPORTS service binding
// to ExportsService: creating a schedule (an S3 secret is sealed under a Worker secret the
// dashboard does not hold) and running a period now (only the Worker holds the buckets). Schedules
// and runs are read, switched on or off and deleted in D1 by the shared store (./store.ts).
import type { ExportRun, ExportSchedule } from "../../schemas";

export type ExportResult<T> = ({ ok: true } & T) | { ok: false; reason: string };

export interface ExportsApi {
  /** A new schedule of the organisation's app, from a body as `POST …/exports` takes it. */
  createExport(orgId: string, appId: string, input: unknown, by: string): Promise<ExportResult<{ schedule: ExportSchedule }>>;
  /** The schedule's latest whole period exported now, again if it was before. */
  runExport(orgId: string, appId: string, scheduleId: string): Promise<ExportResult<{ run: ExportRun }>>;
}
