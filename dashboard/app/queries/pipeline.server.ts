// Pipeline health: the per-minute counters of 0006_pipeline.sql for one app, in the chart
// buckets of the selected range: what the edge and the AppBatcher tallied (crashes capped
// included), what reached ClickHouse, what was dead-lettered, and how long rows took from the
// edge to ClickHouse.
import { PIPELINE_STAGES, type PipelineStage } from "../../../schemas";
import type { DashboardEnv } from "../env.server";
import { queryApp } from "./clickhouse.server";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";

export type StageCounts = Record<PipelineStage, number>;

/** Ingest-to-ClickHouse lag (`inserted_at - received_at`), milliseconds. */
export interface Lag {
  p50: number;
  p95: number;
  max: number;
}

export interface PipelineBucket {
  /** Bucket start, epoch seconds. */
  t: number;
  counts: StageCounts;
  /** Null when no row reached ClickHouse in the bucket. */
  lag: Lag | null;
}

/** One reason with what it cost: events rejected, whole requests refused, events dead-lettered, crashes capped. */
export interface ReasonRow {
  reason: string;
  rejected: number;
  refused: number;
  deadLettered: number;
  capped: number;
}

export interface Pipeline {
  totals: StageCounts;
  /** Over the whole range; null when no row reached ClickHouse in it. */
  lag: Lag | null;
  /** Buckets in which anything was counted, oldest first. */
  buckets: PipelineBucket[];
  /** Most events first. */
  reasons: ReasonRow[];
}

const zeros = (): StageCounts => Object.fromEntries(PIPELINE_STAGES.map((s) => [s, 0])) as StageCounts;
const isStage = (s: string): s is PipelineStage => (PIPELINE_STAGES as readonly string[]).includes(s);

const RANGE = appRange("minute");
const BUCKET = "toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({step:UInt32})))";
const LAG = "quantilesTDigestMerge(0.5, 0.95)(lag) AS q, max(max_lag) AS max";

interface LagRow {
  q: ReadonlyArray<number | null>;
  max: number;
}

function lagOf(r: LagRow | undefined): Lag | null {
  if (!r) return null;
  const [p50, p95] = r.q;
  return { p50: Math.round(Number(p50 ?? 0)), p95: Math.round(Number(p95 ?? 0)), max: Math.round(Number(r.max)) };
}

// Events a reason kept out of ClickHouse one by one.
const lost = (r: ReasonRow): number => r.rejected + r.deadLettered + r.capped;

/** Everything the pipeline view shows for `app` over `range`, in three parallel reads. */
export async function loadPipeline(cfg: DashboardEnv["clickhouse"], app: string, range: TimeRange): Promise<Pipeline> {
  const p = { ...rangeParams(range), step: range.step };
  const [counts, lagByBucket, lagTotal] = await Promise.all([
    queryApp<{ t: number; stage: string; reason: string; total: number }>(
      cfg,
      app,
      `SELECT ${BUCKET} AS t, stage, reason, toUInt64(sum(n)) AS total FROM pipeline_minutely WHERE ${RANGE} GROUP BY t, stage, reason HAVING total > 0 ORDER BY t`,
      p,
    ),
    queryApp<LagRow & { t: number }>(cfg, app, `SELECT ${BUCKET} AS t, ${LAG} FROM pipeline_lag_minutely WHERE ${RANGE} GROUP BY t ORDER BY t`, p),
    queryApp<LagRow>(cfg, app, `SELECT ${LAG} FROM pipeline_lag_minutely WHERE ${RANGE} HAVING count() > 0`, p),
  ]);

  const totals = zeros();
  const buckets = new Map<number, PipelineBucket>();
  const bucket = (t: number): PipelineBucket => {
    let b = buckets.get(t);
    if (!b) buckets.set(t, (b = { t, counts: zeros(), lag: null }));
    return b;
  };
  const reasons = new Map<string, ReasonRow>();
  for (const r of counts) {
    if (!isStage(r.stage)) continue;
    const n = Number(r.total);
    totals[r.stage] += n;
    bucket(Number(r.t)).counts[r.stage] += n;
    if (r.stage !== "rejected" && r.stage !== "refused" && r.stage !== "dead_lettered" && r.stage !== "capped") continue;
    let row = reasons.get(r.reason);
    if (!row) reasons.set(r.reason, (row = { reason: r.reason, rejected: 0, refused: 0, deadLettered: 0, capped: 0 }));
    if (r.stage === "rejected") row.rejected += n;
    else if (r.stage === "refused") row.refused += n;
    else if (r.stage === "capped") row.capped += n;
    else row.deadLettered += n;
  }
  for (const r of lagByBucket) bucket(Number(r.t)).lag = lagOf(r);

  return {
    totals,
    lag: lagOf(lagTotal[0]),
    buckets: [...buckets.values()].sort((a, b) => a.t - b.t),
    reasons: [...reasons.values()].sort((a, b) => lost(b) - lost(a) || b.refused - a.refused || a.reason.localeCompare(b.reason)),
  };
}

/** A shard of the app whose oldest buffered event is older than the Worker's `BUFFER_STALE_MS`; times in epoch ms. */
export interface StaleShard {
  shard: number;
  staleSince: number;
  oldestAt: number;
  ageMs: number;
}

/** The app's stale shards, as its AppBatchers report them in D1 `shard_health`. */
export async function loadStaleShards(db: D1Database, app: string, now = Date.now()): Promise<StaleShard[]> {
  const { results } = await db
    .prepare("SELECT shard, stale_since, oldest_at FROM shard_health WHERE app_id = ? ORDER BY shard")
    .bind(app)
    .all<{ shard: number; stale_since: number; oldest_at: number }>();
  return results.map((r) => ({ shard: r.shard, staleSince: r.stale_since, oldestAt: r.oldest_at, ageMs: now - r.oldest_at }));
}

/** Columns of the per-bucket CSV, in order. */
export const PIPELINE_CSV_COLUMNS = [
  "bucket_start_utc",
  ...PIPELINE_STAGES,
  "lag_p50_ms",
  "lag_p95_ms",
  "lag_max_ms",
] as const;
export type PipelineCsvRow = Record<(typeof PIPELINE_CSV_COLUMNS)[number], string | number>;

/** The per-bucket table as CSV rows, oldest first; lag cells are empty where nothing was inserted. */
export function pipelineCsvRows(p: Pipeline): PipelineCsvRow[] {
  return p.buckets.map((b) => ({
    bucket_start_utc: new Date(b.t * 1000).toISOString().slice(0, 19).replace("T", " "),
    ...b.counts,
    lag_p50_ms: b.lag?.p50 ?? "",
    lag_p95_ms: b.lag?.p95 ?? "",
    lag_max_ms: b.lag?.max ?? "",
  }));
}
