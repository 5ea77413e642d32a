// A uPlot time-series chart. uPlot touches the DOM when it loads, so it is imported inside an
// effect: the server renders the frame (or the empty state) and the browser draws the lines.
import { useEffect, useRef } from "react";
import type uPlotType from "uplot";

export interface Series {
  label: string;
  color: string;
  points: ReadonlyArray<{ t: number; n: number }>;
}

/** Aligns several series on the union of their timestamps, missing points as 0. */
export function alignSeries(series: readonly Series[]): [number[], ...number[][]] {
  const ts = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
  const columns = series.map((s) => {
    const byT = new Map(s.points.map((p) => [p.t, p.n]));
    return ts.map((t) => byT.get(t) ?? 0);
  });
  return [ts, ...columns];
}

/** `span` fixes the x axis to the selected range (epoch seconds), so gaps and lone points show where they are. */
export function TimeChart({ title, series, span, height = 220 }: { title: string; series: readonly Series[]; span: readonly [number, number]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const empty = series.every((s) => s.points.length === 0);

  useEffect(() => {
    const el = box.current;
    if (!el || empty) return;
    let plot: uPlotType | null = null;
    let cancelled = false;
    const [from, to] = span;
    const resize = () => plot?.setSize({ width: el.clientWidth, height });
    void import("uplot").then(({ default: uPlot }) => {
      if (cancelled) return;
      const opts: uPlotType.Options = {
        width: el.clientWidth,
        height,
        legend: { show: true },
        scales: { x: { time: true, range: (): [number, number] => [from, to] } },
        axes: [{ stroke: "#64748b", grid: { stroke: "#e2e8f0" } }, { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 56 }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: `${s.color}22`, points: { show: s.points.length < 40 } }))],
      };
      plot = new uPlot(opts, alignSeries(series), el);
      el.dataset.drawn = "true";
      window.addEventListener("resize", resize);
    });
    return () => {
      cancelled = true;
      window.removeEventListener("resize", resize);
      plot?.destroy();
    };
  }, [series, span, height, empty]);

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
