import { createClient, type Client } from "../../core/client";
import { memoryStorage } from "../../core/storage";
import { fetchTransport } from "../../core/transport";
import type { CaptureSwitches, Options, Props, Storage } from "../../core/types";
import { VERSION } from "../../core/version";
import { captureNetwork, type NetworkGlobals } from "../shared/network";
import { attributionCalls, type AttributionCalls } from "./attribution";

/** React Native's AsyncStorage, or anything shaped like it (MMKV wrappers…): `import AsyncStorage from "@react-native-async-storage/async-storage"`. */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<unknown>;
  removeItem(key: string): Promise<unknown>;
}

/** What the SDK uses from `react-native`, passed in so the SDK has no dependency on it. */
export interface ReactNativeApis {
  AppState?: { currentState?: string | null; addEventListener(type: "change", fn: (state: string) => void): unknown };
  Platform?: { OS: string; Version?: string | number };
  /** Screen loads and starts end after the interactions (animations, transitions) they began. */
  InteractionManager?: { runAfterInteractions(fn: () => void): unknown };
}

/** Options for React Native: `{writeKey, endpoint, asyncStorage: AsyncStorage, reactNative: {AppState, Platform}}`. */
export interface ReactNativeOptions extends Options {
  asyncStorage?: AsyncStorageLike;
  reactNative?: ReactNativeApis;
}

type GlobalHandler = (error: unknown, isFatal?: boolean) => void;
interface RnGlobals extends NetworkGlobals {
  ErrorUtils?: { getGlobalHandler(): GlobalHandler; setGlobalHandler(fn: GlobalHandler): void };
  performance?: { now(): number };
  requestAnimationFrame?(fn: () => void): unknown;
}

/** The client `init` returns: the SDK's, with the calls for deep links and install attribution: `t.deepLinkOpened(url)`. */
export type ReactNativeClient = Client & AttributionCalls;

/** What `captureScreens` and `reportAppStart` share with the client `init` made. */
interface RnState {
  /** The focused screen, carried by perf and network events as `properties.screen`. */
  screen?: string;
  /** Calls `fn` at the first frame after the running interactions: when the UI is usable. */
  settled(fn: () => void): void;
  /** Records an automatic measurement (sampled like every perf auto-capture). */
  measure(metric: string, startedAt: number, properties?: Props): void;
  /** Starts the app measured itself (natively): the SDK's own estimate of that kind stops. */
  native: Set<string>;
}
const states = new WeakMap<Client, RnState>();

const g = globalThis as unknown as RnGlobals;
const clock = (): number => g.performance?.now() ?? Date.now();
// The SDK is imported as the JS bundle starts to run: the nearest a JS library gets to app launch.
const loadedAt = clock();
// Longer than a minute is an app left in the background meanwhile, not a start or a load.
const MAX_MS = 60_000;

const DEFAULTS: CaptureSwitches = { pageviews: true, errors: true, network: true, vitals: true, appState: true };

/** Adapts AsyncStorage to the SDK's storage: `asyncStorage(AsyncStorage)`. */
export function asyncStorage(s: AsyncStorageLike): Storage {
  return { get: (k) => s.getItem(k), set: (k, v) => s.setItem(k, v), remove: (k) => s.removeItem(k) };
}

/**
 * Starts the SDK in React Native: events persist in the AsyncStorage you pass, JS errors become
 * crash events (sent before a fatal one reaches React Native's own handler), app state changes
 * become "Application Opened"/"Application Backgrounded" (which also flushes). With `vitals` on:
 * `app_start_cold`, from the JS bundle starting (the SDK's import) to the first frame after
 * `init` and its interactions, when the app launched in the foreground; `app_start_warm`, from
 * coming back from the background to the next frame. Perf and network events carry the focused
 * screen (see `captureScreens`) as `properties.screen`. The client also records deep links and
 * install attribution (`deepLinkOpened`, `installAttributed`).
 * `init({writeKey: "wk_…", endpoint: "https://edge.example.com", asyncStorage: AsyncStorage, reactNative: {AppState, Platform, InteractionManager}})`
 */
export function init(options: ReactNativeOptions): ReactNativeClient {
  const rn = options.reactNative ?? {};
  const on = (kind: keyof CaptureSwitches): boolean => (options.capture?.[kind] ?? DEFAULTS[kind]) === true;
  const state: RnState = {
    native: new Set(),
    settled: (fn) => {
      const frame = (): unknown => (g.requestAnimationFrame ? g.requestAnimationFrame(fn) : setTimeout(fn, 0));
      if (rn.InteractionManager) rn.InteractionManager.runAfterInteractions(frame);
      else frame();
    },
    measure: (metric, startedAt, properties) => {
      const ms = clock() - startedAt;
      if (on("vitals") && ms >= 0 && ms <= MAX_MS && c.allows("vitals")) c.perf(metric, Math.round(ms), "ms", properties);
    },
  };
  const os = rn.Platform ? { name: rn.Platform.OS, version: String(rn.Platform.Version ?? "") } : undefined;
  const storage = options.storage ?? (options.asyncStorage ? asyncStorage(options.asyncStorage) : memoryStorage());
  const c = createClient(
    {
      storage,
      transport: fetchTransport(options.compress !== false),
      library: { name: "edge-telemetry-react-native", version: VERSION },
      context: () => (os ? { os } : {}),
      capture: DEFAULTS,
      properties: (type) => (state.screen && (type === "perf" || type === "network") ? { screen: state.screen } : undefined),
      name: rn.Platform?.OS,
    },
    options,
  );
  states.set(c, state);
  const client = Object.assign(c, attributionCalls(c, storage, `${options.prefix ?? "et:"}installed`));
  if (on("network")) captureNetwork(c, g, c.endpoint);
  const eu = g.ErrorUtils;
  if (on("errors") && eu) {
    const previous = eu.getGlobalHandler();
    eu.setGlobalHandler((error, isFatal) => {
      if (c.allows("errors")) c.captureError(error, { fatal: isFatal === true, handled: false });
      if (!isFatal) return previous(error, isFatal);
      // React Native ends the app after a fatal error: send first, for a second at most.
      void c.shutdown(1000).finally(() => previous(error, isFatal));
    });
  }
  const appState = rn.AppState;
  // Launched in the background (a push, a background fetch): no one waited for this start.
  if ((appState?.currentState ?? "active") === "active") state.settled(() => state.native.has("cold") || state.measure("app_start_cold", loadedAt));
  if (appState && (on("appState") || on("vitals"))) {
    let last = appState.currentState ?? "active";
    // Coming back may pass through "inactive"; a trip to "inactive" alone (a system sheet) is no start.
    let away = last === "background";
    if (on("appState")) c.track("Application Opened", { from_background: false });
    appState.addEventListener("change", (next) => {
      if (next === "background") away = true;
      else if (next === "active" && away) {
        away = false;
        // An app back from the background may have been away for hours: its flags are asked for again.
        void c.reloadFlags();
        const at = clock();
        if (!state.native.has("warm")) state.settled(() => state.measure("app_start_warm", at));
      }
      if (!on("appState") || next === last || !c.allows("appState")) return;
      if (next === "active") c.track("Application Opened", { from_background: true });
      else if (next === "background") {
        c.track("Application Backgrounded");
        void c.flush();
      }
      last = next;
    });
  }
  return client;
}

/**
 * Records an app start the app measured natively (from process start, which JS cannot see):
 * `reportAppStart(client, {kind: "cold", durationMs: 1840})`. From then on the SDK's own
 * estimate of that kind is not sent; report a cold start before the first frame to replace it.
 */
export function reportAppStart(c: Client, start: { kind: "cold" | "warm"; durationMs: number }): void {
  states.get(c)?.native.add(start.kind);
  c.perf(`app_start_${start.kind}`, Math.round(start.durationMs), "ms");
}

/** A navigation container ref as react-navigation has it: `const navigationRef = createNavigationContainerRef()`. */
export interface NavigationRefLike {
  getCurrentRoute(): { name: string } | undefined;
  addListener(type: "state", fn: () => void): unknown;
}

/**
 * Records a screen event each time the focused route changes, and with `vitals` on a
 * `screen_load`: from the change to the first frame after the interactions it started (a
 * screen left before that has none). Perf and network events recorded while a screen is focused
 * carry it as `properties.screen`. `captureScreens(client, navigationRef)`
 */
export function captureScreens(c: Client, nav: NavigationRefLike): void {
  const state = states.get(c);
  let last: string | undefined;
  let shown = 0;
  const changed = (): void => {
    const name = nav.getCurrentRoute()?.name;
    if (!name || name === last) return;
    last = name;
    c.screen(name);
    if (!state) return;
    state.screen = name;
    const at = clock();
    const n = ++shown;
    state.settled(() => n === shown && state.measure("screen_load", at, { screen: name }));
  };
  nav.addListener("state", changed);
  changed();
}

export type { Client } from "../../core/client";
export type { AttributionCalls, InstallAttribution } from "./attribution";
export type * from "../../core/types";
export type { Span, SpanOptions } from "../../core/spans";
