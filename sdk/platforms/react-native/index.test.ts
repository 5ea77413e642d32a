import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeEdge, received } from "../../core/fakes";
import { captureScreens, init, type AsyncStorageLike } from "./index";

type Handler = (error: unknown, isFatal?: boolean) => void;
const g = globalThis as { ErrorUtils?: { getGlobalHandler(): Handler; setGlobalHandler(fn: Handler): void } };

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
});

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
    expect(events.some((e) => e.type === "perf" && (e.metric as { name: string }).name === "app_start")).toBe(true);
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
});
