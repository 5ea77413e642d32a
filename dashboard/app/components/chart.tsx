// A uPlot time-series chart: the server renders the frame (or the empty state) and the browser
// draws the lines (useUplot).
import { useMemo, useRef } from "react";
import { axisCounts } from "./format";
import { useUplot, type UplotChart } from "./use-uplot";

export interface Series {
  label: string;
  color: string;
  points: ReadonlyArray<{ t: number; n: number }>;
}

/**
 * Aligns several series on the union of their timestamps, missing points as 0. With `fill`
 * (the bucket width of counts, seconds) every bucket of `span` gets a point, so a quiet hour
 * reads as zero instead of a line drawn across it.
 */
export function alignSeries(series: readonly Series[], fill?: { span: readonly [number, number]; step: number }): [number[], ...number[][]] {
  const seen = new Set(series.flatMap((s) => s.points.map((p) => p.t)));
  if (fill && fill.step > 0 && (fill.span[1] - fill.span[0]) / fill.step <= 5_000) {
    for (let t = Math.ceil(fill.span[0] / fill.step) * fill.step; t < fill.span[1]; t += fill.step) seen.add(t);
  }
  const ts = [...seen].sort((a, b) => a - b);
  const columns = series.map((s) => {
    const byT = new Map(s.points.map((p) => [p.t, p.n]));
    return ts.map((t) => byT.get(t) ?? 0);
  });
  return [ts, ...columns];
}

/** `span` fixes the x axis to the selected range (epoch seconds), so gaps and lone points show where they are. */
export function TimeChart({
  title,
  series,
  span,
  height = 220,
  fillStep,
}: {
  title: string;
  series: readonly Series[];
  span: readonly [number, number];
  height?: number;
  /** For counts: the bucket width in seconds, so empty buckets draw as 0 (not for gauges such as lag). */
  fillStep?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const empty = series.every((s) => s.points.length === 0);
  const chart = useMemo<UplotChart | null>(() => {
    if (empty) return null;
    const [from, to] = span;
    return () => {
      const data = alignSeries(series, fillStep ? { span, step: fillStep } : undefined);
      // Markers only where a line has few points, so a lone bucket still shows.
      const markers = data[0].length < 40;
      return {
        data,
        opts: {
          legend: { show: true },
          scales: { x: { time: true, range: (): [number, number] => [from, to] } },
          axes: [
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" } },
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 56, values: axisCounts },
          ],
          series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: `${s.color}22`, points: { show: markers } }))],
        },
      };
    };
  }, [series, span, empty, fillStep]);
  useUplot(box, height, chart);

  return (
    <section className="card chart" aria-label={title}>
      <h2>{title}</h2>
      {empty ? (
        <div className="empty" style={{ height }}>
          <p>No events in this range yet.</p>
        </div>
      ) : (
        <div ref={box} className="chart-box" data-chart={title} style={{ minHeight: height }} />
      )}
    </section>
  );
}
