// How numbers, times and durations read across the views.

/** `2026-04-20 10:00:00.123` (UTC). */
export const utcTime = (ms: number): string => new Date(ms).toISOString().replace("T", " ").slice(0, 23);

/** `2026-04-20 10:00` (UTC). */
export const utcMinute = (ms: number): string => new Date(ms).toISOString().replace("T", " ").slice(0, 16);

/** `1,234`, or `2.5` below ten. */
export const count = (n: number): string => n.toLocaleString("en", { maximumFractionDigits: n < 10 ? 2 : 0 });

const COMPACT = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

/** A chart axis's tick: `count` below 10,000, then `15K`, `2.4M`, so it fits the axis's width. */
export const axisCount = (n: number): string => (Math.abs(n) < 10_000 ? count(n) : COMPACT.format(n));

/** uPlot's `values` for a count axis. */
export const axisCounts = (_u: unknown, ticks: number[]): string[] => ticks.map(axisCount);

/** `0 s`, `42 s`, `3 min 05 s`, `2 h 07 min`. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** `12.5 %`. */
export const percent = (ratio: number): string => `${(ratio * 100).toLocaleString("en", { maximumFractionDigits: 1 })} %`;

/** `85 ms`, `1.24 s`: a latency; `–` when there is none. */
export const millis = (v: number | null): string =>
  v === null ? "–" : v < 1000 ? `${Math.round(v).toLocaleString("en")} ms` : `${(v / 1000).toLocaleString("en", { maximumFractionDigits: 2 })} s`;

/** `840 B`, `1.2 KB`, `35 MB`: a size in bytes (1 KB = 1024 B). */
export function bytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  let v = n / 1024;
  let unit = 0;
  while (v >= 1024 && unit < 2) {
    v /= 1024;
    unit++;
  }
  return `${v.toLocaleString("en", { maximumFractionDigits: v < 10 ? 1 : 0 })} ${["KB", "MB", "GB"][unit] ?? "GB"}`;
}
