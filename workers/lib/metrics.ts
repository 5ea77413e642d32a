// The pipeline counters written to Workers Analytics Engine beside ClickHouse, so operators can
// chart them when ClickHouse is the thing that is down (docs/decisions/0029). One data point per
// app, stage and reason: blob1 stage, blob2 reason, blob3 app, double1 count, index app (which
// Analytics Engine samples by, so one busy app never crowds out the others).
import { errorText, log } from "./log";

/** One counter to write: `{appId: "app_1", stage: "inserted", reason: "", n: 120}`. */
export interface PipelineCount {
  appId: string;
  stage: string;
  reason: string;
  n: number;
}

// Analytics Engine takes at most 250 data points per Worker invocation; a sink delivery of 100
// messages writes at most one per app and counter, far fewer in practice.
const MAX_POINTS_PER_CALL = 250;

/** The data points of `counts`: one per app, stage and reason, counts added up, zeros left out. */
export function pipelinePoints(counts: readonly PipelineCount[]): AnalyticsEngineDataPoint[] {
  const merged = new Map<string, PipelineCount>();
  for (const c of counts) {
    if (c.n <= 0) continue;
    const key = `${c.appId}\n${c.stage}\n${c.reason}`;
    const seen = merged.get(key);
    if (seen) seen.n += c.n;
    else merged.set(key, { ...c });
  }
  return [...merged.values()].map((c) => ({ blobs: [c.stage, c.reason, c.appId], doubles: [c.n], indexes: [c.appId] }));
}

/** The bindings the counters are written through; `PIPELINE_METRICS` may be missing. */
export interface MetricsEnv {
  readonly PIPELINE_METRICS?: AnalyticsEngineDataset;
}

/**
 * Writes `counts` to the `PIPELINE_METRICS` dataset when the Worker has one (a Worker without
 * it runs the same). Never throws: the counters are also in ClickHouse, and a chart is not worth
 * failing a flush or a delivery for.
 */
export function writePipelineCounts(env: MetricsEnv, counts: readonly PipelineCount[]): void {
  const dataset = env.PIPELINE_METRICS;
  if (dataset === undefined) return;
  const points = pipelinePoints(counts);
  if (points.length > MAX_POINTS_PER_CALL) log.warn("metrics.truncated", { points: points.length, written: MAX_POINTS_PER_CALL });
  try {
    for (const p of points.slice(0, MAX_POINTS_PER_CALL)) dataset.writeDataPoint(p);
  } catch (err) {
    log.warn("metrics.not_written", { points: points.length, error: errorText(err) });
  }
}
