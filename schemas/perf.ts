/**
 * The web vitals and their published thresholds (web.dev, Core Web Vitals): a value at or
 * under `good` is good, over `poor` is poor, between is "needs improvement". CLS is unitless.
 * `VITALS.LCP.good === 2500`
 */
export const VITALS = {
  LCP: { good: 2500, poor: 4000, unit: "ms", label: "Largest Contentful Paint" },
  INP: { good: 200, poor: 500, unit: "ms", label: "Interaction to Next Paint" },
  CLS: { good: 0.1, poor: 0.25, unit: "score", label: "Cumulative Layout Shift" },
  FCP: { good: 1800, poor: 3000, unit: "ms", label: "First Contentful Paint" },
  TTFB: { good: 800, poor: 1800, unit: "ms", label: "Time to First Byte" },
} as const;
/** A web vital's name, e.g. `"LCP"`. */
export type Vital = keyof typeof VITALS;
/** The vitals in the order the dashboard shows them. */
export const VITAL_NAMES = Object.keys(VITALS) as readonly Vital[];

export const isVital = (metric: string): metric is Vital => Object.hasOwn(VITALS, metric);

/** A vital's rating band, e.g. `"needs_improvement"`. */
export type Band = "good" | "needs_improvement" | "poor";

/** The band of a vital's value: `bandOf("LCP", 2500) === "good"`, `bandOf("CLS", 0.26) === "poor"`. */
export function bandOf(vital: Vital, value: number): Band {
  const t = VITALS[vital];
  return value <= t.good ? "good" : value > t.poor ? "poor" : "needs_improvement";
}

/** The percentiles every perf and network view reads from the rollups' sketches. */
export const PERCENTILES = [0.5, 0.75, 0.95, 0.99] as const;

/**
 * Accuracy of the percentiles read from the rollups (ClickHouse `quantilesBFloat16` states): the
 * nearest-rank percentile (the value at rank ⌈p·n⌉ of the sorted values), truncated to 8
 * significant bits, so at most 0.78 % below it whatever the magnitude; stated as 1 %.
 */
export const QUANTILE_ACCURACY = 0.01;

/**
 * App start as the SDKs name it: the browser's page load and a React Native JS start are
 * `app_start`; a native start that knows it is `app_start_cold` or `app_start_warm`.
 */
export const APP_START_METRICS = ["app_start", "app_start_cold", "app_start_warm"] as const;
/** How long a screen took to become usable after navigation, per screen (React Native SDK). */
export const SCREEN_LOAD_METRIC = "screen_load";

/**
 * What a perf metric is, for the views: a web vital, app start, screen load, a transaction (a
 * Sentry transaction or an SDK span tree's root), one of its spans, or any other custom metric.
 */
export const PERF_KINDS = ["vital", "app_start", "screen_load", "transaction", "span", "custom"] as const;
export type PerfKind = (typeof PERF_KINDS)[number];

/**
 * A perf event's kind from its metric name and the `kind` property transactions and spans carry:
 * `perfKindOf("LCP", "") === "vital"`, `perfKindOf("checkout", "transaction") === "transaction"`.
 */
export function perfKindOf(metric: string, kindProperty: string): PerfKind {
  if (kindProperty === "transaction" || kindProperty === "span") return kindProperty;
  if (isVital(metric)) return "vital";
  if ((APP_START_METRICS as readonly string[]).includes(metric)) return "app_start";
  if (metric === SCREEN_LOAD_METRIC) return "screen_load";
  return "custom";
}

/**
 * A release's p75 of a metric is a regression when worse than the previous release's on the
 * same platform by more than this share (higher is worse for every metric we collect), with at
 * least `minSamples` values on both sides so one slow device does not flag a release.
 */
export const REGRESSION = { threshold: 0.1, minSamples: 20 } as const;

/** A device's class in the perf views, from the device type and platform. */
export const DEVICE_CLASSES = ["mobile", "tablet", "desktop"] as const;

/**
 * How a network call ended, stored per call: `ok` (any status under 400), `client_error`
 * (4xx), `server_error` (5xx), `timeout` or `failed` (no response: blocked, offline, aborted).
 */
export const NETWORK_OUTCOMES = ["ok", "client_error", "server_error", "failed", "timeout"] as const;
export type NetworkOutcome = (typeof NETWORK_OUTCOMES)[number];

const TIMEOUT_TEXT = /time[ds]?[\s_-]?out|deadline exceeded|ETIMEDOUT/i;

/**
 * `networkOutcome(503) === "server_error"`, `networkOutcome(0, "The operation timed out") === "timeout"`.
 * A call without a status that names no error counts as failed: no response came back.
 */
export function networkOutcome(status: number | undefined, error?: string): NetworkOutcome {
  if (status !== undefined && status > 0) return status >= 500 ? "server_error" : status >= 400 ? "client_error" : "ok";
  return error !== undefined && TIMEOUT_TEXT.test(error) ? "timeout" : "failed";
}
