// One session's events as a CSV download, in order.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, TIMELINE_CSV_COLUMNS, timelineCsvRows, toCsv } from "../queries/csv";
import { getSession } from "../queries/sessions.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  return exportOr503(async () => {
    const detail = await getSession(env.clickhouse, app.id, params.session ?? "");
    if (!detail) return new Response("No such session in this app", { status: 404 });
    return csvResponse(`${app.id}-session-${detail.session.id}.csv`, toCsv(TIMELINE_CSV_COLUMNS, timelineCsvRows(detail.events)));
  });
}
