// The pipeline view's per-bucket table as a CSV download, for the range in the URL.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { loadPipeline, PIPELINE_CSV_COLUMNS, pipelineCsvRows } from "../queries/pipeline.server";
import { parseRange } from "../queries/range";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const range = parseRange(new URL(request.url));
  return exportOr503(async () => {
    const pipeline = await loadPipeline(env.clickhouse, app.id, range);
    return csvResponse(`${app.id}-pipeline-${range.key}.csv`, toCsv(PIPELINE_CSV_COLUMNS, pipelineCsvRows(pipeline)));
  });
}
