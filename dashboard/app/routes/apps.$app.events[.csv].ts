// The explorer's rows as a CSV download: same filters, newest first, capped at EXPORT_CAP.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { rangeName } from "../queries/range";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { EXPORT_COLUMNS, exportEvents, parseEventFilters } from "../queries/events.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const filters = parseEventFilters(new URL(request.url));
  return exportOr503(async () => {
    const rows = await exportEvents(env.clickhouse, app.id, filters);
    return csvResponse(`${app.id}-events-${rangeName(filters.range)}.csv`, toCsv(EXPORT_COLUMNS, rows));
  });
}
