import type { Context } from "../../schemas";
import { uuid } from "./ids";
import { createQueue } from "./queue";
import { fetchRemoteConfig, sanitize } from "./remote-config";
import { createSender } from "./sender";
import { noteTouch, touchSession, type SessionState, type Touch } from "./session";
import { startSpan, timed, type Span, type SpanOptions } from "./spans";
import { crashInfo } from "./stack";
import type { CaptureSwitches, Metric, Options, Platform, Props, RemoteConfig, RequestInfo, Transport, WireEvent } from "./types";

/** The SDK's public API, returned by `init`: `const t = init({writeKey, endpoint}); t.track("Signed Up", {plan: "pro"})`. */
export interface Client {
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

/** What the platform layers use besides the public API: `if (core.allows("network")) core.network(request)`. */
export interface Core extends Client {
  /** Whether auto-capture of `kind` is on (locally and in the remote config) and, for network and perf, sampled in. */
  allows(kind: keyof CaptureSwitches): boolean;
  /** Hands the queue to a beacon-like `send` for a page that is going away. */
  beacon(send: (url: string, body: string) => boolean): void;
  /** Records a track event with context of its own, over the platform's, made at `at`: `core.trackWith("Deep Link Opened", {url}, {campaign: {source: "newsletter"}})`. */
  trackWith(event: string, properties: Props | undefined, context: Context, at?: number): void;
  /** Sends now, ignoring any backoff: the connection just came back. */
  retryNow(): void;
  /** The edge's origin, without a trailing slash. */
  endpoint: string;
  transport: Transport;
}

interface State {
  anonymousId: string;
  userId?: string;
  traits?: Props;
  superProps?: Props;
  session?: SessionState;
  optedOut?: boolean;
}

/**
 * The platform-free client: queue, batching, retries, sessions, consent and remote config.
 * Platforms wrap it with their storage, transport and auto-capture.
 * `createClient(platform, {writeKey: "wk_…", endpoint: "https://edge.example.com"})`
 */
export function createClient(platform: Platform, options: Options): Core {
  const o = options;
  const prefix = o.prefix ?? "et:";
  const storage = o.storage ?? platform.storage;
  const transport = o.transport ?? platform.transport;
  const endpoint = o.endpoint.replace(/\/+$/, "");
  const log = (level: "warn" | "info", message: string): void => {
    if (level === "warn" || o.debug) console[level](`[telemetry] ${message}`);
  };
  const warn = (message: string): void => log("warn", message);
  const later = (fn: () => void, ms: number): (() => void) => {
    const t = setTimeout(fn, ms);
    // Node: a pending send must not keep the process alive; `beforeExit` flushes instead.
    (t as { unref?: () => void }).unref?.();
    return () => clearTimeout(t);
  };
  const queue = createQueue(storage, `${prefix}q`, o.maxQueueSize ?? 1000, warn);
  const sender = createSender({ queue, transport, endpoint, writeKey: o.writeKey, batchSize: o.batchSize ?? 100, maxRetries: o.maxRetries ?? 10, warn, later });
  const flushAt = o.flushAt ?? 20;
  const flushInterval = o.flushInterval ?? 5000;
  const timeout = o.sessionTimeout ?? 30 * 60 * 1000;

  let state: State = { anonymousId: uuid(), optedOut: o.optedOut };
  // A page opened from a campaign is a touch even when no event is recorded before it navigates on.
  const startedAt = Date.now();
  const landing = platform.context();
  let remote: RemoteConfig = {};
  let pending: Array<() => void> | undefined = [];

  const saveState = (): void => {
    // While opted out only the choice itself is kept.
    void Promise.resolve(storage.set(`${prefix}s`, JSON.stringify(state.optedOut ? { optedOut: true } : state))).catch((err: unknown) => warn(`could not store state: ${String(err)}`));
  };
  // Calls made before the stored state is loaded wait for it, in order.
  const run = (fn: () => void): void => {
    if (pending) pending.push(fn);
    else fn();
  };

  const visit = (context: Context, at: number): SessionState => {
    const session = (state.session = touchSession(state.session, at, timeout));
    noteTouch(session, context, at);
    return session;
  };

  // `fields` may be a function: identify and alias change the ids their own event carries.
  const capture = (type: string, fields: Props | (() => Props), properties?: Props, at = Date.now(), extra?: Context): void => {
    const context = { ...o.context, ...platform.context(), ...extra };
    const scoped = platform.properties?.(type);
    run(() => {
      if (state.optedOut) return;
      const own = typeof fields === "function" ? fields() : fields;
      const session = visit(context, at);
      const event: WireEvent = {
        ...own,
        type,
        messageId: uuid(),
        timestamp: new Date(at).toISOString(),
        anonymousId: state.anonymousId,
        context: { ...context, library: platform.library, sessionId: session.id },
      };
      const props = { ...state.superProps, ...scoped, ...properties };
      if (Object.keys(props).length) event.properties = props;
      if (state.userId) event.userId = state.userId;
      // The edge refuses events over 32 KB; say so here, where the caller can be found.
      if (JSON.stringify(event).length > 32_000) return warn(`dropped a ${type} event over 32 KB`);
      queue.push(event);
      queue.save();
      saveState();
      if (queue.items.length >= flushAt) void sender.flush();
      else sender.schedule(flushInterval);
    });
  };

  const mutate = (fn: () => void): void =>
    run(() => {
      if (state.optedOut) return;
      fn();
      saveState();
    });

  const fresh = (optedOut?: boolean): State => ({ anonymousId: uuid(), optedOut });
  const sampled = (share: "network" | "perf"): boolean => Math.random() < (o.sampling?.[share] ?? 1) * (remote.sampling?.[share] ?? 1);

  const ready = (async () => {
    const [saved, cached] = await Promise.all([storage.get(`${prefix}s`), storage.get(`${prefix}c`), queue.load()]);
    try {
      state = { ...state, ...(JSON.parse(saved ?? "{}") as Partial<State>) };
      remote = sanitize(JSON.parse(cached ?? "{}"));
    } catch {
      warn("stored state was unreadable; starting afresh");
    }
    if (state.optedOut) await queue.clear();
    else if (landing.campaign) visit(landing, startedAt);
    // Events a previous run could not send go out now rather than after the first new one.
    const leftover = queue.items.length > 0;
    const calls = pending ?? [];
    pending = undefined;
    for (const fn of calls) fn();
    saveState();
    if (leftover) sender.schedule(0);
  })().catch((err: unknown) => {
    warn(`could not load stored state: ${String(err)}`);
    const calls = pending ?? [];
    pending = undefined;
    for (const fn of calls) fn();
  });

  // Not part of `ready`: a slow config answer must not hold up sending.
  const configured = (async () => {
    if (o.remoteConfig === false) return;
    await ready;
    const fetched = await fetchRemoteConfig(transport, endpoint, o.writeKey);
    if (!fetched) return;
    remote = fetched;
    // Applied for this run even if it cannot be stored; the next start fetches it again.
    await storage.set(`${prefix}c`, JSON.stringify(fetched));
  })().catch(() => undefined);

  const client: Core = {
    endpoint,
    transport,
    ready,
    configured,
    track: (event, properties) => capture("track", { event }, properties),
    page: (name, properties) => capture("page", name ? { name } : {}, properties),
    screen: (name, properties) => capture("screen", { name }, properties),
    identify: (userId, traits) =>
      capture("identify", () => {
        if (userId) state.userId = userId;
        if (traits) state.traits = { ...state.traits, ...traits };
        return state.traits ? { traits: state.traits } : {};
      }),
    alias: (userId, previousId) =>
      capture("alias", () => {
        const previous = previousId ?? state.userId ?? state.anonymousId;
        state.userId = userId;
        return { previousId: previous };
      }),
    group: (groupId, traits) => capture("group", traits ? { groupId, traits } : { groupId }),
    captureError: (error, how = {}) =>
      capture("crash", { error: crashInfo(error, { fatal: how.fatal ?? false, handled: how.handled ?? true }, platform.inApp) }, how.properties),
    perf: (name, value, unit = "ms", properties) => capture("perf", { metric: { name, value, unit } satisfies Metric }, properties),
    network: (request, properties) => capture("network", { request }, properties),
    startSpan: (name, options) => startSpan(name, options, sampled("perf") ? (metric, value, at, props) => capture("perf", { metric: { name: metric, value, unit: "ms" } }, props, at) : undefined),
    span: (name, fn, options) => timed(client.startSpan(name, options), fn),
    register: (properties) => mutate(() => (state.superProps = { ...state.superProps, ...properties })),
    unregister: (key) => mutate(() => delete state.superProps?.[key]),
    reset: () => mutate(() => (state = fresh())),
    flush: async () => {
      await ready;
      await sender.flush(true);
    },
    optIn: () =>
      run(() => {
        if (state.optedOut) state = fresh(false);
        saveState();
      }),
    optOut: () =>
      run(() => {
        state = fresh(true);
        void queue.clear();
        saveState();
      }),
    isOptedOut: () => state.optedOut === true,
    attribution: () => {
      const s = state.session;
      const t = s && Date.now() - s.last <= timeout ? s.touches : undefined;
      return t ? { first: { ...t.first }, last: { ...t.last } } : null;
    },
    ids: () => ({ anonymousId: state.anonymousId, userId: state.userId, sessionId: state.session?.id }),
    shutdown: async (timeoutMs = 5000) => {
      let stop = (): void => undefined;
      await Promise.race([client.flush(), new Promise<void>((done) => (stop = later(done, timeoutMs)))]);
      stop();
      sender.stop();
    },
    allows: (kind) => {
      if ((o.capture?.[kind] ?? platform.capture[kind]) !== true || remote.capture?.[kind] === false) return false;
      return kind === "network" ? sampled("network") : kind === "vitals" ? sampled("perf") : true;
    },
    beacon: (send) => {
      if (!pending && !state.optedOut) sender.beacon(send);
    },
    retryNow: () => void sender.flush(true),
    trackWith: (event, properties, context, at) => capture("track", { event }, properties, at, context),
  };
  return client;
}
