import { describe, expect, it } from "vitest";
import { decodeQueueMessage, decodeSinkMessage, encodeSinkMessage, encodeTallyMessage, tallyMinute } from "./index";

describe("queue messages", () => {
  const tallies = [
    { minute: tallyMinute(Date.UTC(2026, 10, 20, 10, 0, 30)), stage: "accepted" as const, reason: "", n: 12 },
    { minute: tallyMinute(Date.UTC(2026, 10, 20, 10, 1, 0)), stage: "rejected" as const, reason: "invalid_event", n: 3 },
  ];

  it("carries per-minute counters under their batch id", () => {
    const text = encodeTallyMessage("app_a:0:t7", "app_a", tallies);
    expect(decodeQueueMessage(text)).toEqual({ kind: "tallies", batchId: "app_a:0:t7", appId: "app_a", tallies });
    expect(tallies.map((t) => new Date(t.minute * 1000).toISOString())).toEqual(["2026-11-20T10:00:00.000Z", "2026-11-20T10:01:00.000Z"]);
  });

  it("carries capped crashes with the fingerprint of their issue", () => {
    const capped = [...tallies, { minute: tallies[0]?.minute ?? 0, stage: "capped" as const, reason: "issue_cap", n: 240, fingerprint: "00a3f1c2d4e5b6" }];
    expect(decodeQueueMessage(encodeTallyMessage("app_a:0:t9", "app_a", capped))).toEqual({ kind: "tallies", batchId: "app_a:0:t9", appId: "app_a", tallies: capped });
  });

  it("still reads event messages written without a kind, and never takes counters for event rows", () => {
    const events = encodeSinkMessage("app_a:0:1", "app_a", ['["app_a","track"]', '["app_a","page"]']);
    expect(decodeQueueMessage(events)).toEqual({ kind: "events", batchId: "app_a:0:1", appId: "app_a", rows: ['["app_a","track"]', '["app_a","page"]'] });
    expect(decodeSinkMessage(events)?.rows).toHaveLength(2);
    expect(decodeSinkMessage(encodeTallyMessage("app_a:0:t7", "app_a", tallies))).toBeNull();
  });

  it("refuses counters it does not know", () => {
    const bad = encodeTallyMessage("app_a:0:t8", "app_a", tallies).replace('"accepted"', '"teleported"');
    expect(decodeQueueMessage(bad)).toBeNull();
    expect(decodeQueueMessage(`${JSON.stringify({ kind: "tallies", batchId: "x", appId: "a" })}\nnot json`)).toBeNull();
    expect(decodeQueueMessage("[1,2]")).toBeNull();
  });
});
