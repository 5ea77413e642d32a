// One user's journey in the range as a CSV download, newest first.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, TIMELINE_CSV_COLUMNS, timelineCsvRows, toCsv } from "../queries/csv";
import { parseRange, rangeName } from "../queries/range";
import { getJourney, getProfile, USER_EXPORT_CAP } from "../queries/users.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const range = parseRange(new URL(request.url));
  return exportOr503(async () => {
    const profile = await getProfile(env.clickhouse, app.id, params.user ?? "");
    if (!profile) return new Response("No such user in this app", { status: 404 });
    const journey = await getJourney(env.clickhouse, app.id, profile, range, USER_EXPORT_CAP);
    return csvResponse(`${app.id}-journey-${profile.key}-${rangeName(range)}.csv`, toCsv(TIMELINE_CSV_COLUMNS, timelineCsvRows(journey.events)));
  });
}
