// Percentiles over time (uPlot), with a vital's good and poor thresholds drawn as dashed lines
// across the range. A bucket without values is a gap, not a drop to zero.
import { useMemo, useRef } from "react";
import { perfValue, BAND_COLORS } from "./perf-format";
import { useUplot, type UplotChart } from "./use-uplot";

export interface PerfLine {
  label: string;
  color: string;
  points: ReadonlyArray<{ t: number; v: number }>;
}

export const PERCENTILE_COLORS = { p50: "#2563eb", p75: "#7c3aed", p95: "#d97706", p99: "#db2777" } as const;

/** The union of the lines' buckets and the range's ends, each line null where it has no value. */
export function alignPerfLines(lines: readonly PerfLine[], span: readonly [number, number]): [number[], ...Array<Array<number | null>>] {
  const ts = [...new Set([span[0], span[1], ...lines.flatMap((l) => l.points.map((p) => p.t))])].sort((a, b) => a - b);
  return [ts, ...lines.map((l) => {
    const byT = new Map(l.points.map((p) => [p.t, p.v]));
    return ts.map((t) => byT.get(t) ?? null);
  })];
}

export function PerfChart({
  title,
  lines,
  unit,
  thresholds,
  span,
  height = 220,
  bare = false,
}: {
  title: string;
  lines: readonly PerfLine[];
  unit: string;
  thresholds?: { good: number; poor: number } | null;
  span: readonly [number, number];
  height?: number;
  /** Inside another card: no frame or heading of its own. */
  bare?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const empty = lines.every((l) => l.points.length === 0);
  const chart = useMemo<UplotChart | null>(() => {
    if (empty) return null;
    return () => {
      const [ts, ...columns] = alignPerfLines(lines, span);
      const limits = thresholds ? [thresholds.good, thresholds.poor] : [];
      const markers = ts.length < 40;
      return {
        data: [ts, ...columns, ...limits.map((v) => ts.map(() => v))],
        opts: {
          legend: { show: !bare },
          scales: { x: { time: true, range: (): [number, number] => [span[0], span[1]] }, y: { range: (_u, min, max): [number, number] => [0, Math.max(max, ...limits) * 1.1 || 1] } },
          axes: [
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" } },
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 64, values: (_u, vals) => vals.map((v) => perfValue(v, unit)) },
          ],
          series: [
            {},
            ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, points: { show: markers }, spanGaps: false, value: (_u: unknown, v: number | null) => (v === null ? "–" : perfValue(v, unit)) })),
            ...(thresholds
              ? [
                  { label: `good ≤ ${perfValue(thresholds.good, unit)}`, stroke: BAND_COLORS.good, width: 1, dash: [4, 4], points: { show: false } },
                  { label: `poor > ${perfValue(thresholds.poor, unit)}`, stroke: BAND_COLORS.poor, width: 1, dash: [4, 4], points: { show: false } },
                ]
              : []),
          ],
        },
      };
    };
  }, [lines, span, empty, thresholds, unit, bare]);
  useUplot(box, height, chart);
  const body = empty ? (
    <div className="empty" style={{ height }}>
      <p>No values in this range yet.</p>
    </div>
  ) : (
    <div ref={box} className="chart-box" data-chart={title} style={{ minHeight: height }} />
  );
  if (bare) return body;
  return (
    <section className="card chart" aria-label={title}>
      <h2>{title}</h2>
      {body}
    </section>
  );
}
