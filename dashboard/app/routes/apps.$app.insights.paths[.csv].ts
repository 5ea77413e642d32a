// The paths insight as a CSV download: its ranked paths with their people and share.
// The file is built in ../csv/views.server.ts, which scheduled exports share.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { csvDownload } from "../csv/download.server";
import { CSV_VIEWS } from "../csv/views.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:export");
  return csvDownload(CSV_VIEWS["insights/paths"], { env, orgId: viewer.orgId, appId: app.id, url: new URL(request.url), now: Date.now() });
}
