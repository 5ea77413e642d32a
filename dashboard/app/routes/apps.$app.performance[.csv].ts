// Performance as a CSV download: the metrics table, or with `?dimension=` a vital's breakdown
// (`&vital=`, LCP by default) by that dimension, for the same range and filters as the page.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseBreakdown, parsePerfFilters } from "../queries/perf";
import { loadBreakdown, loadMetrics } from "../queries/perf.server";
import { parseRange, rangeName } from "../queries/range";

const METRIC_COLUMNS = ["metric", "kind", "unit", "values", "p50", "p75", "p95", "p99"] as const;
const BREAKDOWN_COLUMNS = ["vital", "dimension", "value", "values", "p75", "good", "needs_improvement", "poor"] as const;
/** Values a breakdown export lists at most, most values first. */
const BREAKDOWN_EXPORT_CAP = 1000;

const num = (v: number): string => String(Math.round(v * 1000) / 1000);
const ratio = (r: number): string => r.toFixed(6);

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  const filters = parsePerfFilters(url);
  return exportOr503(async () => {
    if (url.searchParams.has("dimension")) {
      const b = parseBreakdown(url);
      const rows = await loadBreakdown(env.clickhouse, app.id, range, filters, b, BREAKDOWN_EXPORT_CAP);
      const lines = rows.map((r) => ({
        vital: b.vital,
        dimension: b.dimension,
        value: r.value,
        values: r.n,
        p75: num(r.p75),
        good: ratio(r.shares.good),
        needs_improvement: ratio(r.shares.needsImprovement),
        poor: ratio(r.shares.poor),
      }));
      return csvResponse(`${app.id}-${b.vital}-by-${b.dimension}-${rangeName(range)}.csv`, toCsv(BREAKDOWN_COLUMNS, lines));
    }
    const metrics = await loadMetrics(env.clickhouse, app.id, range, filters);
    const lines = metrics.map((m) => ({ metric: m.metric, kind: m.kind, unit: m.unit, values: m.n, p50: num(m.p50), p75: num(m.p75), p95: num(m.p95), p99: num(m.p99) }));
    return csvResponse(`${app.id}-performance-${rangeName(range)}.csv`, toCsv(METRIC_COLUMNS, lines));
  });
}
