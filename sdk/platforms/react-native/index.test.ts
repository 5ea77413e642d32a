import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeEdge, received } from "../../core/fakes";
import type { Metric, WireEvent } from "../../core/types";
import { captureScreens, init, reportAppStart, type AsyncStorageLike } from "./index";

type Handler = (error: unknown, isFatal?: boolean) => void;
const g = globalThis as unknown as { ErrorUtils?: { getGlobalHandler(): Handler; setGlobalHandler(fn: Handler): void }; performance: { now(): number } };

function asyncStorage(): AsyncStorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: async (k) => data.get(k) ?? null,
    setItem: async (k, v) => void data.set(k, v),
    removeItem: async (k) => void data.delete(k),
  };
}

function appState() {
  let listener: ((s: string) => void) | undefined;
  return {
    currentState: "active",
    addEventListener: (_: "change", fn: (s: string) => void) => (listener = fn),
    change: (s: string) => listener?.(s),
  };
}

afterEach(() => {
  delete g.ErrorUtils;
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/**
 * React Native's frames and interactions, run when the test says: `ui.settle()` runs the
 * pending interactions, then the next frame. `ui.now` is the clock, advanced by `ui.wait(ms)`.
 */
function fakeUi() {
  const interactions: Array<() => void> = [];
  const frames: Array<() => void> = [];
  const ui = {
    // From the real clock, so the SDK's import lies a little in the past, as in an app.
    now: g.performance.now(),
    InteractionManager: { runAfterInteractions: (fn: () => void) => interactions.push(fn) },
    wait: (ms: number) => void (ui.now += ms),
    settle: () => {
      for (const fn of interactions.splice(0)) fn();
      for (const fn of frames.splice(0)) fn();
    },
  };
  vi.stubGlobal("performance", { now: () => ui.now });
  vi.stubGlobal("requestAnimationFrame", (fn: () => void) => frames.push(fn));
  return ui;
}

const perf = (events: WireEvent[], name?: string): Array<[string, number, unknown]> =>
  events
    .filter((e) => e.type === "perf" && (name === undefined || (e.metric as Metric).name === name))
    .map((e) => [(e.metric as Metric).name, (e.metric as Metric).value, e.properties?.screen]);

const base = { writeKey: "wk_test", endpoint: "https://edge.test", remoteConfig: false, capture: { network: false } };

describe("React Native", () => {
  it("records app state changes as lifecycle events and sends when the app goes to the background", async () => {
    const edge = fakeEdge();
    const state = appState();
    const t = init({ ...base, transport: edge.transport, asyncStorage: asyncStorage(), reactNative: { AppState: state, Platform: { OS: "ios", Version: "18.1" } } });
    await t.ready;
    state.change("inactive");
    state.change("background");
    await vi.waitFor(() => expect(received(edge).some((e) => e.event === "Application Backgrounded")).toBe(true));
    state.change("active");
    await t.flush();
    const events = received(edge);
    expect(events.filter((e) => e.type === "track").map((e) => [e.event, e.properties?.from_background])).toEqual([
      ["Application Opened", false],
      ["Application Backgrounded", undefined],
      ["Application Opened", true],
    ]);
    expect(events[0]?.context).toMatchObject({ os: { name: "ios", version: "18.1" }, library: { name: "edge-telemetry-react-native" } });
    expect(perf(events, "app_start_cold")).toHaveLength(1);
  });

  it("sends a fatal JS error before React Native's own handler ends the app", async () => {
    const order: string[] = [];
    let handler: Handler = () => order.push("react native's handler");
    g.ErrorUtils = { getGlobalHandler: () => handler, setGlobalHandler: (fn) => (handler = fn) };
    const edge = fakeEdge();
    const t = init({ ...base, transport: async (req) => (order.push("sent"), edge.transport(req)), asyncStorage: asyncStorage() });
    await t.ready;
    handler(new TypeError("undefined is not a function"), true);
    await vi.waitFor(() => expect(order).toContain("react native's handler"));
    expect(order).toEqual(["sent", "react native's handler"]);
    expect(received(edge).find((e) => e.type === "crash")).toMatchObject({ error: { type: "TypeError", fatal: true, handled: false } });
  });

  it("keeps events in AsyncStorage across restarts while offline", async () => {
    const storage = asyncStorage();
    const edge = fakeEdge();
    edge.down = true;
    const first = init({ ...base, transport: edge.transport, asyncStorage: storage });
    first.screen("Cart");
    await first.shutdown(100);
    expect(storage.data.get("et:q")).toContain("Cart");
    edge.down = false;
    const second = init({ ...base, transport: edge.transport, asyncStorage: storage });
    await second.flush();
    expect(edge.batches.at(-1)?.filter((e) => e.type === "screen").map((e) => e.name)).toEqual(["Cart"]);
  });

  it("records a screen each time the focused route changes", async () => {
    const edge = fakeEdge();
    const t = init({ ...base, transport: edge.transport });
    let route = "Home";
    let onState = (): void => undefined;
    captureScreens(t, { getCurrentRoute: () => ({ name: route }), addListener: (_, fn) => (onState = fn) });
    route = "Product";
    onState();
    onState();
    await t.flush();
    expect(received(edge).filter((e) => e.type === "screen").map((e) => e.name)).toEqual(["Home", "Product"]);
  });

  it("measures each screen's load from the navigation to the first frame after its interactions, and tags perf and network events with the focused screen", async () => {
    const ui = fakeUi();
    const edge = fakeEdge();
    const t = init({ ...base, transport: edge.transport, reactNative: { InteractionManager: ui.InteractionManager } });
    let route = "Home";
    let onState = (): void => undefined;
    captureScreens(t, { getCurrentRoute: () => ({ name: route }), addListener: (_, fn) => (onState = fn) });
    ui.wait(120);
    ui.settle();
    t.perf("image_decode", 42);
    t.network({ method: "GET", url: "https://api.example.com/v1/me", status: 200, duration: 80 });
    route = "Product";
    onState();
    ui.wait(50);
    // Left before it settled: Product has no load time.
    route = "Cart";
    onState();
    ui.wait(310);
    ui.settle();
    t.perf("checkout_render", 12, "ms", { screen: "Sheet" });
    await t.flush();
    const events = received(edge);
    expect(perf(events, "screen_load")).toEqual([
      ["screen_load", 120, "Home"],
      ["screen_load", 310, "Cart"],
    ]);
    expect(perf(events, "image_decode")).toEqual([["image_decode", 42, "Home"]]);
    expect(perf(events, "checkout_render")).toEqual([["checkout_render", 12, "Sheet"]]);
    expect(events.find((e) => e.type === "network")?.properties).toEqual({ screen: "Home" });
    expect(events.filter((e) => e.type === "screen").every((e) => e.properties === undefined)).toBe(true);
  });

  it("measures the cold start at the first frame after init, unless the app launched in the background or measured it natively", async () => {
    const ui = fakeUi();
    const edge = fakeEdge();
    const foreground = init({ ...base, transport: edge.transport, reactNative: { InteractionManager: ui.InteractionManager, AppState: appState() } });
    await foreground.flush();
    expect(perf(received(edge), "app_start_cold")).toEqual([]);
    ui.wait(900);
    ui.settle();
    await foreground.flush();
    const [cold] = perf(received(edge), "app_start_cold");
    expect(cold?.[1]).toBeGreaterThanOrEqual(900);

    const headless = fakeEdge();
    const background = { ...appState(), currentState: "background" };
    const inBackground = init({ ...base, transport: headless.transport, reactNative: { InteractionManager: ui.InteractionManager, AppState: background } });
    ui.settle();
    await inBackground.flush();
    expect(perf(received(headless), "app_start_cold")).toEqual([]);

    const nativeEdge = fakeEdge();
    const native = init({ ...base, transport: nativeEdge.transport, reactNative: { InteractionManager: ui.InteractionManager } });
    reportAppStart(native, { kind: "cold", durationMs: 1840.4 });
    ui.settle();
    await native.flush();
    expect(perf(received(nativeEdge), "app_start_cold")).toEqual([["app_start_cold", 1840, undefined]]);
  });

  it("measures a warm start from the return from the background to the next frame, not a trip to inactive", async () => {
    const ui = fakeUi();
    const edge = fakeEdge();
    const state = appState();
    const t = init({ ...base, transport: edge.transport, reactNative: { InteractionManager: ui.InteractionManager, AppState: state } });
    ui.settle();
    state.change("inactive");
    state.change("background");
    ui.wait(60_000);
    state.change("inactive");
    state.change("active");
    ui.wait(85);
    ui.settle();
    state.change("inactive");
    state.change("active");
    ui.wait(40);
    ui.settle();
    await t.flush();
    expect(perf(received(edge), "app_start_warm")).toEqual([["app_start_warm", 85, undefined]]);
  });

  it("sends no app start or screen load with vitals off", async () => {
    const ui = fakeUi();
    const edge = fakeEdge();
    const state = appState();
    const t = init({ ...base, capture: { network: false, vitals: false }, transport: edge.transport, reactNative: { InteractionManager: ui.InteractionManager, AppState: state } });
    captureScreens(t, { getCurrentRoute: () => ({ name: "Home" }), addListener: () => undefined });
    state.change("background");
    state.change("active");
    ui.settle();
    await t.flush();
    expect(perf(received(edge))).toEqual([]);
    expect(received(edge).filter((e) => e.type === "screen")).toHaveLength(1);
  });
});
