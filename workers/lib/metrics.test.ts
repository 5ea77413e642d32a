import { describe, expect, it, vi } from "vitest";
import { pipelinePoints, writePipelineCounts } from "./metrics";

describe("pipeline counters in Analytics Engine", () => {
  it("writes one data point per app, stage and reason (blob1 stage, blob2 reason, blob3 app, double1 count, indexed by app), adding up repeats", () => {
    const points = pipelinePoints([
      { appId: "app_a", stage: "capped", reason: "issue_cap", n: 40 },
      { appId: "app_a", stage: "capped", reason: "issue_cap", n: 2 },
      { appId: "app_a", stage: "accepted", reason: "", n: 120 },
      { appId: "app_b", stage: "accepted", reason: "", n: 0 },
    ]);
    expect(points).toEqual([
      { blobs: ["capped", "issue_cap", "app_a"], doubles: [42], indexes: ["app_a"] },
      { blobs: ["accepted", "", "app_a"], doubles: [120], indexes: ["app_a"] },
    ]);
  });

  it("runs without the binding, and a dataset that throws does not stop the caller but says so", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(() => writePipelineCounts({}, [{ appId: "app_a", stage: "inserted", reason: "", n: 1 }])).not.toThrow();
    const failing = {
      writeDataPoint: () => {
        throw new Error("over the limit");
      },
    };
    expect(() => writePipelineCounts({ PIPELINE_METRICS: failing }, [{ appId: "app_a", stage: "inserted", reason: "", n: 1 }])).not.toThrow();
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)) as unknown)).toEqual([{ level: "warn", event: "metrics.not_written", points: 1, error: "over the limit" }]);
    warn.mockRestore();
  });
});
