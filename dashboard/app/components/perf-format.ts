// How perf values read: in the unit they were sent in, times past a second in seconds.
import type { Band } from "../../../schemas/perf";

/** `840 ms`, `2.46 s`, `0.12` (a score), `3.5 MB`. */
export function perfValue(value: number, unit: string): string {
  if (unit === "ms") return Math.abs(value) >= 1000 ? `${(value / 1000).toLocaleString("en", { maximumFractionDigits: 2 })} s` : `${Math.round(value).toLocaleString("en")} ms`;
  if (unit === "score" || unit === "") return value.toLocaleString("en", { maximumFractionDigits: 3 });
  return `${value.toLocaleString("en", { maximumFractionDigits: 2 })} ${unit}`;
}

/** `+25 %`, `−5.2 %`: a change between releases. */
export const signedPercent = (ratio: number): string => `${ratio >= 0 ? "+" : "−"}${Math.abs(ratio * 100).toLocaleString("en", { maximumFractionDigits: 1 })} %`;

export const BAND_LABELS: Record<Band, string> = { good: "good", needs_improvement: "needs improvement", poor: "poor" };
export const BAND_COLORS: Record<Band, string> = { good: "#059669", needs_improvement: "#d97706", poor: "#dc2626" };
