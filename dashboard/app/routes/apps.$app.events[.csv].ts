// The explorer's rows as a CSV download: same filters, newest first, capped at EXPORT_CAP.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { QueryError } from "../queries/clickhouse.server";
import { toCsv } from "../queries/csv";
import { EXPORT_COLUMNS, exportEvents, parseEventFilters } from "../queries/events.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const filters = parseEventFilters(new URL(request.url));
  try {
    const rows = await exportEvents(env.clickhouse, app.id, filters);
    return new Response(toCsv(EXPORT_COLUMNS, rows), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${app.id}-events-${filters.range.key}.csv"`,
        "cache-control": "private, no-store",
      },
    });
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    console.error(err.message);
    return new Response("The analytics store did not answer; try the export again in a moment.", { status: 503 });
  }
}
