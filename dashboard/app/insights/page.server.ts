// What every insight page's loader does: the viewer may read the app, the definition comes from
// the URL, and the insight runs beside the form's choices (events, platforms, countries,
// releases of the range); a failed read becomes the page's error card, with the form intact.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { envOf } from "../context.server";
import { getSavedInsight } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { readOrError } from "../queries/clickhouse.server";
import type { TimeRange } from "./filters";
import { loadInsightOptions } from "./options.server";
import { SAVED_PARAM } from "./saved";

/** Reads one insight for its page: `json(await loadInsight(args, parseTrends, runTrends))`. */
export async function loadInsight<D extends { range: TimeRange }, R>(
  { request, params, context }: LoaderFunctionArgs,
  parse: (url: URL) => D,
  run: (cfg: DashboardEnv["clickhouse"], appId: string, def: D) => Promise<R | null>,
) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const def = parse(url);
  const savedId = url.searchParams.get(SAVED_PARAM);
  const started = Date.now();
  const [{ data, error }, saved] = await Promise.all([
    readOrError(() => Promise.all([run(env.clickhouse, app.id, def), loadInsightOptions(env.clickhouse, app.id, def.range)])),
    savedId ? getSavedInsight(env.db, viewer.orgId, savedId) : null,
  ]);
  return {
    viewer,
    app: { id: app.id, name: app.name },
    def,
    result: data?.[0] ?? null,
    options: data?.[1] ?? null,
    error,
    canExport: can(viewer.role, "data:export"),
    // The saved insight the page was opened from, when it is this app's: saving may update it.
    saved: saved && saved.appId === app.id ? { id: saved.id, name: saved.name, type: saved.type } : null,
    tookMs: Date.now() - started,
  };
}
