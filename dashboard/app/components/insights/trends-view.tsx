// The trends insight: lines over time (the previous period dashed in the same colour), each
// line's total as bars, or a table of every bucket; compact on a dashboard card.
import { useMemo, useRef } from "react";
import type { Display, Interval } from "../../insights/trends";
import type { TrendLine, TrendsResult } from "../../insights/trends.server";
import { axisCounts, count, percent } from "../format";
import { useUplot, type UplotChart } from "../use-uplot";

const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c", "#4f46e5", "#0d9488"];
export const lineColor = (i: number): string => COLORS[i % COLORS.length] ?? "#2563eb";

/** How many lines a dashboard card draws, largest first. */
const COMPACT_LINES = 6;

const formats = new Map<string, Intl.DateTimeFormat>();
/** A bucket's start as the zone reads it: `Nov 23, 14:00`, `Nov 23`, `Nov 2026`. */
export function bucketLabel(t: number, interval: Interval, tz: string): string {
  const key = `${interval}|${tz}`;
  let f = formats.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      interval === "hour" ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : interval === "month" ? { month: "short", year: "numeric" } : { month: "short", day: "numeric" };
    f = new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: tz });
    formats.set(key, f);
  }
  return `${interval === "week" ? "week of " : ""}${f.format(new Date(t * 1000))}`;
}

/** A figure as the table shows it: counts whole, averages and percentiles to two decimals. */
const figure = (v: number | null): string => (v === null ? "–" : count(Math.round(v * 100) / 100));

function change(now: number | null, before: number | null): string {
  if (now === null || before === null) return "–";
  if (before === 0) return now === 0 ? "0 %" : "new";
  return `${now >= before ? "+" : ""}${percent((now - before) / before)}`;
}

function LineChart({ result, lines, height }: { result: TrendsResult; lines: readonly TrendLine[]; height: number }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useMemo<UplotChart | null>(() => {
    if (result.buckets.length === 0 || lines.length === 0) return null;
    const { tz, interval } = result;
    return (uPlot) => {
      const compared = lines.filter((l) => l.previous !== null);
      return {
        data: [result.buckets, ...lines.map((l) => l.values), ...compared.map((l) => l.previous ?? [])],
        opts: {
          tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), tz),
          legend: { show: true },
          cursor: { points: { size: 6 } },
          scales: { x: { time: true }, y: { range: (_u, _min, max): [number, number] => [0, max > 0 ? max * 1.08 : 1] } },
          axes: [
            // A tick per bucket when they fit, named as the zone's calendar has it.
            result.buckets.length <= 16
              ? { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, splits: () => result.buckets, values: (_u, ticks: number[]) => ticks.map((t) => bucketLabel(t, interval, tz).replace(/^week of /, "")) }
              : { stroke: "#64748b", grid: { stroke: "#e2e8f0" } },
            { stroke: "#64748b", grid: { stroke: "#e2e8f0" }, size: 60, values: axisCounts },
          ],
          series: [
            { value: (_u, ts: number | null) => (ts === null ? "" : bucketLabel(ts, interval, tz)) },
            ...lines.map((l) => ({ label: l.label, stroke: lineColor(lines.indexOf(l)), width: 2, points: { show: result.buckets.length < 40 }, spanGaps: false })),
            ...compared.map((l) => ({ label: `${l.label} (previous)`, stroke: lineColor(lines.indexOf(l)), width: 1.5, dash: [6, 4], points: { show: false } })),
          ],
        },
      };
    };
  }, [result, lines]);
  useUplot(box, height, chart);
  return <div ref={box} className="chart-box trends-chart" data-chart="Trend" style={{ minHeight: height }} />;
}

/** Each line's total over the range as a bar, the previous period's beside it in words. */
function TotalBars({ lines }: { lines: readonly TrendLine[] }) {
  const max = Math.max(1, ...lines.map((l) => l.total ?? 0));
  return (
    <table className="top trends-bars" aria-label="Totals">
      <tbody>
        {lines.map((l, i) => (
          <tr key={`${l.series}:${l.label}`}>
            <td>
              <span className="bar" style={{ width: `${((l.total ?? 0) / max) * 100}%`, background: `${lineColor(i)}33` }} />
              <span className="bar-label">{l.label}</span>
            </td>
            <td className="num">{figure(l.total)}</td>
            {l.previous !== null ? <td className="num muted small">{change(l.total, l.previousTotal)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function BucketTable({ result, lines }: { result: TrendsResult; lines: readonly TrendLine[] }) {
  const compared = lines.some((l) => l.previous !== null);
  return (
    <div style={{ overflowX: "auto" }}>
      <table className="trends-table" aria-label="Trend table">
        <thead>
          <tr>
            <th>{result.tz === "UTC" ? "line" : `line (${result.tz})`}</th>
            <th className="num">total</th>
            {compared ? <th className="num">previous</th> : null}
            {result.buckets.map((t) => (
              <th key={t} className="num" style={{ whiteSpace: "nowrap" }}>
                {bucketLabel(t, result.interval, result.tz)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {lines.map((l, i) => (
            <tr key={`${l.series}:${l.label}`}>
              <td style={{ whiteSpace: "nowrap" }}>
                <span aria-hidden="true" style={{ color: lineColor(i) }}>
                  ●{" "}
                </span>
                {l.label}
              </td>
              <td className="num">{figure(l.total)}</td>
              {compared ? <td className="num">{figure(l.previousTotal)}</td> : null}
              {l.values.map((v, j) => (
                <td key={result.buckets[j]} className="num">
                  {figure(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A trend's result: full on its page, `compact` on a dashboard card (fewer lines, no table of buckets). */
export function TrendsView({ result, display, compact = false }: { result: TrendsResult; display: Display; compact?: boolean }) {
  const lines = compact ? result.lines.slice(0, COMPACT_LINES) : result.lines;
  const empty = lines.every((l) => l.total === null || l.total === 0) && lines.every((l) => l.values.every((v) => v === null || v === 0));
  if (empty) {
    return (
      <div className="empty" style={{ height: compact ? 160 : 280 }}>
        <p>No matching events in this range.</p>
      </div>
    );
  }
  const more = result.lines.length - lines.length;
  return (
    <div className="trends-view" data-display={display}>
      {display === "table" ? (
        compact ? (
          <TotalBars lines={lines} />
        ) : (
          <BucketTable result={result} lines={lines} />
        )
      ) : display === "bar" ? (
        <TotalBars lines={lines} />
      ) : compact ? (
        <LineChart result={result} lines={lines} height={180} />
      ) : (
        <>
          <LineChart result={result} lines={lines} height={320} />
          <TotalBars lines={lines} />
        </>
      )}
      {more > 0 ? <p className="muted small">{more} more lines on the insight&apos;s page.</p> : null}
    </div>
  );
}
