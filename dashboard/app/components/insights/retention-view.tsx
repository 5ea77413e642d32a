// The retention insight: the average curve (uPlot) and the cohort table, each cell the share of
// the cohort back in that period, shaded by it, with the count in its title.
import { useMemo, useRef } from "react";
import type { Period } from "../../insights/calendar";
import type { Cohort, RetentionResult } from "../../insights/retention.server";
import { count, percent } from "../format";
import { useUplot, type UplotChart } from "../use-uplot";

const PERIOD_WORD: Readonly<Record<Period, string>> = { day: "Day", week: "Week", month: "Month" };
/** How much of the table a dashboard card shows: the newest cohorts, the first periods. */
const COMPACT = { cohorts: 6, periods: 7 };

/** The average share back per period, as a line from period 1 on. */
function RetentionCurve({ average, period, height }: { average: RetentionResult["average"]; period: Period; height: number }) {
  const box = useRef<HTMLDivElement>(null);
  const points = useMemo(() => average.filter((a) => a.rate !== null), [average]);
  const chart = useMemo<UplotChart | null>(() => {
    if (points.length === 0) return null;
    return () => ({
      data: [points.map((a) => a.n), points.map((a) => Math.round((a.rate ?? 0) * 10_000) / 100)],
      opts: {
        legend: { show: false },
        scales: { x: { time: false }, y: { range: (_u, _min, max): [number, number] => [0, Math.max(10, Math.ceil((max ?? 0) / 10) * 10)] } },
        axes: [
          { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, incrs: [1, 2, 5, 10, 20], values: (_u, vals) => vals.map((v) => `${PERIOD_WORD[period]} ${v}`) },
          { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 56, values: (_u, vals) => vals.map((v) => `${v} %`) },
        ],
        series: [{}, { label: "back", stroke: "#2563eb", width: 2, fill: "#2563eb22", points: { show: true } }],
      },
    });
  }, [points, period]);
  useUplot(box, height, chart);
  if (!chart) {
    return (
      <div className="empty" style={{ height }}>
        <p>No cohort has reached its second {period} yet.</p>
      </div>
    );
  }
  return <div ref={box} className="chart-box" data-chart="Retention curve" style={{ minHeight: height }} />;
}

const cell = (back: number | undefined, size: number) => {
  if (back === undefined) return { text: "", title: "Not reached yet", bg: "transparent" };
  const rate = size > 0 ? back / size : 0;
  return { text: size > 0 ? percent(rate) : "–", title: `${count(back)} of ${count(size)} people`, bg: size > 0 ? `rgba(37, 99, 235, ${(0.08 + rate * 0.6).toFixed(3)})` : "transparent" };
};

function CohortTable({ cohorts, periods, period, tz }: { cohorts: readonly Cohort[]; periods: number; period: Period; tz: string }) {
  return (
    <div style={{ overflowX: "auto" }}>
      <table className="retention" aria-label="Cohorts">
        <thead>
          <tr>
            <th>cohort ({tz})</th>
            <th className="num">people</th>
            {Array.from({ length: periods }, (_, k) => (
              <th key={k} className="num" style={{ whiteSpace: "nowrap" }}>
                {PERIOD_WORD[period]} {k + 1}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {cohorts.map((c) => (
            <tr key={c.day}>
              <td style={{ whiteSpace: "nowrap" }}>{c.day}</td>
              <td className="num">{count(c.size)}</td>
              {Array.from({ length: periods }, (_, k) => {
                const v = cell(c.returned[k], c.size);
                return (
                  <td key={k} className="num" title={v.title} style={{ background: v.bg, whiteSpace: "nowrap" }}>
                    {v.text}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A retention result: the curve over the cohort table; `compact` (a dashboard card) shows the newest cohorts' first periods. */
export function RetentionView({ result, period, tz, compact = false }: { result: RetentionResult; period: Period; tz: string; compact?: boolean }) {
  const people = result.cohorts.reduce((n, c) => n + c.size, 0);
  if (people === 0) {
    return (
      <div className="empty-state">
        <p className="muted">Nobody in this range matches the cohort&apos;s definition yet.</p>
      </div>
    );
  }
  const periods = Math.max(0, result.cohorts.length - 1);
  const shown = compact ? result.cohorts.filter((c) => c.size > 0).slice(-COMPACT.cohorts) : result.cohorts;
  return (
    <div className="retention-view">
      <RetentionCurve average={result.average} period={period} height={compact ? 150 : 220} />
      <CohortTable cohorts={shown} periods={compact ? Math.min(periods, COMPACT.periods) : periods} period={period} tz={tz} />
    </div>
  );
}
