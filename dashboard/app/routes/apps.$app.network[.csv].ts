// The network endpoints table as a CSV download: same range, filters and order as the page.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseNetworkFilters } from "../queries/network-filters";
import { exportEndpoints } from "../queries/network.server";
import { parseRange, rangeName } from "../queries/range";

const COLUMNS = [
  "method",
  "host",
  "template",
  "calls",
  "error_rate",
  "client_errors",
  "server_errors",
  "failed",
  "timeouts",
  "p50_ms",
  "p95_ms",
  "p99_ms",
  "avg_request_bytes",
  "avg_response_bytes",
] as const;

const cell = (v: number | null, digits: number): string | number => (v === null ? "" : Number(v.toFixed(digits)));

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  return exportOr503(async () => {
    const rows = (await exportEndpoints(env.clickhouse, app.id, range, parseNetworkFilters(url))).map((r) => ({
      method: r.method,
      host: r.host,
      template: r.template,
      calls: r.calls,
      error_rate: cell(r.errorRate, 4),
      client_errors: r.clientErrors,
      server_errors: r.serverErrors,
      failed: r.failed,
      timeouts: r.timeouts,
      p50_ms: cell(r.p50, 1),
      p95_ms: cell(r.p95, 1),
      p99_ms: cell(r.p99, 1),
      avg_request_bytes: Math.round(r.avgRequestBytes),
      avg_response_bytes: Math.round(r.avgResponseBytes),
    }));
    return csvResponse(`${app.id}-network-${rangeName(range)}.csv`, toCsv(COLUMNS, rows));
  });
}
