// The retention cohort table as a CSV download: one line per cohort with its size and the people
// back in each later period (blank where the period has not begun).
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { rangeName } from "../queries/range";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { parseRetention, runRetention } from "../insights/retention.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const def = parseRetention(new URL(request.url));
  return exportOr503(async () => {
    const { cohorts } = await runRetention(env.clickhouse, app.id, def);
    const periods = Array.from({ length: Math.max(0, cohorts.length - 1) }, (_, k) => `period_${k + 1}`);
    const columns = ["cohort", "size", ...periods];
    const rows = cohorts.map((c) => {
      const row: Record<string, string | number> = { cohort: c.day, size: c.size };
      periods.forEach((p, k) => (row[p] = c.returned[k] ?? ""));
      return row;
    });
    return csvResponse(`${app.id}-retention-${def.period}-${rangeName(def.range)}.csv`, toCsv(columns, rows));
  });
}
