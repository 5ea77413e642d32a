import type { Context, CrashEvent, NetworkEvent, PerfEvent } from "../../schemas";

export type { Campaign } from "./campaign";
export type { Touch } from "./session";

/** A JSON object of event properties or traits, e.g. `{plan: "pro", seats: 3}`. */
export type Props = Record<string, unknown>;

/** The `error` of a crash event, e.g. `{type: "TypeError", message: "x is undefined", fatal: false, frames: []}`. */
export type CrashInfo = CrashEvent["error"];
/** The `metric` of a perf event, e.g. `{name: "LCP", value: 1840, unit: "ms"}`. */
export type Metric = PerfEvent["metric"];
/** The `request` of a network event, e.g. `{method: "GET", url: "https://api.example.com/a", status: 200, duration: 87}`. */
export type RequestInfo = NetworkEvent["request"];

/** One event as it is queued and sent: `{type: "track", event: "Signed Up", messageId, timestamp, anonymousId, context}`. */
export interface WireEvent {
  type: string;
  messageId: string;
  timestamp: string;
  anonymousId: string;
  userId?: string;
  context: Context;
  properties?: Props;
  traits?: Props;
  [field: string]: unknown;
}

/**
 * Where the SDK keeps its state between runs: `localStorage`, React Native's AsyncStorage or
 * memory. Either synchronous or promise-returning, e.g. `{get: (k) => map.get(k) ?? null, set: (k, v) => map.set(k, v), remove: (k) => map.delete(k)}`.
 */
export interface Storage {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): unknown;
  remove(key: string): unknown;
}

/** An HTTP request the SDK makes: `{url, method: "POST", headers, body}`. */
export interface HttpRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** Lets the request outlive the page (fetch `keepalive`). */
  keepalive?: boolean;
}

/** The part of an answer the SDK reads; `status` 0 means the request never got an answer. */
export interface HttpResponse {
  status: number;
  retryAfter?: string | null;
  body?: unknown;
}

/** Sends one request; never throws. Tests pass an in-memory one: `async (req) => ({status: 200, body: {accepted: 1, duplicates: 0, rejected: []}})`. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** The auto-capture switches, e.g. `{pageviews: true, errors: true, network: false}`. */
export interface CaptureSwitches {
  pageviews?: boolean;
  errors?: boolean;
  network?: boolean;
  vitals?: boolean;
  interactions?: boolean;
  appState?: boolean;
}

/** What `GET /v1/config` answers: `{sampling: {network: 0.1}, capture: {vitals: false}}`. */
export interface RemoteConfig {
  sampling?: { network?: number; perf?: number };
  capture?: CaptureSwitches;
}

/** Settings for `init`, e.g. `{writeKey: "wk_…", endpoint: "https://edge.example.com"}`. */
export interface Options {
  writeKey: string;
  /** The edge's origin, without `/v1`. */
  endpoint: string;
  /** Send when this many events are queued (default 20). */
  flushAt?: number;
  /** Send queued events at most this many ms after the first one (default 5000). */
  flushInterval?: number;
  /** Events per request at most (default 100). */
  batchSize?: number;
  /** Events kept while they cannot be sent; the oldest go first (default 1000). */
  maxQueueSize?: number;
  /** Attempts for a batch the edge keeps refusing with 408, 429 or 5xx before it is dropped (default 10); lost connections never count. */
  maxRetries?: number;
  /** A new session starts after this many ms without an event (default 30 minutes). */
  sessionTimeout?: number;
  /** Auto-capture switches; each platform has its own defaults. */
  capture?: CaptureSwitches;
  /** Share of auto-captured network and perf events kept, 0..1 (default 1). */
  sampling?: { network?: number; perf?: number };
  /** Fetch `GET /v1/config` and apply its switches and sampling (default true). */
  remoteConfig?: boolean;
  /** Start opted out: nothing is sent or kept until `optIn()` (default false). */
  optedOut?: boolean;
  /** Gzip request bodies where the platform can (default true). */
  compress?: boolean;
  /** Added to every event's context, e.g. `{app: {name: "shop", version: "1.4.0"}}`. */
  context?: Context;
  /** Overrides the platform's storage. */
  storage?: Storage;
  /** Overrides the platform's transport. */
  transport?: Transport;
  /** Log what the SDK does, not only its warnings. */
  debug?: boolean;
  /** Storage keys start with this (default `"et:"`). */
  prefix?: string;
}

/** What a platform gives the core: `{storage: memoryStorage(), transport: fetchTransport(), library: {name: "my-platform", version: "1.0.0"}, context: () => ({}), capture: {errors: true}}`. */
export interface Platform {
  storage: Storage;
  transport: Transport;
  library: { name: string; version: string };
  /** Context read at the moment of each event (page, screen, locale…). */
  context(): Context;
  /** Auto-capture defaults for this platform. */
  capture: CaptureSwitches;
  /** Properties an event of `type` carries at the moment it is recorded, under its own (the focused screen…). */
  properties?(type: string): Props | undefined;
  /** Whether a stack frame's file is the app's own code rather than a library's. */
  inApp?(file: string): boolean;
}
