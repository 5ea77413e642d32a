import type { Context, CrashEvent, NetworkEvent, PerfEvent } from "../../schemas";
import type { FlagValue } from "../../schemas/flags";

export type { FlagValue } from "../../schemas/flags";

import type { Touch } from "./session";
import type { Span, SpanOptions } from "./spans";

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
  /** The answer's `ETag`, to send back as `If-None-Match`. */
  etag?: string | null;
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

/** One flag's answer for the current user: the variant served and its value, e.g. `{variant: "on", value: true}`. */
export interface FlagAnswer {
  variant: string;
  value: FlagValue;
}

/** Every flag's answer by flag key, e.g. `{"new-checkout": {variant: "on", value: true}}`. */
export type Flags = Record<string, FlagAnswer>;

/** What `GET /v1/config` answers: `{sampling: {network: 0.1}, capture: {vitals: false}, config: {theme: "dark"}, flags: {"new-checkout": {variant: "on", value: true}}}`. */
export interface RemoteConfig {
  sampling?: { network?: number; perf?: number };
  capture?: CaptureSwitches;
  /** The app's own configuration, any JSON object. */
  config?: Props;
  flags?: Flags;
  version?: number;
}

/** Who flags are evaluated for, as `POST /v1/flags` takes it: `{userId: "u_42", traits: {plan: "pro"}}`. */
export interface FlagSubject {
  anonymousId?: string;
  userId?: string;
  platform?: string;
  os?: string;
  appVersion?: string;
  locale?: string;
  traits?: Props;
}

/** Feature flags and the app's configuration, on every client: `if (t.isEnabled("new-checkout")) showNewCheckout()`. */
export interface FlagCalls {
  /** A flag's value for the current user, or `fallback` when the flag is unknown: `t.getFlag("checkout-layout", "classic")`. */
  getFlag(key: string, fallback?: FlagValue): FlagValue | undefined;
  /** Whether a flag's value is truthy (not false, null, 0 or ""); false when unknown: `t.isEnabled("new-checkout")`. */
  isEnabled(key: string): boolean;
  /** The key of the variant served, or undefined when unknown: `t.getVariant("pricing-test") // "b"`. */
  getVariant(key: string): string | undefined;
  /** The app's configuration, whole or one key (`fallback` when absent): `t.getConfig("maxUploadMb", 10)`. */
  getConfig(): Props;
  getConfig<T = unknown>(key: string, fallback?: T): T;
  /** Every flag's answer: `t.flags()["new-checkout"]?.variant`. */
  flags(): Flags;
  /** Asks the edge again now (identify, reset and the refresh interval do it too): `await t.reloadFlags()`. */
  reloadFlags(): Promise<void>;
  /** Calls `listener` with every flag's answer now if known, then whenever the edge's answer changes; returns the unsubscribe: `const off = t.onFlags((f) => render(f))`. */
  onFlags(listener: (flags: Flags) => void): () => void;
  /** Resolves once the edge's answers are in, or the edge could not be reached (the stored ones stay): `await t.flagsReady`. */
  flagsReady: Promise<void>;
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
  /** Fetch `GET /v1/config`: its switches and sampling, the app's configuration and flags (default true; false leaves every flag unknown). */
  remoteConfig?: boolean;
  /**
   * Feature flags: `refreshIntervalMs` asks the edge again this often (default 60000; 0 = only at
   * start, identify, reset and `reloadFlags`); `sendExposures: false` records no `$feature_flag_called`.
   */
  flags?: { refreshIntervalMs?: number; sendExposures?: boolean };
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
  /** What flags see as `platform`: "web", "ios", "android", "node". */
  name?: string;
  /** The platform's HTTP cache revalidates by itself (browsers): no `If-None-Match`, which would cost a CORS preflight. */
  httpCache?: boolean;
}

/** The SDK's public API, returned by `init`: `const t = init({writeKey, endpoint}); t.track("Signed Up", {plan: "pro"})`. */
export interface Client extends FlagCalls {
  /** Records an action: `t.track("Order Completed", {total: 30})`. */
  track(event: string, properties?: Props): void;
  /** Records a page view: `t.page("Pricing")`. */
  page(name?: string, properties?: Props): void;
  /** Records a screen view (mobile): `t.screen("Checkout")`. */
  screen(name: string, properties?: Props): void;
  /** Names the user from now on and records their traits: `t.identify("u_42", {plan: "pro"})`. */
  identify(userId?: string, traits?: Props): void;
  /** Links the current identity to `userId`: `t.alias("u_42")`. */
  alias(userId: string, previousId?: string): void;
  /** Puts the user in a group (account, team): `t.group("acme", {seats: 10})`. */
  group(groupId: string, traits?: Props): void;
  /** Records an error as a crash event: `t.captureError(err, {handled: true})`. */
  captureError(error: unknown, how?: { fatal?: boolean; handled?: boolean; properties?: Props }): void;
  /** Records a measurement: `t.perf("checkout_render", 182, "ms")`. */
  perf(name: string, value: number, unit?: string, properties?: Props): void;
  /** Records a network call: `t.network({method: "GET", url: "https://api.example.com/a", status: 200, duration: 87})`. */
  network(request: RequestInfo, properties?: Props): void;
  /**
   * Starts a transaction, timed until its `end()`, which sends it with its ended children as
   * perf events; sampled as a whole by `sampling.perf`.
   * `const s = t.startSpan("checkout", {op: "ui.action"}); s.startChild("http.client", "POST /api/orders").end(); s.end()`
   */
  startSpan(name: string, options?: SpanOptions): Span;
  /**
   * Times `fn` (sync or async) as a transaction; a throw or rejection ends it with status
   * `"error"` and is passed on. `const order = await t.span("checkout", (s) => placeOrder(s))`
   */
  span<T>(name: string, fn: (span: Span) => T, options?: SpanOptions): T;
  /** Adds properties to every later event (kept across restarts): `t.register({plan: "pro"})`. */
  register(properties: Props): void;
  /** Stops adding one super-property: `t.unregister("plan")`. */
  unregister(key: string): void;
  /** Forgets the user (logout): new anonymous id and session, no user id, traits or super-properties: `t.reset()`. */
  reset(): void;
  /** Sends everything queued now: `await t.flush()`. */
  flush(): Promise<void>;
  /** Consents: events are recorded again from now on: `t.optIn()`. */
  optIn(): void;
  /** Withdraws consent: drops the queue and the stored ids; nothing is sent or kept until `optIn()`: `t.optOut()`. */
  optOut(): void;
  /** Whether the user is opted out: `t.isOptedOut()`. */
  isOptedOut(): boolean;
  /**
   * The session's first and last touches (campaigns that brought the user: UTM and click-id
   * parameters), or null before any: `t.attribution()?.last.source // "newsletter"`.
   */
  attribution(): { first: Touch; last: Touch } | null;
  /** The ids events carry now: `t.ids().sessionId`. */
  ids(): { anonymousId: string; userId?: string; sessionId?: string };
  /** Resolves once stored state is loaded: `await t.ready`. */
  ready: Promise<void>;
  /** Resolves once the remote configuration is applied, or known to be absent: `await t.configured`. */
  configured: Promise<void>;
  /** Sends what is queued (within `timeoutMs`) and stops timers: `await t.shutdown()`. */
  shutdown(timeoutMs?: number): Promise<void>;
}
