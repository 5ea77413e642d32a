import type { Context } from "../../schemas";
import { uuid } from "./ids";
import { createQueue } from "./queue";
import { fetchRemoteConfig, sanitize } from "./remote-config";
import { createSender } from "./sender";
import { noteTouch, touchSession, type SessionState } from "./session";
import { startSpan, timed } from "./spans";
import { crashInfo } from "./stack";
import type { CaptureSwitches, Client, FlagAnswer, Flags, Metric, Options, Platform, Props, RemoteConfig, RequestInfo, Transport, WireEvent } from "./types";

export type { Client } from "./types";

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
  /** Flags whose exposure this session recorded: `"<session id> <variant>"` by flag key. */
  exposed?: Record<string, string>;
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
  const every = o.flags?.refreshIntervalMs ?? 60_000;

  let state: State = { anonymousId: uuid(), optedOut: o.optedOut };
  // A page opened from a campaign is a touch even when no event is recorded before it navigates on.
  const startedAt = Date.now();
  const landing = platform.context();
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
  // The session the next event joins, unless it timed out.
  const live = (): SessionState | undefined => (state.session && Date.now() - state.session.last <= timeout ? state.session : undefined);
  const sampled = (share: "network" | "perf"): boolean => Math.random() < (o.sampling?.[share] ?? 1) * (remote.sampling?.[share] ?? 1);

  // Flags are evaluated at the edge for who the user is and what they run.
  const query = (): string => {
    const ctx = { ...o.context, ...platform.context() };
    const who = { anonymousId: state.anonymousId, userId: state.userId, platform: platform.name, os: ctx.os?.name, appVersion: ctx.app?.version, locale: ctx.locale, traits: state.traits && JSON.stringify(state.traits) };
    return Object.entries(who)
      .map(([k, v]) => (v ? `&${k}=${encodeURIComponent(v)}` : ""))
      .join("");
  };
  // The last good answer of the edge is kept, so that a start without network serves it.
  let remote: RemoteConfig & { etag?: string | null } = {};
  // The answer in hand as stored: the same answer again changes nothing and is not stored again.
  let text: string | null = null;
  let asked: string | undefined;
  let asks = 0;
  let stopRefresh = (): void => undefined;
  const listeners = new Set<(flags: Flags) => void>();
  const tell = (fn: (flags: Flags) => void): void => fn({ ...remote.flags });
  const restore = (stored: string | null): void => {
    try {
      const s = JSON.parse(stored ?? "{}") as typeof remote;
      remote = { ...s, ...sanitize(s) };
      text = stored;
      listeners.forEach(tell);
    } catch {
      // Unreadable: the edge's next answer replaces it.
    }
  };
  const load = async (): Promise<void> => {
    const q = (asked = query());
    const n = ++asks;
    stopRefresh();
    try {
      // The ETag is a digest of the answer: a 304 means the same answer, even for another caller.
      const got = await fetchRemoteConfig(transport, endpoint, o.writeKey, q, platform.httpCache ? undefined : remote.etag);
      // An answer overtaken by a later question is already stale; none (or a 304) keeps what is in hand.
      const t = JSON.stringify(got);
      if (n !== asks || !got || t === text) return;
      remote = got;
      text = t;
      listeners.forEach(tell);
      // Applied for this run even if it cannot be stored; the next start fetches it again.
      await storage.set(`${prefix}c`, t);
    } catch {
      // A storage that refuses leaves the answer applied for this run.
    } finally {
      if (n === asks && every > 0) stopRefresh = later(() => void load(), every);
    }
  };
  // A synchronous storage (localStorage) serves the stored flags from the first line of the app.
  const cachedNow = storage.get(`${prefix}c`);
  if (typeof cachedNow === "string") restore(cachedNow);

  const ready = (async () => {
    const [saved, cached] = await Promise.all([storage.get(`${prefix}s`), cachedNow, queue.load()]);
    if (cached !== cachedNow) restore(cached);
    try {
      state = { ...state, ...(JSON.parse(saved ?? "{}") as Partial<State>) };
    } catch {
      warn("could not read stored state; starting afresh");
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
  const reload = (): Promise<void> => (o.remoteConfig === false ? ready : ready.then(load));
  const configured = reload();
  // New ids or traits are another caller for the edge's rules.
  const follow = (): void => run(() => asked !== undefined && asked !== query() && void load());

  // The first read of a flag in a session, and of another variant of it, is an exposure.
  const read = (key: string): FlagAnswer | undefined => {
    const a = remote.flags?.[key];
    if (a && o.flags?.sendExposures !== false)
      run(() => {
        const ex = (state.exposed ??= {});
        const mark = (): string => `${live()?.id} ${a.variant}`;
        if (ex[key] === mark()) return;
        capture("track", { event: "$feature_flag_called" }, { $feature_flag: key, $feature_flag_response: a.variant, $feature_flag_value: a.value });
        ex[key] = mark();
        saveState();
      });
    return a;
  };

  const client: Core = {
    endpoint,
    transport,
    ready,
    configured,
    flagsReady: configured,
    track: (event, properties) => capture("track", { event }, properties),
    page: (name, properties) => capture("page", name ? { name } : {}, properties),
    screen: (name, properties) => capture("screen", { name }, properties),
    identify: (userId, traits) => {
      capture("identify", () => {
        if (userId) state.userId = userId;
        if (traits) state.traits = { ...state.traits, ...traits };
        return state.traits ? { traits: state.traits } : {};
      });
      follow();
    },
    alias: (userId, previousId) => {
      capture("alias", () => {
        const previous = previousId ?? state.userId ?? state.anonymousId;
        state.userId = userId;
        return { previousId: previous };
      });
      follow();
    },
    group: (groupId, traits) => capture("group", traits ? { groupId, traits } : { groupId }),
    captureError: (error, how = {}) =>
      capture("crash", { error: crashInfo(error, { fatal: how.fatal ?? false, handled: how.handled ?? true }, platform.inApp) }, how.properties),
    perf: (name, value, unit = "ms", properties) => capture("perf", { metric: { name, value, unit } satisfies Metric }, properties),
    network: (request, properties) => capture("network", { request }, properties),
    startSpan: (name, options) => startSpan(name, options, sampled("perf") ? (metric, value, at, props) => capture("perf", { metric: { name: metric, value, unit: "ms" } }, props, at) : undefined),
    span: (name, fn, options) => timed(client.startSpan(name, options), fn),
    register: (properties) => mutate(() => (state.superProps = { ...state.superProps, ...properties })),
    unregister: (key) => mutate(() => delete state.superProps?.[key]),
    reset: () => {
      mutate(() => (state = fresh()));
      follow();
    },
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
      const t = live()?.touches;
      return t ? { first: { ...t.first }, last: { ...t.last } } : null;
    },
    ids: () => ({ anonymousId: state.anonymousId, userId: state.userId, sessionId: state.session?.id }),
    shutdown: async (timeoutMs = 5000) => {
      let stop = (): void => undefined;
      await Promise.race([client.flush(), new Promise<void>((done) => (stop = later(done, timeoutMs)))]);
      stop();
      sender.stop();
      stopRefresh();
    },
    getFlag: (key, fallback) => {
      const a = read(key);
      return a ? a.value : fallback;
    },
    isEnabled: (key) => !!read(key)?.value,
    getVariant: (key) => read(key)?.variant,
    getConfig: ((key?: string, fallback?: unknown) => (key === undefined ? (remote.config ?? {}) : (remote.config?.[key] ?? fallback))) as Client["getConfig"],
    flags: () => ({ ...remote.flags }),
    reloadFlags: reload,
    onFlags: (listener) => {
      listeners.add(listener);
      if (remote.flags) tell(listener);
      return () => void listeners.delete(listener);
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
