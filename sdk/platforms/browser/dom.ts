// The few browser APIs the SDK touches, typed here because the repository compiles against the
// Workers' types (no DOM library). Everything is optional that some browser or webview lacks.

/** A DOM event handler the SDK registers; each narrows its own event type. */
export type Handler = (event: never) => void;

/** An event target: window or document. */
export interface Target {
  addEventListener(type: string, fn: Handler, options?: boolean | { capture?: boolean; passive?: boolean }): void;
}

/** An element, as a click handler sees it. */
export interface Elem {
  tagName: string;
  closest?(selector: string): Elem | null;
  getAttribute(name: string): string | null;
  attributes: ArrayLike<{ name: string; value: string }>;
}

/** A performance entry of any type the SDK observes. */
export interface PerfEntry {
  entryType: string;
  name?: string;
  startTime: number;
  duration: number;
  value?: number;
  hadRecentInput?: boolean;
  interactionId?: number;
  responseStart?: number;
  activationStart?: number;
  loadEventEnd?: number;
}

/** An XMLHttpRequest, as far as the network capture uses it. */
export interface Xhr extends Target {
  status: number;
  getResponseHeader(name: string): string | null;
  open(method: string, url: string | URL, ...rest: unknown[]): void;
  send(body?: unknown): void;
}

/** What a fetch call answers, as far as the network capture reads it. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
}

/** `fetch`, loosely typed so the capture can wrap whatever the platform has. */
export type FetchFn = (input: unknown, init?: { method?: string; body?: unknown }) => Promise<FetchResponse>;

/** The global object of a page. */
export interface Win extends Target {
  location: { href: string; pathname: string; search: string; origin: string };
  history: { pushState(...args: unknown[]): void; replaceState(...args: unknown[]): void };
  document: Target & { title: string; referrer: string; visibilityState: string; readyState: string; currentScript?: Elem | null };
  navigator: { userAgent: string; language?: string; sendBeacon?(url: string, data: string): boolean };
  screen?: { width: number; height: number };
  devicePixelRatio?: number;
  localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
  fetch?: FetchFn;
  XMLHttpRequest?: { prototype: Xhr };
  PerformanceObserver?: new (cb: (list: { getEntries(): PerfEntry[] }) => void) => { observe(o: { type: string; buffered?: boolean; durationThreshold?: number }): void };
  performance?: { now(): number; getEntriesByType(type: string): PerfEntry[] };
}
