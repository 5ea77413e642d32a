import { describe, expect, it } from "vitest";
import { bandOf, Event, networkOutcome, NETWORK_OUTCOMES, REGRESSION, VITAL_NAMES, type Vital } from "../schemas";
import { demoEvents } from "./demo-events";

type Loose = { type: string; messageId: string; timestamp: string; userId?: string; anonymousId?: string; metric?: { name: string; value: number }; request?: { status?: number; error?: string }; context: { app?: { version?: string }; library?: { name?: string }; sessionId?: string }; properties?: Record<string, unknown> };

const now = Date.parse("2026-12-01T12:00:00Z");
const events = demoEvents(now) as Loose[];
const perf = (name: string): Loose[] => events.filter((e) => e.type === "perf" && e.metric?.name === name);
const p75 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(0.75 * (xs.length - 1))] ?? 0;

describe("demo events", () => {
  it("all pass the edge's validation, with unique ids and no time in the future", () => {
    expect(events.filter((e) => !Event.safeParse(e).success)).toEqual([]);
    expect(new Set(events.map((e) => e.messageId)).size).toBe(events.length);
    expect(events.filter((e) => Date.parse(e.timestamp) > now)).toEqual([]);
  });

  it("give completed orders a revenue for sum, average and percentile trends", () => {
    const orders = events.filter((e) => e.type === "track" && (e as { event?: string }).event === "Order Completed");
    const revenues = orders.map((e) => e.properties?.revenue);
    expect(orders.length).toBeGreaterThan(20);
    expect(revenues.every((r) => typeof r === "number" && r >= 9.9 && r <= 249.9)).toBe(true);
    expect(new Set(revenues).size).toBeGreaterThan(10);
  });

  it("stay few enough to seed quickly", () => {
    expect(events.length).toBeLessThan(10_000);
  });

  it("have every vital in all three bands", () => {
    for (const vital of VITAL_NAMES) {
      const bands = new Set(perf(vital).map((e) => bandOf(vital as Vital, e.metric?.value ?? 0)));
      expect([vital, [...bands].sort()]).toEqual([vital, ["good", "needs_improvement", "poor"]]);
    }
  });

  it("show the newest web release's LCP p75 regressed over the previous one's", () => {
    const of = (version: string): number[] => perf("LCP").filter((e) => e.context.app?.version === version).map((e) => e.metric?.value ?? 0);
    const [before, after] = [of("5.12.0"), of("5.13.0")];
    expect(Math.min(before.length, after.length)).toBeGreaterThanOrEqual(REGRESSION.minSamples);
    expect(p75(after) / p75(before) - 1).toBeGreaterThan(REGRESSION.threshold);
    expect(Math.abs(p75(after) / p75(before) - 1.3)).toBeLessThan(0.01);
  });

  it("have app starts, screen loads with their screen, and transactions whose spans name them", () => {
    expect(perf("app_start_cold").some((e) => e.context.library?.name === "edge-telemetry-react-native")).toBe(true);
    expect(perf("app_start_warm").length).toBeGreaterThan(0);
    expect(perf("screen_load").every((e) => typeof e.properties?.screen === "string")).toBe(true);
    const spans = events.filter((e) => e.properties?.kind === "span");
    expect(new Set(spans.map((e) => e.properties?.transaction))).toEqual(new Set(["checkout", "GET /v1/orders/:id", "POST /v1/carts/:id/items"]));
    expect(perf("checkout").every((e) => e.properties?.kind === "transaction")).toBe(true);
  });

  it("keep bounces, and the session and user ids the dashboard's end-to-end tests follow", () => {
    const sessions = new Map<string, { views: number; actions: number; first: number; last: number }>();
    for (const e of events) {
      const id = e.context.sessionId;
      if (!id) continue;
      const at = Date.parse(e.timestamp);
      const s = sessions.get(id) ?? { views: 0, actions: 0, first: at, last: at };
      if (e.type === "page" || e.type === "screen") s.views++;
      if (e.type === "track") s.actions++;
      sessions.set(id, { ...s, first: Math.min(s.first, at), last: Math.max(s.last, at) });
    }
    const bounces = [...sessions.values()].filter((s) => s.views <= 1 && s.actions === 0 && s.last - s.first < 10_000).length;
    expect(bounces / sessions.size).toBeGreaterThan(0.05);
    expect([...sessions.keys()].filter((id) => !/^demo-session-\d+$/.test(id))).toEqual([]);
    const identified = new Set(events.filter((e) => e.type === "identify").map((e) => e.userId));
    expect(events.filter((e) => e.userId !== undefined && !identified.has(e.userId)).map((e) => e.userId)).toEqual([]);
  });

  it("have network calls with every outcome, some from signed-in users", () => {
    const calls = events.filter((e) => e.type === "network");
    expect(new Set(calls.map((e) => networkOutcome(e.request?.status, e.request?.error)))).toEqual(new Set(NETWORK_OUTCOMES));
    expect(calls.some((e) => e.userId !== undefined && networkOutcome(e.request?.status, e.request?.error) !== "ok")).toBe(true);
  });
});
