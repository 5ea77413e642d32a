// Attribution as a CSV download: the report's rows for the same range, conversion and currency,
// conversions and revenue credited under each model.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { ATTRIBUTION_MODELS } from "../../../schemas";
import { attributionPage } from "../attribution/page.server";
import { attributionReport } from "../attribution/report.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { rangeName } from "../queries/range";

const COLUMNS = [
  "source",
  "medium",
  "campaign",
  "content",
  ...ATTRIBUTION_MODELS.map((m) => `conversions_${m}` as const),
  ...ATTRIBUTION_MODELS.map((m) => `revenue_${m}` as const),
  "currency",
  "touches",
  "median_seconds_to_convert",
] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app, settings, q } = await attributionPage(request, env, params.app, "data:export");
  return exportOr503(async () => {
    const report = await attributionReport(env.clickhouse, app.id, settings, q.conversion, q.range, q.currency);
    const rows = report.rows.map((r) => ({
      source: r.source,
      medium: r.medium,
      campaign: r.campaign,
      content: r.content,
      ...Object.fromEntries(ATTRIBUTION_MODELS.map((m) => [`conversions_${m}`, r.conversions[m].toFixed(6)])),
      ...Object.fromEntries(ATTRIBUTION_MODELS.map((m) => [`revenue_${m}`, r.revenue[m].toFixed(2)])),
      currency: report.currency,
      touches: r.touches,
      median_seconds_to_convert: r.medianToConvert === null ? "" : Math.round(r.medianToConvert),
    })) as Array<Record<(typeof COLUMNS)[number], string | number>>;
    return csvResponse(`${app.id}-attribution-${q.conversion.id}-${rangeName(q.range)}.csv`, toCsv(COLUMNS, rows));
  });
}
