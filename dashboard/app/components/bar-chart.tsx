// A uPlot bar chart over labelled buckets (histograms): the server renders the frame and the
// browser draws the bars (useUplot).
import { useMemo, useRef } from "react";
import { axisCounts } from "./format";
import { useUplot, type UplotChart } from "./use-uplot";

export interface BarBucket {
  label: string;
  n: number;
}

export function BarChart({
  title,
  buckets,
  color = "#2563eb",
  height = 200,
  unit = "sessions",
}: {
  title: string;
  buckets: readonly BarBucket[];
  color?: string;
  height?: number;
  unit?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const empty = buckets.every((b) => b.n === 0);
  const chart = useMemo<UplotChart | null>(() => {
    if (empty) return null;
    return (uPlot) => {
      const xs = buckets.map((_, i) => i);
      return {
        data: [xs, buckets.map((b) => b.n)],
        opts: {
          legend: { show: false },
          scales: { x: { time: false, range: (): [number, number] => [-0.5, buckets.length - 0.5] } },
          axes: [
            {
              stroke: "#64748b",
              font: "11px system-ui, sans-serif",
              grid: { show: false },
              splits: () => xs,
              values: (_u, splits: number[]) => splits.map((i) => buckets[i]?.label ?? ""),
            },
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 56, values: axisCounts },
          ],
          series: [{}, { label: unit, stroke: color, fill: `${color}99`, width: 1, paths: uPlot.paths.bars?.({ size: [0.7, 80] }), points: { show: false } }],
        },
      };
    };
  }, [buckets, color, empty, unit]);
  useUplot(box, height, chart);

  return (
    <section className="card chart" aria-label={title}>
      <h2>{title}</h2>
      {empty ? (
        <div className="empty" style={{ height }}>
          <p>Nothing in this range yet.</p>
        </div>
      ) : (
        <>
          <div ref={box} className="chart-box" data-chart={title} style={{ minHeight: height }} />
          <table className="sr-only">
            <tbody>
              {buckets.map((b) => (
                <tr key={b.label}>
                  <th>{b.label}</th>
                  <td>{b.n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
