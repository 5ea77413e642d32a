import type { Core } from "../../core/client";
import type { PerfEntry, Win } from "./dom";

/**
 * Measures web vitals as perf events: TTFB, FCP and app start (the page's load event) once
 * known; LCP, CLS and INP when the page is hidden (their values settle only then), again if they
 * changed by the next time. Follows the web-vitals definitions, simplified: CLS is the largest
 * session window of shifts (gaps under 1 s, windows up to 5 s); INP is the slowest interaction,
 * or the 98th percentile once there are 50 or more. Returns the function to call on hide.
 * `const onHide = captureVitals(client, window)`
 */
export function captureVitals(c: Core, w: Win): () => void {
  const PO = w.PerformanceObserver;
  const perf = w.performance;
  const report = (name: string, value: number, unit = "ms"): void => {
    if (c.allows("vitals")) c.perf(name, Math.round(value * 1000) / 1000, unit);
  };
  const observe = (type: string, fn: (e: PerfEntry) => void, durationThreshold?: number): void => {
    try {
      if (PO) new PO((list) => list.getEntries().forEach(fn)).observe({ type, buffered: true, durationThreshold });
    } catch {
      // This browser does not know the entry type.
    }
  };
  const nav = (): PerfEntry | undefined => perf?.getEntriesByType("navigation")[0];
  // Prerendered pages count from activation, not from the prerender.
  const start = nav()?.activationStart ?? 0;

  const first = nav();
  if (first?.responseStart) report("TTFB", Math.max(0, first.responseStart - start));
  const loaded = (): void => {
    const end = nav()?.loadEventEnd;
    if (end) report("app_start", Math.max(0, end - start));
  };
  if (w.document.readyState === "complete") loaded();
  else w.addEventListener("load", () => setTimeout(loaded, 0));

  // A paint after the page was first hidden (a tab opened in the background) counts the time
  // nobody was looking: such a page has no FCP, as in web-vitals.
  let hiddenAt = w.document.visibilityState === "hidden" ? 0 : Infinity;
  w.document.addEventListener("visibilitychange", (e: { timeStamp: number }) => {
    if (w.document.visibilityState === "hidden") hiddenAt = Math.min(hiddenAt, e.timeStamp);
  });
  let fcp = false;
  observe("paint", (e) => {
    if (e.name !== "first-contentful-paint" || fcp || e.startTime >= hiddenAt) return;
    fcp = true;
    report("FCP", Math.max(0, e.startTime - start));
  });

  let lcp = 0;
  observe("largest-contentful-paint", (e) => (lcp = Math.max(0, e.startTime - start)));

  let cls = 0;
  let windowValue = 0;
  let windowStart = 0;
  let windowLast = 0;
  observe("layout-shift", (e) => {
    if (e.hadRecentInput) return;
    const joins = windowValue > 0 && e.startTime - windowLast < 1000 && e.startTime - windowStart < 5000;
    windowValue = (joins ? windowValue : 0) + (e.value ?? 0);
    if (!joins) windowStart = e.startTime;
    windowLast = e.startTime;
    cls = Math.max(cls, windowValue);
  });

  const interactions = new Map<number, number>();
  let count = 0;
  const interaction = (e: PerfEntry): void => {
    const id = e.interactionId;
    if (!id) return;
    if (!interactions.has(id)) count++;
    interactions.set(id, Math.max(interactions.get(id) ?? 0, e.duration));
    // Only the slowest ten can ever be the answer (ten is the 98th percentile of 500).
    if (interactions.size > 100) {
      const keep = [...interactions].sort((a, b) => b[1] - a[1]).slice(0, 10);
      interactions.clear();
      for (const [k, v] of keep) interactions.set(k, v);
    }
  };
  observe("event", interaction, 16);
  observe("first-input", interaction);
  const inp = (): number => {
    const slowest = [...interactions.values()].sort((a, b) => b - a);
    return slowest[Math.min(slowest.length - 1, Math.floor(count / 50))] ?? 0;
  };

  const sent: Record<string, number> = {};
  return () => {
    for (const [name, value, unit] of [
      ["LCP", lcp, "ms"],
      ["CLS", cls, "score"],
      ["INP", inp(), "ms"],
    ] as const) {
      if ((value > 0 || name === "CLS") && sent[name] !== value) {
        sent[name] = value;
        report(name, value, unit);
      }
    }
  };
}
