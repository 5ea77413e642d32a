// A trend as a CSV download: one line per line of the chart and bucket, with the previous
// period's value beside it when compared.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { rangeName } from "../queries/range";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { parseTrends, runTrends } from "../insights/trends.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";

const COLUMNS = ["line", "series", "breakdown", "bucket", "value", "previous_bucket", "previous_value"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const def = parseTrends(new URL(request.url));
  return exportOr503(async () => {
    const r = await runTrends(env.clickhouse, app.id, def);
    const iso = (t: number | undefined): string => (t === undefined ? "" : new Date(t * 1000).toISOString());
    const cell = (v: number | null | undefined): string | number => (v === null || v === undefined ? "" : v);
    const rows = r.lines.flatMap((l) =>
      r.buckets.map((t, j) => ({
        line: l.label,
        series: l.series + 1,
        breakdown: l.breakdown === null ? "" : l.other ? "(other)" : l.breakdown,
        bucket: iso(t),
        value: cell(l.values[j]),
        previous_bucket: r.previousBuckets ? iso(r.previousBuckets[j]) : "",
        previous_value: l.previous ? cell(l.previous[j]) : "",
      })),
    );
    return csvResponse(`${app.id}-trends-${def.interval}-${rangeName(def.range)}.csv`, toCsv(COLUMNS, rows));
  });
}
