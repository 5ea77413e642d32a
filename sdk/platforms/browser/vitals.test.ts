import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeClient, fakeEdge, received } from "../../core/fakes";
import type { Metric } from "../../core/types";
import type { PerfEntry, Win } from "./dom";
import { captureVitals } from "./vitals";

afterEach(() => vi.restoreAllMocks());

/** A page whose performance entries the test hands out: `page.emit("paint", {...})`. */
function fakePage(navigation: Partial<PerfEntry>, visibilityState = "visible") {
  const observers = new Map<string, Array<(list: { getEntries(): PerfEntry[] }) => void>>();
  const listeners = new Map<string, Array<(e: { timeStamp: number }) => void>>();
  const document = {
    title: "",
    referrer: "",
    readyState: "complete",
    visibilityState,
    addEventListener: (type: string, fn: (e: { timeStamp: number }) => void) => listeners.set(type, [...(listeners.get(type) ?? []), fn]),
  };
  const w = {
    document,
    addEventListener: () => undefined,
    performance: { now: () => 0, getEntriesByType: (type: string) => (type === "navigation" ? [{ entryType: "navigation", startTime: 0, duration: 0, ...navigation }] : []) },
    PerformanceObserver: class {
      constructor(private readonly cb: (list: { getEntries(): PerfEntry[] }) => void) {}
      observe(o: { type: string }): void {
        observers.set(o.type, [...(observers.get(o.type) ?? []), this.cb]);
      }
    },
  } as unknown as Win;
  return {
    w,
    emit: (type: string, ...entries: Array<Partial<PerfEntry>>) => {
      for (const cb of observers.get(type) ?? []) cb({ getEntries: () => entries.map((e) => ({ entryType: type, startTime: 0, duration: 0, ...e })) });
    },
    hide: (timeStamp: number) => {
      document.visibilityState = "hidden";
      for (const fn of listeners.get("visibilitychange") ?? []) fn({ timeStamp });
    },
  };
}

const metrics = (events: ReturnType<typeof received>): Array<[string, number, string]> =>
  events.filter((e) => e.type === "perf").map((e) => e.metric as Metric).map((m) => [m.name, m.value, m.unit]);

describe("web vitals", () => {
  it("reports FCP once, from the first contentful paint, counted from activation", async () => {
    const edge = fakeEdge();
    const c = fakeClient(edge);
    const page = fakePage({ activationStart: 120, responseStart: 300, loadEventEnd: 1500 });
    captureVitals(c, page.w);
    page.emit("paint", { name: "first-paint", startTime: 700 }, { name: "first-contentful-paint", startTime: 820.25 });
    page.emit("paint", { name: "first-contentful-paint", startTime: 990 });
    await c.flush();
    expect(metrics(received(edge))).toEqual([
      ["TTFB", 180, "ms"],
      ["app_start", 1380, "ms"],
      ["FCP", 700.25, "ms"],
    ]);
  });

  it("has no FCP for a page hidden before it painted", async () => {
    const edge = fakeEdge();
    const c = fakeClient(edge);
    const page = fakePage({ responseStart: 50 });
    captureVitals(c, page.w);
    page.hide(400);
    page.emit("paint", { name: "first-contentful-paint", startTime: 2400 });
    const background = fakePage({ responseStart: 50 }, "hidden");
    captureVitals(c, background.w);
    background.emit("paint", { name: "first-contentful-paint", startTime: 90 });
    await c.flush();
    expect(metrics(received(edge)).map(([name]) => name)).toEqual(["TTFB", "TTFB"]);
  });

  it("reports LCP, CLS and INP when the page is hidden, beside FCP and TTFB", async () => {
    const edge = fakeEdge();
    const c = fakeClient(edge);
    const page = fakePage({ responseStart: 210 });
    const onHide = captureVitals(c, page.w);
    page.emit("paint", { name: "first-contentful-paint", startTime: 640 });
    page.emit("largest-contentful-paint", { startTime: 900 }, { startTime: 1850 });
    page.emit("layout-shift", { startTime: 1000, value: 0.05 }, { startTime: 1200, value: 0.04 }, { startTime: 1300, value: 0.5, hadRecentInput: true });
    page.emit("event", { interactionId: 1, duration: 80 }, { interactionId: 2, duration: 240 }, { interactionId: 2, duration: 120 });
    onHide();
    await c.flush();
    expect(metrics(received(edge))).toEqual([
      ["TTFB", 210, "ms"],
      ["FCP", 640, "ms"],
      ["LCP", 1850, "ms"],
      ["CLS", 0.09, "score"],
      ["INP", 240, "ms"],
    ]);
  });
});
