// How chart data is laid out for uPlot: series aligned on shared timestamps, and counts filled
// with zeros where a bucket had nothing, so a quiet hour does not read as a line across it.
import { expect, it } from "vitest";
import { alignSeries } from "../app/components/chart";
import { axisCount } from "../app/components/format";

const a = { label: "a", color: "#000", points: [{ t: 3600, n: 5 }, { t: 10_800, n: 2 }] };
const b = { label: "b", color: "#111", points: [{ t: 7200, n: 1 }] };

it("aligns series on the union of their timestamps, a missing point as 0", () => {
  expect(alignSeries([a, b])).toEqual([
    [3600, 7200, 10_800],
    [5, 0, 2],
    [0, 1, 0],
  ]);
});

it("fills every bucket of the span for counts", () => {
  expect(alignSeries([a], { span: [0, 14_400], step: 3600 })).toEqual([
    [0, 3600, 7200, 10_800],
    [0, 5, 0, 2],
  ]);
});

it("does not invent more points than a chart can show", () => {
  const [ts] = alignSeries([a], { span: [0, 90 * 86_400], step: 60 });
  expect(ts).toEqual([3600, 10_800]);
});

it("writes a count axis's ticks short enough for the axis: as counts below 10,000, then in thousands and millions", () => {
  expect([0, 2.5, 4000, 9999, 10_000, 150_000, 2_400_000, -25_000].map(axisCount)).toEqual(["0", "2.5", "4,000", "9,999", "10K", "150K", "2.4M", "-25K"]);
});
