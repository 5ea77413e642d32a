// Performance filters, breakdown dimensions and metric links as they appear in URLs
// (`?release=2.1.0&device=mobile&dimension=page`), shared by the loaders, the CSV routes and
// the pages. Browser-safe: values reach ClickHouse only as query parameters (perf.server.ts).
import { VITAL_NAMES, isVital, type Vital } from "../../../schemas/perf";

/** The perf_hourly column behind each filter and breakdown dimension, by its URL name. */
export const PERF_DIMENSIONS = {
  page: { column: "page", label: "Page or screen" },
  release: { column: "app_version", label: "Release" },
  platform: { column: "platform", label: "Platform" },
  browser: { column: "browser", label: "Browser" },
  device: { column: "device_class", label: "Device class" },
  country: { column: "country", label: "Country" },
} as const;
export type PerfDimension = keyof typeof PERF_DIMENSIONS;
export const PERF_DIMENSION_NAMES = Object.keys(PERF_DIMENSIONS) as PerfDimension[];
export const DEFAULT_DIMENSION: PerfDimension = "page";

const isDimension = (v: string | null): v is PerfDimension => v !== null && Object.hasOwn(PERF_DIMENSIONS, v);

/** The filters the URL asks for, by dimension; "" means any. */
export type PerfFilters = Record<PerfDimension, string>;

/** Over-long values are cut, not trusted: page templates are the longest values a filter holds. */
export function parsePerfFilters(url: URL): PerfFilters {
  const get = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, name === "page" ? 512 : 64);
  return { page: get("page"), release: get("release"), platform: get("platform"), browser: get("browser"), device: get("device"), country: get("country") };
}

export const hasPerfFilters = (f: PerfFilters): boolean => PERF_DIMENSION_NAMES.some((d) => f[d] !== "");

/** The breakdown dimension (`?dimension=`) and the vital it breaks down (`?vital=`). */
export function parseBreakdown(url: URL): { dimension: PerfDimension; vital: Vital } {
  const d = url.searchParams.get("dimension");
  const v = url.searchParams.get("vital") ?? "";
  return { dimension: isDimension(d) ? d : DEFAULT_DIMENSION, vital: isVital(v) ? v : (VITAL_NAMES[0] ?? "LCP") };
}

/** Metric names are free text (transactions are often `GET /orders/:id`): one encoded path segment. */
export const metricPath = (appId: string, metric: string): string => `/apps/${appId}/performance/${encodeURIComponent(metric)}`;

/** The most characters of a metric name the pages accept from a URL (the edge caps names lower). */
export const MAX_METRIC_NAME = 512;

/** Values under this many samples are too few for "slowest" lists: one slow load would top them. */
export const SLOWEST_MIN_COUNT = 5;

/** The filters that are set, as `platform = {f_platform:String} AND …` over perf_hourly's columns, and their parameters. */
export function perfFilterSql(f: PerfFilters): { parts: string[]; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  for (const d of PERF_DIMENSION_NAMES) {
    if (!f[d]) continue;
    parts.push(`${PERF_DIMENSIONS[d].column} = {f_${d}:String}`);
    params[`f_${d}`] = f[d];
  }
  return { parts, params };
}
