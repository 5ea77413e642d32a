// Calls, error rates (4xx, 5xx, failed, timeouts), latency and sizes over time, for all of an
// app's calls or one endpoint's.
import { useMemo } from "react";
import type { NetworkPoint } from "../queries/network.server";
import { TimeChart, type Series } from "./chart";

export function NetworkCharts({ points, span, step }: { points: readonly NetworkPoint[]; span: readonly [number, number]; step: number }) {
  const calls = useMemo<Series[]>(
    () => [
      { label: "calls", color: "#2563eb", points: points.map((p) => ({ t: p.t, n: p.calls })) },
      { label: "errors", color: "#dc2626", points: points.map((p) => ({ t: p.t, n: p.errors })) },
    ],
    [points],
  );
  // A bucket without calls has no rate, latency or size: a gap, not a zero.
  const rate = useMemo<Series[]>(() => {
    const share = (label: string, color: string, pick: (p: NetworkPoint) => number): Series => ({
      label,
      color,
      points: points.filter((p) => p.calls > 0).map((p) => ({ t: p.t, n: Math.round((pick(p) / p.calls) * 10_000) / 100 })),
    });
    return [
      share("4xx %", "#d97706", (p) => p.clientErrors),
      share("5xx %", "#dc2626", (p) => p.serverErrors),
      share("failed %", "#7c3aed", (p) => p.failed),
      share("timeouts %", "#0f766e", (p) => p.timeouts),
    ];
  }, [points]);
  const sizes = useMemo<Series[]>(() => {
    const avg = (label: string, color: string, pick: (p: NetworkPoint) => number): Series => ({
      label,
      color,
      points: points.filter((p) => p.calls > 0).map((p) => ({ t: p.t, n: Math.round(pick(p)) })),
    });
    return [avg("request B", "#2563eb", (p) => p.avgRequestBytes), avg("response B", "#059669", (p) => p.avgResponseBytes)];
  }, [points]);
  const latency = useMemo<Series[]>(() => {
    const line = (label: string, color: string, pick: (p: NetworkPoint) => number | null): Series => ({
      label,
      color,
      points: points.flatMap((p) => {
        const v = pick(p);
        return v === null ? [] : [{ t: p.t, n: Math.round(v) }];
      }),
    });
    return [line("p50 ms", "#059669", (p) => p.p50), line("p95 ms", "#d97706", (p) => p.p95), line("p99 ms", "#db2777", (p) => p.p99)];
  }, [points]);
  return (
    <div className="grid two network-charts">
      <TimeChart title="Calls" series={calls} span={span} fillStep={step} />
      <TimeChart title="Error rate by outcome (%)" series={rate} span={span} />
      <TimeChart title="Latency (ms)" series={latency} span={span} />
      <TimeChart title="Average size per call (bytes)" series={sizes} span={span} />
    </div>
  );
}
