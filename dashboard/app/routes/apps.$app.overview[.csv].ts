// The overview's tables (top events, pages and screens, countries, platforms, app versions)
// as one CSV, with the page's range and filters.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseDims } from "../queries/dims";
import { loadOverview } from "../queries/overview.server";
import { parseRange, rangeName } from "../queries/range";

const COLUMNS = ["table", "key", "count"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  return exportOr503(async () => {
    const o = await loadOverview(env.clickhouse, app.id, range, parseDims(url));
    const tables = { event: o.topEvents, path: o.topPages, country: o.countries, platform: o.platforms, app_version: o.versions };
    const rows = Object.entries(tables).flatMap(([table, list]) => list.map((r) => ({ table, key: r.key, count: r.n })));
    return csvResponse(`${app.id}-overview-${rangeName(range)}.csv`, toCsv(COLUMNS, rows));
  });
}
