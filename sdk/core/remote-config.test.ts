import { describe, expect, it } from "vitest";
import { fakeClient, fakeEdge } from "./fakes";
import { memoryStorage } from "./storage";

describe("remote configuration", () => {
  it("applies the edge's switches and sampling to auto-capture", async () => {
    const edge = fakeEdge();
    edge.config = { status: 200, body: { sampling: { network: 1, perf: 0 }, capture: { errors: false } } };
    const t = fakeClient(edge, { remoteConfig: true });
    await t.configured;
    expect(t.allows("errors")).toBe(false);
    expect(t.allows("vitals")).toBe(false);
    expect(t.allows("network")).toBe(true);
  });

  it("keeps local settings when the edge has no config or cannot be reached", async () => {
    for (const answer of [{ status: 404 }, { status: 0 }, { status: 200, body: "not json" }]) {
      const edge = fakeEdge();
      edge.config = answer;
      const t = fakeClient(edge, { remoteConfig: true, capture: { network: false } });
      await t.configured;
      expect(t.allows("errors")).toBe(true);
      expect(t.allows("network")).toBe(false);
    }
  });

  it("can only narrow what the app enabled, and is remembered for the next start", async () => {
    const edge = fakeEdge();
    const storage = memoryStorage();
    edge.config = { status: 200, body: { capture: { network: true, vitals: false } } };
    const first = fakeClient(edge, { remoteConfig: true, capture: { network: false } }, storage);
    await first.configured;
    expect(first.allows("network")).toBe(false);
    expect(first.allows("vitals")).toBe(false);

    edge.config = { status: 0 };
    const second = fakeClient(edge, { remoteConfig: true }, storage);
    await second.configured;
    expect(second.allows("vitals")).toBe(false);
    expect(second.allows("errors")).toBe(true);
  });

  it("samples: a share of 0.25 keeps about a quarter", async () => {
    const edge = fakeEdge();
    edge.config = { status: 200, body: { sampling: { network: 0.25 } } };
    const t = fakeClient(edge, { remoteConfig: true });
    await t.configured;
    let kept = 0;
    for (let i = 0; i < 4000; i++) if (t.allows("network")) kept++;
    expect(kept).toBeGreaterThan(700);
    expect(kept).toBeLessThan(1300);
  });
});
