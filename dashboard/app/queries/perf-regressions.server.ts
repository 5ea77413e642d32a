// Performance regressions between releases, from perf_hourly: per metric and platform, releases
// in the order they first appeared (as the releases page knows them), each compared with the
// previous release on the same platform that has enough values (an app's iOS, Android and web
// builds ship their own releases, and one platform's start time says nothing of another's). A
// release regresses a metric when its p75 is worse (higher) than that release's by more than
// REGRESSION.threshold, both with at least REGRESSION.minSamples values in the range.
import { REGRESSION } from "../../../schemas/perf";
import type { DashboardEnv } from "../env.server";
import { queryApp, type Params } from "./clickhouse.server";
import { perfFilterSql, type PerfFilters } from "./perf";
import type { TimeRange } from "./range";
import { appRange, rangeParams } from "./scope";
import { releaseFirstSeen } from "./releases.server";

type CH = DashboardEnv["clickhouse"];

export interface ReleaseSample {
  platform: string;
  release: string;
  /** Epoch ms of the release's first event, all time. */
  firstSeen: number;
  n: number;
  p75: number;
}

export interface ReleasePerf extends ReleaseSample {
  /** The release compared with: the latest earlier one with enough values. */
  previous: string | null;
  previousP75: number | null;
  /** (p75 − previous p75) / previous p75; null without a comparable previous release. */
  change: number | null;
  regressed: boolean;
}

/** A regressed metric as the releases page names it. */
export interface Regression {
  metric: string;
  platform: string;
  unit: string;
  p75: number;
  previous: string;
  previousP75: number;
  change: number;
}

/**
 * Compares each release with the latest earlier release on its platform that has at least
 * minSamples values; `samples` in any order, the answer by platform, oldest release first.
 */
export function compareReleases(samples: readonly ReleaseSample[]): ReleasePerf[] {
  const ordered = [...samples].sort((a, b) => a.platform.localeCompare(b.platform) || a.firstSeen - b.firstSeen || a.release.localeCompare(b.release));
  const base = new Map<string, ReleaseSample>();
  return ordered.map((r): ReleasePerf => {
    const enough = r.n >= REGRESSION.minSamples;
    const prev = base.get(r.platform) ?? null;
    if (enough) base.set(r.platform, r);
    if (!prev || prev.p75 <= 0) return { ...r, previous: prev?.release ?? null, previousP75: prev?.p75 ?? null, change: null, regressed: false };
    const change = (r.p75 - prev.p75) / prev.p75;
    return { ...r, previous: prev.release, previousP75: prev.p75, change: enough ? change : null, regressed: enough && change > REGRESSION.threshold };
  });
}

const P75 = "quantilesBFloat16Merge(0.5, 0.75, 0.95, 0.99)(q)[2]";

interface Row {
  metric: string;
  kind: string;
  platform: string;
  unit: string;
  release: string;
  n: number;
  p75: number;
  first_hour: number;
}

async function releaseRows(cfg: CH, appId: string, range: TimeRange, where: string, params: Params): Promise<{ rows: Row[]; firsts: Map<string, number> }> {
  const rows = await queryApp<Row>(
    cfg,
    appId,
    `SELECT toString(metric) AS metric, toString(kind) AS kind, toString(unit) AS unit, toString(platform) AS platform, toString(app_version) AS release, sum(n) AS n, ${P75} AS p75,
            toUnixTimestamp(min(hour)) AS first_hour
     FROM perf_hourly WHERE ${appRange("hour")} AND app_version != '' AND ${where}
     GROUP BY metric, kind, unit, platform, release`,
    { ...params, ...rangeParams(range) },
  );
  const firsts = await releaseFirstSeen(cfg, appId, { releases: [...new Set(rows.map((r) => r.release))] });
  return { rows, firsts };
}

const sample = (r: Row, firsts: ReadonlyMap<string, number>): ReleaseSample => ({
  platform: r.platform,
  release: r.release,
  // A release seen only through perf data still takes its place by its first hour here.
  firstSeen: firsts.get(r.release) ?? Number(r.first_hour) * 1000,
  n: Number(r.n),
  p75: Number(r.p75),
});

/** One metric's releases in the range (with the page's filters) by platform, oldest first, each compared with its previous one. */
export async function releasePerf(cfg: CH, appId: string, range: TimeRange, m: { metric: string; kind: string; unit: string }, f: PerfFilters): Promise<ReleasePerf[]> {
  const filters = perfFilterSql(f);
  const where = ["metric = {metric:String}", "kind = {kind:String}", "unit = {unit:String}", ...filters.parts].join(" AND ");
  const { rows, firsts } = await releaseRows(cfg, appId, range, where, { metric: m.metric, kind: m.kind, unit: m.unit, ...filters.params });
  return compareReleases(rows.map((r) => sample(r, firsts)));
}

/** Every metric's regressions in the range (spans aside: their transaction stands for them), by release. */
export async function regressionsByRelease(cfg: CH, appId: string, range: TimeRange): Promise<Map<string, Regression[]>> {
  const { rows, firsts } = await releaseRows(cfg, appId, range, "kind != 'span'", {});
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.metric}\u0000${r.kind}\u0000${r.unit}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out = new Map<string, Regression[]>();
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    for (const r of compareReleases(group.map((g) => sample(g, firsts)))) {
      if (!r.regressed || r.change === null || r.previous === null || r.previousP75 === null) continue;
      const list = out.get(r.release) ?? [];
      list.push({ metric: first.metric, platform: r.platform, unit: first.unit, p75: r.p75, previous: r.previous, previousP75: r.previousP75, change: r.change });
      out.set(r.release, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => b.change - a.change || a.metric.localeCompare(b.metric));
  return out;
}
