// What every insight page's loader does: the viewer may read the app, the definition comes from
// the URL, and the insight runs beside the form's choices (events, platforms, countries,
// releases of the range); a failed read becomes the page's error card, with the form intact.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { envOf } from "../context.server";
import type { DashboardEnv } from "../env.server";
import { readOrError } from "../queries/clickhouse.server";
import type { TimeRange } from "./filters";
import { loadInsightOptions } from "./options.server";

/** Reads one insight for its page: `json(await loadInsight(args, parseTrends, runTrends))`. */
export async function loadInsight<D extends { range: TimeRange }, R>(
  { request, params, context }: LoaderFunctionArgs,
  parse: (url: URL) => D,
  run: (cfg: DashboardEnv["clickhouse"], appId: string, def: D) => Promise<R | null>,
) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const def = parse(new URL(request.url));
  const started = Date.now();
  const { data, error } = await readOrError(() => Promise.all([run(env.clickhouse, app.id, def), loadInsightOptions(env.clickhouse, app.id, def.range)]));
  return {
    viewer,
    app: { id: app.id, name: app.name },
    def,
    result: data?.[0] ?? null,
    options: data?.[1] ?? null,
    error,
    canExport: can(viewer.role, "data:export"),
    tookMs: Date.now() - started,
  };
}
