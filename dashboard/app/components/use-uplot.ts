// Draws a uPlot chart in the browser. uPlot touches the DOM when it loads, so it is imported
// inside an effect: the server renders the chart's frame and the browser draws into it.
import { useEffect, type RefObject } from "react";
import type uPlotType from "uplot";

export type UplotLib = typeof uPlotType;

/** A chart's options (without its size) and data, made once uPlot has loaded. */
export type UplotChart = (lib: UplotLib) => { opts: Omit<uPlotType.Options, "width" | "height">; data: uPlotType.AlignedData };

/**
 * Draws `chart` into `box` at the box's width, follows window resizes, and draws again when
 * `chart` changes (memoize it). Marks the box `data-drawn` once painted. `null` draws nothing.
 */
export function useUplot(box: RefObject<HTMLDivElement | null>, height: number, chart: UplotChart | null): void {
  useEffect(() => {
    const el = box.current;
    if (!el || !chart) return;
    let plot: uPlotType | null = null;
    let cancelled = false;
    const resize = () => plot?.setSize({ width: el.clientWidth, height });
    void import("uplot").then(({ default: uPlot }) => {
      if (cancelled) return;
      const { opts, data } = chart(uPlot);
      plot = new uPlot({ ...opts, width: el.clientWidth, height }, data, el);
      el.dataset.drawn = "true";
      window.addEventListener("resize", resize);
    });
    return () => {
      cancelled = true;
      window.removeEventListener("resize", resize);
      plot?.destroy();
    };
  }, [box, height, chart]);
}
