import { createClient, type Client } from "../../core/client";
import { memoryStorage } from "../../core/storage";
import { fetchTransport } from "../../core/transport";
import type { CaptureSwitches, Options, Storage } from "../../core/types";
import { VERSION } from "../../core/version";
import { captureNetwork, type NetworkGlobals } from "../shared/network";

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
}

const DEFAULTS: CaptureSwitches = { pageviews: true, errors: true, network: true, vitals: true, appState: true };

/** Adapts AsyncStorage to the SDK's storage: `asyncStorage(AsyncStorage)`. */
export function asyncStorage(s: AsyncStorageLike): Storage {
  return { get: (k) => s.getItem(k), set: (k, v) => s.setItem(k, v), remove: (k) => s.removeItem(k) };
}

/**
 * Starts the SDK in React Native: events persist in the AsyncStorage you pass, JS errors become
 * crash events (sent before a fatal one reaches React Native's own handler), app state changes
 * become "Application Opened"/"Application Backgrounded" (which also flushes), and the time the
 * JS runtime took to reach `init` is an `app_start` perf event.
 * `init({writeKey: "wk_…", endpoint: "https://edge.example.com", asyncStorage: AsyncStorage, reactNative: {AppState, Platform}})`
 */
export function init(options: ReactNativeOptions): Client {
  const g = globalThis as unknown as RnGlobals;
  const rn = options.reactNative ?? {};
  const os = rn.Platform ? { name: rn.Platform.OS, version: String(rn.Platform.Version ?? "") } : undefined;
  const c = createClient(
    {
      storage: options.asyncStorage ? asyncStorage(options.asyncStorage) : memoryStorage(),
      transport: fetchTransport(options.compress !== false),
      library: { name: "edge-telemetry-react-native", version: VERSION },
      context: () => (os ? { os } : {}),
      capture: DEFAULTS,
    },
    options,
  );
  const on = (kind: keyof CaptureSwitches): boolean => (options.capture?.[kind] ?? DEFAULTS[kind]) === true;
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
  if (on("vitals") && g.performance && c.allows("vitals")) c.perf("app_start", Math.round(g.performance.now()));
  const appState = rn.AppState;
  if (on("appState") && appState) {
    let last = appState.currentState ?? "active";
    c.track("Application Opened", { from_background: false });
    appState.addEventListener("change", (next) => {
      if (next === last || !c.allows("appState")) return;
      if (next === "active") c.track("Application Opened", { from_background: true });
      else if (next === "background") {
        c.track("Application Backgrounded");
        void c.flush();
      }
      last = next;
    });
  }
  return c;
}

/** A navigation container ref as react-navigation has it: `const navigationRef = createNavigationContainerRef()`. */
export interface NavigationRefLike {
  getCurrentRoute(): { name: string } | undefined;
  addListener(type: "state", fn: () => void): unknown;
}

/** Records a screen event each time the focused route changes: `captureScreens(client, navigationRef)`. */
export function captureScreens(c: Client, nav: NavigationRefLike): void {
  let last: string | undefined;
  const changed = (): void => {
    const name = nav.getCurrentRoute()?.name;
    if (!name || name === last) return;
    last = name;
    c.screen(name);
  };
  nav.addListener("state", changed);
  changed();
}

export type { Client } from "../../core/client";
export type * from "../../core/types";
export type { Span, SpanOptions } from "../../core/spans";
