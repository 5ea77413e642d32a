/** A small trend line drawn on the server as SVG: one per list row, so no chart library. */
export function Sparkline({ points, width = 120, height = 28, label }: { points: readonly number[]; width?: number; height?: number; label: string }) {
  const max = Math.max(1, ...points);
  const step = points.length > 1 ? width / (points.length - 1) : width;
  const y = (n: number): number => height - 2 - (n / max) * (height - 4);
  const line = points.map((n, i) => `${(i * step).toFixed(1)},${y(n).toFixed(1)}`).join(" ");
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <title>{label}</title>
      <polyline points={`0,${height} ${line} ${width},${height}`} fill="#fee2e2" stroke="none" />
      <polyline points={line} fill="none" stroke="#dc2626" strokeWidth={1.5} />
    </svg>
  );
}
