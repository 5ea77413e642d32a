// The retention cohort table as a CSV download: one line per cohort with its size and the people
// back in each later period (blank where the period has not begun).
// The file is built in ../csv/views.server.ts, which scheduled exports share.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { csvDownload } from "../csv/download.server";
import { CSV_VIEWS } from "../csv/views.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:export");
  return csvDownload(CSV_VIEWS["insights/retention"], { env, orgId: viewer.orgId, appId: app.id, url: new URL(request.url), now: Date.now() });
}
