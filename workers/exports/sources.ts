// Dashboard views and saved insights as scheduled files (CSV, or Parquet through ./parquet.ts). Each
// is built by the dashboard's own CSV code (dashboard/app/csv/views.server.ts, free of Remix) on this Worker's D1 and ClickHouse,
// over the period as the view's range: the preset of the period's length (`1h` or `24h`) ending
// at the period's end. Lists are read page after page to their end and streamed out as read.
import type { ExportFrequency, ExportSource } from "../../schemas";
import { CSV_VIEWS, isRefusal, queryUrl, savedInsightCsv, type CsvFile } from "../../dashboard/app/csv/views.server";
import { getSavedInsight } from "../../dashboard/app/db/insights.server";
import type { DashboardEnv } from "../../dashboard/app/env.server";
import { csvLine } from "../../dashboard/app/queries/csv";
import { appOrgId, OPERATOR } from "../apps/store";
import type { Period } from "./period";

/** Why a source cannot be a schedule's; null when it can. */
export async function sourceProblem(db: D1Database, appId: string, source: ExportSource): Promise<string | null> {
  if (source.kind === "events") return null;
  if (source.kind === "insight") {
    const orgId = await appOrgId(db, OPERATOR, appId);
    const saved = typeof orgId === "string" ? await getSavedInsight(db, orgId, source.insightId) : null;
    if (!saved || saved.appId !== appId) return `no saved insight ${source.insightId} in this app`;
  }
  return null;
}

/** The period as a view's range parameters, and the time it ends at. */
export function periodRange(frequency: ExportFrequency, period: Period): { range: URLSearchParams; now: number } {
  return { range: new URLSearchParams({ range: frequency === "hourly" ? "1h" : "24h" }), now: period.end };
}

/** The CSV file of a view or saved insight for one period; a source that cannot run throws why. */
export async function sourceFile(env: DashboardEnv, orgId: string, appId: string, source: Exclude<ExportSource, { kind: "events" }>, frequency: ExportFrequency, period: Period): Promise<CsvFile> {
  const { range, now } = periodRange(frequency, period);
  const call = { env, orgId, appId, now };
  const file = source.kind === "insight" ? await savedInsightCsv(call, source.insightId, range) : await CSV_VIEWS[source.view]({ ...call, url: queryUrl(source.query, range) });
  if (isRefusal(file)) throw new Error(file.message);
  return file;
}

/** The file as a byte stream, header first, each page encoded as it is read; `rows()` counts what went out. */
export function csvStream(file: CsvFile): { stream: ReadableStream<Uint8Array>; rows: () => number } {
  const pages = file.pages[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let rows = 0;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvLine(file.columns)));
    },
    async pull(controller) {
      const next = await pages.next();
      if (next.done) return controller.close();
      rows += next.value.length;
      controller.enqueue(encoder.encode(next.value.map((r) => csvLine(file.columns.map((c) => r[c] ?? ""))).join("")));
    },
    async cancel() {
      await pages.return?.();
    },
  });
  return { stream, rows: () => rows };
}
