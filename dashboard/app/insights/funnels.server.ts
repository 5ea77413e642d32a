// Funnels: how many people go through 2–10 ordered steps within a conversion window, where they
// drop off and how long each step takes them, overall and by breakdown value (funnel-sql.server.ts).
import type { DashboardEnv } from "../env.server";
import { queryApp } from "../queries/clickhouse.server";
import { funnelSql, type FunnelRow } from "./funnel-sql.server";
import { isRunnable, type FunnelSeries, type FunnelsDef, type FunnelsResult } from "./funnels";

export { parseFunnels, toFunnelsSearch } from "./funnels";
export type { FunnelsDef, FunnelsResult, FunnelSeries } from "./funnels";

function series(row: FunnelRow, n: number): FunnelSeries {
  const people = Array.from({ length: n }, (_, i) => Number(row.people[i] ?? 0));
  const first = people[0] ?? 0;
  const ms = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));
  return {
    label: row.bucket,
    other: row.other === 1,
    steps: people.map((p, i) => {
      const prev = i === 0 ? p : (people[i - 1] ?? 0);
      return {
        people: p,
        fromFirst: i === 0 ? 1 : first === 0 ? 0 : p / first,
        fromPrevious: i === 0 ? 1 : prev === 0 ? 0 : p / prev,
        dropped: i === 0 ? 0 : prev - p,
        medianMs: i === 0 ? null : ms(row.medians[i - 1]),
      };
    }),
    medianTotalMs: ms(row.total),
  };
}

const emptySeries = (n: number): FunnelSeries => series({ bucket: "", other: 0, total_row: 1, people: [], medians: [], total: null }, n);

/** People per step, conversion, drop-off and median times, overall and per breakdown value. */
export async function runFunnels(cfg: DashboardEnv["clickhouse"], appId: string, def: FunnelsDef): Promise<FunnelsResult> {
  const n = def.steps.length;
  if (!isRunnable(def)) return { total: emptySeries(n), breakdown: [] };
  const q = funnelSql(def, def.top);
  const rows = await queryApp<FunnelRow>(cfg, appId, q.sql, q.params);
  const total = rows.find((r) => r.total_row === 1);
  const buckets = rows
    .filter((r) => r.total_row !== 1)
    .map((r) => series(r, n))
    .sort((a, b) => Number(a.other) - Number(b.other) || (b.steps[0]?.people ?? 0) - (a.steps[0]?.people ?? 0) || a.label.localeCompare(b.label));
  return { total: total ? series(total, n) : emptySeries(n), breakdown: def.breakdown.kind === "none" ? [] : buckets };
}
