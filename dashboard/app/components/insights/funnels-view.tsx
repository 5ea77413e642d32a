// The funnel insight: a horizontal bar per step (the share of the first step's people who got
// there), the steps' figures with a link to the people who dropped at each, and a row per
// breakdown value; compact on a dashboard card.
import { Link } from "@remix-run/react";
import { useMemo, useRef } from "react";
import { droppedPeopleLink, stepLabel, windowLabel, type FunnelSeries, type FunnelsDef, type FunnelsResult } from "../../insights/funnels";
import { breakdownLabel } from "../../insights/breakdown";
import { count, duration, percent } from "../format";
import { useUplot, type UplotChart } from "../use-uplot";

const BAR = "#2563eb";
/** Step names longer than this are cut on the chart's axis (the table has them whole). */
const AXIS_LABEL = 22;

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const median = (ms: number | null): string => (ms === null ? "–" : duration(ms));

/** One bar per step, top to bottom, as the share of the first step's people. */
function StepBars({ labels, series, height }: { labels: readonly string[]; series: FunnelSeries; height: number }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useMemo<UplotChart | null>(() => {
    if ((series.steps[0]?.people ?? 0) === 0) return null;
    const xs = labels.map((_, i) => i);
    const shares = series.steps.map((s) => Math.round(s.fromFirst * 1000) / 10);
    return (uPlot) => ({
      data: [xs, shares],
      opts: {
        legend: { show: false },
        cursor: { show: false },
        scales: {
          // Steps run down the left side, the first at the top; shares run across.
          x: { time: false, ori: 1, dir: -1, range: (): [number, number] => [-0.5, labels.length - 0.5] },
          y: { ori: 0, dir: 1, range: (): [number, number] => [0, 100] },
        },
        axes: [
          {
            scale: "x",
            side: 3,
            stroke: "#334155",
            font: "12px system-ui, sans-serif",
            grid: { show: false },
            ticks: { show: false },
            size: Math.min(190, 16 + 7 * Math.max(...labels.map((l) => Math.min(l.length, AXIS_LABEL) + 3))),
            splits: () => xs,
            values: (_u, splits: number[]) => splits.map((i) => `${i + 1}. ${cut(labels[i] ?? "", AXIS_LABEL)}`),
          },
          { scale: "y", side: 2, stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 28, space: 70, values: (_u, splits: number[]) => splits.map((v) => `${v} %`) },
        ],
        series: [{}, { label: "reached", stroke: BAR, fill: `${BAR}cc`, width: 0, paths: uPlot.paths.bars?.({ size: [0.62, 48] }), points: { show: false } }],
      },
    });
  }, [labels, series]);
  useUplot(box, height, chart);
  if (!chart) {
    return (
      <div className="empty" style={{ height }}>
        <p>Nobody did the first step in this range.</p>
      </div>
    );
  }
  return (
    <>
      <div ref={box} className="chart-box" data-chart="Funnel" style={{ minHeight: height }} />
      <table className="sr-only">
        <tbody>
          {series.steps.map((s, i) => (
            <tr key={labels[i]}>
              <th>{labels[i]}</th>
              <td>{percent(s.fromFirst)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function StepTable({ def, labels, series, appId }: { def: FunnelsDef; labels: readonly string[]; series: FunnelSeries; appId?: string }) {
  return (
    <table className="events funnel-steps" aria-label="Steps">
      <thead>
        <tr>
          <th>step</th>
          <th className="num">people</th>
          <th className="num">of first step</th>
          <th className="num">of previous</th>
          <th className="num">dropped here</th>
          <th className="num">median time from previous</th>
        </tr>
      </thead>
      <tbody>
        {series.steps.map((s, i) => (
          <tr key={`${i}:${labels[i]}`}>
            <td className="clip" style={{ maxWidth: "22rem" }} title={labels[i]}>
              {i + 1}. {labels[i]}
            </td>
            <td className="num">{count(s.people)}</td>
            <td className="num">{percent(s.fromFirst)}</td>
            <td className="num">{i === 0 ? "–" : percent(s.fromPrevious)}</td>
            <td className="num">
              {i === 0 ? "–" : appId && s.dropped > 0 ? <Link to={droppedPeopleLink(appId, def, i + 1)}>{count(s.dropped)} people</Link> : count(s.dropped)}
            </td>
            <td className="num">{median(s.medianMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A row per breakdown value: people entering, then each later step's share of them with a bar. */
function BreakdownTable({ def, labels, rows, appId }: { def: FunnelsDef; labels: readonly string[]; rows: readonly FunnelSeries[]; appId?: string }) {
  const name = breakdownLabel(def.breakdown);
  return (
    <table className="events funnel-breakdown" aria-label="Breakdown" style={{ marginTop: "1.25rem" }}>
      <thead>
        <tr>
          <th>{name}</th>
          <th className="num">entered</th>
          {labels.slice(1).map((l, i) => (
            <th key={`${i}:${l}`} className="num" title={l}>
              {i + 2}. {cut(l, 16)}
            </th>
          ))}
          <th className="num">median to convert</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.other ? "other" : "value"}:${r.label}`}>
            <td className="clip" style={{ maxWidth: "14rem" }}>
              {r.other ? <em>other</em> : r.label === "" ? <span className="muted">(no {name})</span> : r.label}
            </td>
            <td className="num">{count(r.steps[0]?.people ?? 0)}</td>
            {r.steps.slice(1).map((s, i) => {
              // The people of this value who reached the step before but not this one ("other" folds many values: no list).
              const dropped = (r.steps[i]?.people ?? 0) - s.people;
              return (
                <td key={i} className="num" style={{ position: "relative" }} title={`${count(s.people)} people`}>
                  <span className="bar" style={{ width: `${s.fromFirst * 100}%` }} />
                  <span className="bar-label">{percent(s.fromFirst)}</span>
                  {appId && !r.other && dropped > 0 ? (
                    <Link className="small dropped" to={droppedPeopleLink(appId, def, i + 2, r.label)} title={`${count(dropped)} people reached step ${i + 1} but not step ${i + 2}`}>
                      −{count(dropped)}
                    </Link>
                  ) : null}
                </td>
              );
            })}
            <td className="num">{median(r.medianTotalMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A funnel's result. `appId` links each step's drop-off to the users view; `compact` fits a
 * dashboard card: the bars and one line of totals.
 */
export function FunnelsView({ def, result, appId, compact = false }: { def: FunnelsDef; result: FunnelsResult; appId?: string; compact?: boolean }) {
  const labels = useMemo(() => def.steps.map(stepLabel), [def.steps]);
  const last = result.total.steps.at(-1);
  const entered = result.total.steps[0]?.people ?? 0;
  const height = Math.max(compact ? 110 : 150, labels.length * (compact ? 30 : 42) + 36);
  const summary = (
    <p className="small">
      <strong>{percent(last?.fromFirst ?? 0)}</strong> of {count(entered)} {entered === 1 ? "person" : "people"} converted within {windowLabel(def.window)}
      {def.order === "strict" ? " (strict order)" : ""} · median time to convert {median(result.total.medianTotalMs)}
    </p>
  );
  if (compact) {
    return (
      <div className="funnel compact">
        <StepBars labels={labels} series={result.total} height={height} />
        {summary}
      </div>
    );
  }
  return (
    <div className="funnel">
      {summary}
      <StepBars labels={labels} series={result.total} height={height} />
      <StepTable def={def} labels={labels} series={result.total} appId={appId} />
      {result.breakdown.length > 0 ? <BreakdownTable def={def} labels={labels} rows={result.breakdown} appId={appId} /> : null}
    </div>
  );
}
