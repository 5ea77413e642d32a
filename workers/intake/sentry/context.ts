import { arr, compact, fit, obj, str, type Json } from "./values";

/** What every event translated from one Sentry event shares: who, where from, and its labels. */
export interface EventBasis {
  userId?: string;
  anonymousId: string;
  traits?: Json;
  context: Json;
  /** Sentry's labels kept as properties: environment, release, level, tags, trace ids… */
  properties: Json;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+)$/i;
// Contexts with a slot of their own in our context; any other context (custom ones set with
// `setContext`) is kept in properties as sent.
// What SDKs attach freely is kept within these budgets, so an event stays within the 32 KB limit.
const EXTRA_BUDGET = 4_000;
const CONTEXTS_BUDGET = 4_000;
const MAX_TAGS = 50;
const MAPPED_CONTEXTS = new Set(["os", "device", "app", "browser", "runtime", "culture", "trace", "cloud_resource"]);

function who(event: Json): Pick<EventBasis, "userId" | "anonymousId" | "traits"> {
  const user = obj(event.user);
  const contexts = obj(event.contexts);
  const traits = compact({ email: str(user.email, 256), username: str(user.username, 256), name: str(user.name, 256), segment: str(user.segment, 256) });
  // Sentry events carry no anonymous id of their own: the device's id when a mobile SDK sends
  // one, else the trace, which spans one page load or request, else the event itself.
  const anonymousId =
    str(obj(contexts.device).device_unique_identifier, 256) ?? str(obj(contexts.trace).trace_id, 256) ?? str(event.event_id, 256) ?? "sentry";
  return compact({ userId: str(user.id, 256), anonymousId, traits: Object.keys(traits).length > 0 ? traits : undefined });
}

function clientContext(event: Json, sdk: Json): Json {
  const contexts = obj(event.contexts);
  const os = obj(contexts.os);
  const device = obj(contexts.device);
  const app = obj(contexts.app);
  const culture = obj(contexts.culture);
  const user = obj(event.user);
  const request = obj(event.request);
  const browserSdk = event.platform === "javascript";
  const headers = obj(request.headers);
  const ip = str(user.ip_address, 64);
  const pageUrl = browserSdk ? str(request.url, 4096) : undefined;
  let page: Json | undefined;
  if (pageUrl) {
    try {
      const u = new URL(pageUrl);
      page = compact({ url: pageUrl, path: u.pathname, search: u.search || undefined, referrer: str(headers.Referer, 4096) });
    } catch {
      page = { url: pageUrl };
    }
  }
  return compact({
    library: section(compact({ name: str(sdk.name, 128), version: str(sdk.version, 64) })),
    app: section(compact({ name: str(app.app_name, 256), version: str(event.release, 256) ?? str(app.app_version, 256), build: str(event.dist, 128) ?? str(app.app_build, 128), namespace: str(app.app_identifier, 256) })),
    os: section(compact({ name: str(os.name, 128), version: str(os.version, 128) })),
    device: section(compact({ id: str(device.device_unique_identifier, 256), model: str(device.model, 256), manufacturer: str(device.manufacturer, 256), name: str(device.name, 256), type: str(device.family, 128) })),
    browser: section(compact({ name: str(obj(contexts.browser).name, 128), version: str(obj(contexts.browser).version, 128) })),
    runtime: section(compact({ name: str(obj(contexts.runtime).name, 128), version: str(obj(contexts.runtime).version, 128) })),
    locale: str(culture.locale, 64),
    timezone: str(culture.timezone, 64),
    // A server SDK's request is the one it was serving, not the client that sent the event.
    userAgent: browserSdk ? str(headers["User-Agent"] ?? headers["user-agent"], 1024) : undefined,
    page,
    ip: ip && IP.test(ip) ? ip : undefined,
  });
}

function labels(event: Json): Json {
  const contexts = obj(event.contexts);
  const trace = obj(contexts.trace);
  const custom: Json = {};
  for (const [k, v] of Object.entries(contexts)) if (!MAPPED_CONTEXTS.has(k)) custom[k] = v;
  const request = obj(event.request);
  return compact({
    environment: str(event.environment, 256),
    release: str(event.release, 256),
    dist: str(event.dist, 128),
    level: str(event.level, 32),
    platform: str(event.platform, 64),
    logger: str(event.logger, 256),
    serverName: str(event.server_name, 256),
    transaction: str(event.transaction, 1024),
    tags: tagsOf(event.tags),
    traceId: str(trace.trace_id, 64),
    spanId: str(trace.span_id, 64),
    request: event.platform === "javascript" ? undefined : section(compact({ method: str(request.method, 16), url: str(request.url, 4096) })),
    extra: fit(obj(event.extra), EXTRA_BUDGET),
    contexts: fit(custom, CONTEXTS_BUDGET),
    fingerprint: Array.isArray(event.fingerprint) ? event.fingerprint.slice(0, 16) : undefined,
  });
}

function section(o: Json): Json | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}

// Tags arrive as an object or as `[key, value]` pairs, depending on the SDK.
function tagsOf(v: unknown): Json | undefined {
  const out: Json = {};
  const pairs = Array.isArray(v) ? v.map((pair) => arr(pair)) : Object.entries(obj(v));
  for (const [k, val] of pairs.slice(0, MAX_TAGS)) {
    const key = str(k, 200);
    if (key) out[key] = str(val, 200) ?? (typeof val === "boolean" ? String(val) : "");
  }
  return section(out);
}

/** Who sent a Sentry event, its client context and its labels, shared by every event made from it. */
export function basisOf(event: Json, envelopeSdk: Json): EventBasis {
  const sdk = Object.keys(obj(event.sdk)).length > 0 ? obj(event.sdk) : envelopeSdk;
  // Members written out: a spread copy that then grows takes V8's slow path.
  const { userId, anonymousId, traits } = who(event);
  return { userId, anonymousId, traits, context: clientContext(event, sdk), properties: labels(event) };
}
