// A vital's values by rating band as one stacked bar, with the shares written out for readers
// who do not see the colours.
import type { BandShares } from "../queries/perf.server";
import { percent } from "./format";
import { BAND_COLORS } from "./perf-format";

export function BandBar({ shares }: { shares: BandShares | null }) {
  if (!shares) return <span className="muted small">no values</span>;
  const parts = [
    { key: "good", share: shares.good, color: BAND_COLORS.good, label: "good" },
    { key: "ni", share: shares.needsImprovement, color: BAND_COLORS.needs_improvement, label: "needs improvement" },
    { key: "poor", share: shares.poor, color: BAND_COLORS.poor, label: "poor" },
  ];
  const text = parts.map((p) => `${percent(p.share)} ${p.label}`).join(", ");
  return (
    <div className="vitals-bands" title={text}>
      <div className="vitals-bar" role="img" aria-label={text}>
        {parts.map((p) => (p.share > 0 ? <span key={p.key} style={{ width: `${p.share * 100}%`, background: p.color }} /> : null))}
      </div>
      <div className="vitals-shares small">
        {parts.map((p) => (
          <span key={p.key} data-band={p.key}>
            <i style={{ background: p.color }} />
            {percent(p.share)}
          </span>
        ))}
      </div>
    </div>
  );
}
