// The pipeline view's tables as CSV downloads, for the range in the URL: the per-bucket table,
// or with `table=reasons` the by-reason table.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { loadPipeline, PIPELINE_CSV_COLUMNS, pipelineCsvRows } from "../queries/pipeline.server";
import { parseRange, rangeName } from "../queries/range";

const REASON_CSV_COLUMNS = ["reason", "events_rejected", "requests_refused", "events_dead_lettered", "crashes_capped"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  const reasons = url.searchParams.get("table") === "reasons";
  return exportOr503(async () => {
    const pipeline = await loadPipeline(env.clickhouse, app.id, range);
    if (reasons) {
      const rows = pipeline.reasons.map((r) => ({ reason: r.reason, events_rejected: r.rejected, requests_refused: r.refused, events_dead_lettered: r.deadLettered, crashes_capped: r.capped }));
      return csvResponse(`${app.id}-pipeline-reasons-${rangeName(range)}.csv`, toCsv(REASON_CSV_COLUMNS, rows));
    }
    return csvResponse(`${app.id}-pipeline-${rangeName(range)}.csv`, toCsv(PIPELINE_CSV_COLUMNS, pipelineCsvRows(pipeline)));
  });
}
