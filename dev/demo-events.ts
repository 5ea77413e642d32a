// A week of plausible product events for the demo app, sent through the edge like any client's:
// web and mobile users in sessions with page and screen views, a funnel of track events, a few
// crashes, visitors who leave at once, and users who sign in (identify with traits) and are
// known by their user id from then on; with them the telemetry their clients measure: web
// vitals per page load, app starts and screen loads, checkout transactions with their spans, and
// the network calls the apps make. `npm start` sends them once, when it seeds the demo owner, so
// every view has data.

const PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/checkout"];
const SCREENS = ["Home", "Catalog", "Product", "Cart", "Settings"];
const EVENTS = ["Product Viewed", "Added to Cart", "Checkout Started", "Order Completed", "Signed Up"];

/** 9.90 to 249.90 in steps of 10, the same for the same order id. */
function orderRevenue(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return (h % 25) * 10 + 9.9;
}
// Each client's release before and after the mid-week deploy; the web shipped again a day and a
// half ago, and that release made the largest paint slower.
const PLATFORMS = [
  { os: "iOS", library: "edge-telemetry-ios", versions: ["2.3.0", "2.4.0"], web: false },
  { os: "Android", library: "edge-telemetry-android", versions: ["2.3.1", "2.4.0"], web: false },
  { os: "Mac OS X", library: "edge-telemetry-web", versions: ["5.11.2", "5.12.0", "5.13.0"], web: true },
] as const;
const DAY = 86_400_000;
/** The release a client ran at `t`: deploys 3.5 and 1.5 days ago. */
const releaseAt = (versions: readonly string[], t: number, now: number): string =>
  versions[(t >= now - 3.5 * DAY ? 1 : 0) + (t >= now - 1.5 * DAY && versions.length > 2 ? 1 : 0)] ?? versions[0] ?? "";

type Frame = { function: string; file: string; line: number; column?: number; inApp: boolean };
const lib = (fn: string, file: string, line: number): Frame => ({ function: fn, file, line, inApp: false });
const own = (fn: string, file: string, line: number, column?: number): Frame => ({ function: fn, file, line, ...(column === undefined ? {} : { column }), inApp: true });

/**
 * Kinds of crash, most frequent first: the crash list's long tail comes from picking kind k
 * with weight 1/(k+1). `on` says which clients have it; frames are innermost first.
 */
const CRASHES: ReadonlyArray<{ on: "web" | "mobile" | "all"; type: string; message: string; frames: Frame[] }> = [
  { on: "web", type: "TypeError", message: "Cannot read properties of undefined (reading 'price')", frames: [own("CartTotal", "src/cart/total.tsx", 42, 18), own("renderCart", "src/cart/index.tsx", 88, 5), lib("renderWithHooks", "node_modules/react-dom/cjs/react-dom.production.js", 1610)] },
  { on: "mobile", type: "NullPointerException", message: "Attempt to invoke virtual method 'getId()' on a null object reference", frames: [own("ProductScreen.onBind", "ProductScreen.kt", 121), own("CatalogAdapter.bind", "CatalogAdapter.kt", 64), lib("RecyclerView.onLayout", "androidx/recyclerview/widget/RecyclerView.java", 4580)] },
  { on: "all", type: "NetworkError", message: "Failed to fetch /api/checkout", frames: [own("submitOrder", "src/checkout/api.ts", 31, 11), own("onPay", "src/checkout/pay-button.tsx", 17, 9)] },
  { on: "web", type: "ChunkLoadError", message: "Loading chunk 7 failed", frames: [lib("requireEnsure", "webpack/runtime/ensure chunk", 6)] },
  { on: "mobile", type: "NSInvalidArgumentException", message: "-[__NSDictionaryM setObject:forKey:]: object cannot be nil (key: cartId)", frames: [own("CartStore.save", "CartStore.swift", 77), lib("__exceptionPreprocess", "CoreFoundation", 0)] },
  { on: "web", type: "RangeError", message: "Maximum call stack size exceeded", frames: [own("flatten", "src/lib/tree.ts", 12, 3), own("flatten", "src/lib/tree.ts", 14, 12)] },
  { on: "all", type: "SyntaxError", message: "Unexpected token '<' in JSON at position 0", frames: [lib("JSON.parse", "<anonymous>", 0), own("loadConfig", "src/config.ts", 22, 20)] },
  { on: "mobile", type: "OutOfMemoryError", message: "Failed to allocate a 4194316 byte allocation", frames: [own("ImageCache.decode", "ImageCache.kt", 40), lib("BitmapFactory.decodeStream", "android/graphics/BitmapFactory.java", 700)] },
  { on: "web", type: "TypeError", message: "search.results is not iterable", frames: [own("SearchResults", "src/search/results.tsx", 9, 22)] },
  { on: "all", type: "Error", message: "Payment provider timed out after 30000 ms", frames: [own("charge", "src/payments/provider.ts", 58, 7), own("submitOrder", "src/checkout/api.ts", 40, 5)] },
  { on: "web", type: "ReferenceError", message: "gtag is not defined", frames: [own("trackConversion", "src/analytics.ts", 5, 3)] },
  { on: "mobile", type: "IllegalStateException", message: "Fragment SettingsFragment not attached to a context", frames: [own("SettingsFragment.onResume", "SettingsFragment.kt", 33)] },
];

/** A small deterministic generator, so every fresh start shows the same demo week. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

type Rand = () => number;
const pickFrom = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
/** A log-normal value around `median`: timings are skewed, with a long slow tail. */
const skewed = (r: Rand, median: number, spread = 0.5): number => {
  const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return median * Math.exp(normal * spread);
};
const hex = (r: Rand, n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join("");
const uuidOf = (r: Rand): string => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;

/** The browsers web visitors use, with the factor their device puts on paint timings. */
const BROWSERS = [
  { name: "Chrome", os: "Windows", device: "desktop", slow: 1, ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" },
  { name: "Chrome", os: "Windows", device: "desktop", slow: 1, ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" },
  { name: "Safari", os: "Mac OS X", device: "desktop", slow: 0.85, ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15" },
  { name: "Firefox", os: "Linux", device: "desktop", slow: 1.1, ua: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" },
  { name: "Edge", os: "Windows", device: "desktop", slow: 1.05, ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0" },
  { name: "Chrome", os: "Android", device: "mobile", slow: 1.7, ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36" },
  { name: "Chrome", os: "Android", device: "mobile", slow: 2.1, ua: "Mozilla/5.0 (Linux; Android 12; SM-A125F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36" },
  { name: "Safari", os: "iOS", device: "mobile", slow: 1.3, ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1" },
  { name: "Safari", os: "iOS", device: "tablet", slow: 1.1, ua: "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1" },
] as const;

/** How much heavier than the home page each page is to paint. */
const PAGE_WEIGHT: Readonly<Record<string, number>> = { "/": 1, "/pricing": 0.9, "/docs": 0.75, "/blog": 1.1, "/signup": 0.8, "/checkout": 1.35, "/orders": 1.25, "/products": 1.15, "/account": 1 };

/** One session as the product events saw it, for the telemetry its client measured. */
interface Visit {
  web: boolean;
  /** A single page or screen view: nothing is added that would make it more than a bounce. */
  bounce: boolean;
  version: string;
  device: string;
  browser: string;
  views: Array<{ t: number; where: string; base: Record<string, unknown>; context: Record<string, unknown> }>;
}

/** One API the demo clients call: `path` makes a path (with its ids), `ms` the median latency. */
interface Endpoint {
  method: string;
  host: string;
  path: (r: Rand) => string;
  ms: number;
  /** Statuses other than 200 and how often, e.g. `[[404, 0.05]]`; the rest answer `ok`. */
  statuses: ReadonlyArray<readonly [number, number]>;
  ok?: number;
  /** Share of calls that get no answer: `[failed, timed out]`. */
  lost?: readonly [number, number];
  req?: number;
  resp: number;
  /** Share of the visits to its page or screen that make this call (default 0.55). */
  share?: number;
}
const API = "https://api.shop.example";
const ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  product: { method: "GET", host: API, path: (r) => `/v1/products/${10_000 + Math.floor(r() * 5000)}`, ms: 90, statuses: [[304, 0.15], [404, 0.04]], resp: 4200 },
  reviews: { method: "GET", host: API, path: (r) => `/v1/products/${10_000 + Math.floor(r() * 5000)}/reviews?page=${1 + Math.floor(r() * 3)}`, ms: 160, statuses: [[500, 0.02]], resp: 9800 },
  search: { method: "GET", host: API, path: (r) => `/v1/search?q=${pickFrom(r, ["running shoes", "rain jacket", "socks", "tent"]).replace(" ", "+")}&session_token=${hex(r, 24)}`, ms: 240, statuses: [[400, 0.03]], resp: 18_000 },
  cart: { method: "POST", host: API, path: (r) => `/v1/carts/${uuidOf(r)}/items`, ms: 130, ok: 201, statuses: [[400, 0.06], [401, 0.03]], req: 220, resp: 1300 },
  order: { method: "GET", host: API, path: (r) => `/v1/orders/${100_000 + Math.floor(r() * 90_000)}`, ms: 110, statuses: [[401, 0.05], [404, 0.03]], resp: 2600 },
  me: { method: "GET", host: API, path: () => "/v1/me", ms: 60, statuses: [[304, 0.3], [401, 0.04]], resp: 800 },
  // The payment provider is the slow and flaky one.
  charge: { method: "POST", host: "https://payments.example.net", path: () => "/v2/charges", ms: 900, statuses: [[502, 0.08], [503, 0.07], [400, 0.03]], lost: [0.02, 0.04], req: 640, resp: 1100, share: 1 },
  asset: { method: "GET", host: "https://cdn.shop.example", path: (r) => `/assets/${hex(r, 40)}.webp`, ms: 45, statuses: [[304, 0.35], [404, 0.01]], resp: 85_000 },
  config: { method: "GET", host: "https://config.shop.example", path: (r) => `/flags/${hex(r, 12)}/v3.json`, ms: 70, statuses: [[304, 0.5]], lost: [0.01, 0], resp: 3100 },
};
/** The calls a page or screen makes when it opens. */
const CALLS: Readonly<Record<string, readonly string[]>> = {
  "/": ["me", "asset", "config"], "/pricing": ["me", "asset"], "/docs": ["search"], "/blog": ["asset"], "/signup": ["me"],
  "/checkout": ["me", "cart", "charge"], "/orders": ["order", "me"], "/products": ["product", "reviews", "asset"], "/account": ["me", "order"],
  Home: ["me", "config", "asset"], Catalog: ["search", "asset"], Product: ["product", "reviews", "asset"], Cart: ["cart"], Checkout: ["cart", "charge"], Settings: ["me"],
};

/** The network calls of one page or screen view, under `base` (ids, time) and `context`. */
function networkCalls(r: Rand, where: string, t: number, base: Record<string, unknown>, context: Record<string, unknown>, slow: number, extra: Record<string, unknown>): object[] {
  const section = where.startsWith("/") ? `/${where.split("/")[1] ?? ""}` : where;
  return (CALLS[section] ?? ["me"]).flatMap((name, i) => {
    const e = ENDPOINTS[name];
    if (!e || r() >= (e.share ?? 0.55)) return [];
    const at = t + 150 + i * 90 + Math.floor(r() * 400);
    const roll = r();
    const [failed, timedOut] = e.lost ?? [0, 0];
    let status = e.ok ?? 200;
    let error: string | undefined;
    let below = 0;
    for (const [code, share] of e.statuses) if (roll >= below && roll < (below += share)) status = code;
    if (roll >= 1 - failed - timedOut) {
      status = 0;
      error = roll >= 1 - timedOut ? "The request timed out" : "Failed to fetch";
    }
    const duration = Math.round(error?.includes("timed out") ? 30_000 : skewed(r, e.ms * slow * (status >= 500 ? 2.5 : 1), 0.55));
    const request = { method: e.method, url: e.host + e.path(r), status, duration, ...(e.req ? { requestBytes: Math.round(skewed(r, e.req, 0.3)) } : {}), ...(status === 0 || status === 304 ? {} : { responseBytes: Math.round(skewed(r, status >= 400 ? 300 : e.resp, 0.4)) }), ...(error ? { error } : {}) };
    return [{ ...base, messageId: `${String(base.messageId)}-n${i}`, timestamp: new Date(at).toISOString(), type: "network", request, context, ...(Object.keys(extra).length ? { properties: extra } : {}) }];
  });
}

const perfEvent = (base: Record<string, unknown>, id: string, at: number, context: Record<string, unknown>, name: string, value: number, unit = "ms", properties?: Record<string, unknown>): object => ({
  ...base,
  messageId: `${String(base.messageId)}-${id}`,
  timestamp: new Date(at).toISOString(),
  type: "perf",
  context,
  metric: { name, value: unit === "score" ? Math.round(value * 1000) / 1000 : Math.round(value), unit },
  ...(properties ? { properties } : {}),
});

/**
 * A transaction as the SDK's spans (and Sentry's intake) send it: one perf event named by the
 * transaction, `kind: "transaction"`, and one per span named by its op, `kind: "span"`.
 */
function transaction(r: Rand, base: Record<string, unknown>, at: number, context: Record<string, unknown>, name: string, op: string, spans: ReadonlyArray<readonly [string, string, number]>, slow: number): object[] {
  let cursor = at;
  let status = "ok";
  const out: object[] = [];
  spans.forEach(([spanOp, description, median], i) => {
    const value = skewed(r, median * slow, 0.45);
    const failed = spanOp === "http.client" && r() < 0.04;
    if (failed) status = "internal_error";
    out.push(perfEvent(base, `s${i}`, cursor, context, spanOp, value, "ms", { kind: "span", transaction: name, op: spanOp, description, status: failed ? "internal_error" : "ok" }));
    cursor += value + 5;
  });
  return [perfEvent(base, "tx", at, context, name, cursor - at + skewed(r, 40, 0.3), "ms", { kind: "transaction", transaction: name, op, status, spans: spans.length }), ...out];
}

const CHECKOUT_SPANS = [
  ["http.client", "GET /v1/me", 70],
  ["db.query", "SELECT * FROM cart_items WHERE cart_id = ?", 35],
  ["http.client", "POST /v2/charges", 850],
  ["db.query", "INSERT INTO orders (cart_id, total) VALUES (?, ?)", 25],
  ["render", "OrderConfirmation", 60],
] as const;

/** What a session's client measured besides the product events: vitals per page load, calls, spans. */
function telemetryOf(visit: Visit, r: Rand, events: object[], now: number): void {
  const slowDevice = BROWSERS.find((b) => b.name === visit.browser && b.device === visit.device)?.slow ?? 1.2;
  for (const [v, view] of visit.views.entries()) {
    const loads = [view];
    // Visitors open an order, a product or an invoice now and then: pages with ids in their path.
    if (visit.web && !visit.bounce && r() < 0.4) {
      const path = pickFrom(r, [`/orders/${1000 + Math.floor(r() * 9000)}`, `/products/${pickFrom(r, ["trail-runner-2", "rain-shell", "merino-socks", "dome-tent-3p"])}`, `/account/invoices/${uuidOf(r)}`]);
      const context = { ...view.context, page: { path } };
      const base = { ...view.base, messageId: `${String(view.base.messageId)}-p` };
      if (view.t + 20_000 < now) {
        events.push({ ...base, timestamp: new Date(view.t + 20_000).toISOString(), type: "page", name: path, context });
        loads.push({ t: view.t + 20_000, where: path, base, context });
      }
    }
    for (const load of loads) {
      const { t, where, base, context } = load;
      if (visit.web) {
        const weight = (PAGE_WEIGHT[`/${where.split("/")[1] ?? ""}`] ?? 1) * slowDevice;
        const ttfb = skewed(r, 380 * weight, 0.6);
        const fcp = ttfb + skewed(r, 900 * weight, 0.45);
        const lcp = fcp + skewed(r, 650 * weight, 0.55);
        events.push(perfEvent(base, "ttfb", t, context, "TTFB", ttfb));
        events.push(perfEvent(base, "fcp", t + 1, context, "FCP", fcp));
        events.push(perfEvent(base, "lcp", t + 2, context, "LCP", lcp));
        const shift = r();
        events.push(perfEvent(base, "cls", t + 3, context, "CLS", shift < 0.55 ? r() * 0.06 : shift < 0.85 ? 0.08 + r() * 0.15 : 0.25 + r() * 0.3, "score"));
        if (r() < 0.7) events.push(perfEvent(base, "inp", t + 4, context, "INP", skewed(r, 140 * slowDevice, 0.7)));
        if (r() < 0.3) events.push(perfEvent(base, "hydrate", t + 5, context, "hydration", skewed(r, 180 * weight, 0.4)));
        if (where === "/checkout" && r() < 0.8) events.push(...transaction(r, { ...base, messageId: `${String(base.messageId)}-checkout` }, t + 5000, context, "checkout", "ui.action", CHECKOUT_SPANS, 1));
      } else {
        if (v === 0) events.push(perfEvent(base, "start", t - 100, context, "app_start_cold", skewed(r, 1300, 0.45)));
        if (r() < 0.5) events.push(perfEvent(base, "screen", t + 10, context, "screen_load", skewed(r, where === "Catalog" ? 650 : 380, 0.5), "ms", { screen: where }));
      }
      events.push(...networkCalls(r, where, t, base, context, visit.web ? 1 : 1.3, visit.web ? {} : { screen: where }));
    }
  }
}

/**
 * Makes release `after`'s LCP p75 `factor` times release `before`'s, scaling all of its values:
 * the regression the views flag is then the one meant, whatever mix of pages and devices each
 * release happened to draw.
 */
function slowerPaint(events: object[], before: string, after: string, factor: number): void {
  type Perf = { type?: string; metric?: { name: string; value: number }; context?: { app?: { version?: string } } };
  const lcp = (version: string): Array<{ value: number }> =>
    (events as Perf[]).flatMap((e) => (e.type === "perf" && e.metric?.name === "LCP" && e.context?.app?.version === version ? [e.metric] : []));
  const p75 = (ms: Array<{ value: number }>): number => ms.map((m) => m.value).sort((x, y) => x - y)[Math.floor(0.75 * (ms.length - 1))] ?? 0;
  const [was, is] = [lcp(before), lcp(after)];
  const scale = (factor * p75(was)) / (p75(is) || 1);
  for (const m of is) m.value = Math.round(m.value * scale);
}

const RN_SCREENS = ["Home", "Catalog", "Product", "Cart", "Checkout", "Settings"];

/** React Native sessions: screens with their load times, cold and warm starts, and their calls. */
function reactNativeSessions(r: Rand, events: object[], now: number, firstSession: number, signedIn: ReadonlySet<string>, sessions = 90): void {
  for (let s = 0; s < sessions; s++) {
    const n = Math.floor(r() * 120);
    const id = firstSession + s;
    let t = now - Math.floor(Math.pow(r(), 1.4) * 7 * DAY);
    const version = releaseAt(["3.0.0", "3.1.0", "3.2.0"], t, now);
    const ios = r() < 0.5;
    const tablet = r() < 0.15;
    const context = { sessionId: `demo-session-${id}`, library: { name: "edge-telemetry-react-native", version: "1.4.0" }, app: { version }, os: { name: ios ? "iOS" : "Android" }, device: { type: tablet ? "tablet" : "mobile", model: ios ? (tablet ? "iPad13,18" : "iPhone15,2") : tablet ? "SM-X200" : "Pixel 7" } };
    // People who signed in on the web are known in the app too.
    const user = signedIn.has(`demo-user-${n}`) ? { userId: `customer-${n}` } : {};
    // Older Android phones start slowly; 3.1.0 moved work off the start path.
    const startMedian = (ios ? 900 : 1500) * (version === "3.0.0" ? 1.25 : 1);
    const steps = 2 + Math.floor(r() * 6);
    for (let i = 0; i < steps && t < now; i++) {
      const base = { anonymousId: `demo-user-${n}`, messageId: `demo-rn-${id}-${i}`, ...user };
      const at = (ms: number): string => new Date(t + ms).toISOString();
      if (i === 0) {
        events.push({ ...base, messageId: `demo-rn-${id}-open`, type: "track", event: "Application Opened", timestamp: at(-50), context, properties: { from_background: false } });
        events.push(perfEvent(base, "cold", t - 40, context, "app_start_cold", skewed(r, startMedian, 0.4)));
      } else if (r() < 0.2) {
        events.push({ ...base, messageId: `demo-rn-${id}-${i}-back`, type: "track", event: "Application Opened", timestamp: at(-40), context, properties: { from_background: true } });
        events.push(perfEvent(base, "warm", t - 30, context, "app_start_warm", skewed(r, ios ? 160 : 260, 0.45)));
      }
      const screen = i === 0 ? "Home" : pickFrom(r, RN_SCREENS);
      events.push({ ...base, type: "screen", name: screen, timestamp: at(0), context });
      events.push(perfEvent(base, "load", t + 20, context, "screen_load", skewed(r, (screen === "Catalog" ? 700 : screen === "Checkout" ? 520 : 330) * (ios ? 1 : 1.3), 0.5), "ms", { screen }));
      if (screen === "Product" && r() < 0.6) events.push(perfEvent(base, "decode", t + 30, context, "image_decode", skewed(r, 45, 0.6), "ms", { screen }));
      if (screen === "Checkout" && r() < 0.8) events.push(...transaction(r, { ...base, messageId: `${base.messageId}-checkout` }, t + 4000, context, "checkout", "ui.action", CHECKOUT_SPANS, 1.2).map((e) => ({ ...e, properties: { ...(e as { properties: object }).properties, screen } })));
      events.push(...networkCalls(r, screen, t, base, context, ios ? 1.2 : 1.5, { screen }));
      t += 8_000 + Math.floor(r() * 90_000);
    }
  }
}

/** The API server's own transactions, as a Node service (or Sentry's SDK) reports them, for the user it served. */
function serverTransactions(r: Rand, events: object[], now: number, signedIn: ReadonlySet<string>, count = 100): void {
  for (let i = 0; i < count; i++) {
    const t = now - Math.floor(Math.pow(r(), 1.2) * 7 * DAY);
    const context = { library: { name: "edge-telemetry-node", version: "1.4.0" }, app: { version: releaseAt(["api-1.8.0", "api-1.9.0"], t, now) }, os: { name: "Linux" } };
    const n = Math.floor(r() * 120);
    const base = { anonymousId: `demo-user-${n}`, messageId: `demo-api-${i}`, ...(signedIn.has(`demo-user-${n}`) ? { userId: `customer-${n}` } : {}) };
    if (r() < 0.6)
      events.push(...transaction(r, base, t, context, "GET /v1/orders/:id", "http.server", [["cache.get", "orders:*", 3], ["db.query", "SELECT * FROM orders WHERE id = ?", 18], ["db.query", "SELECT * FROM order_lines WHERE order_id = ?", 26]], 1));
    else events.push(...transaction(r, base, t, context, "POST /v1/carts/:id/items", "http.server", [["db.query", "SELECT * FROM carts WHERE id = ? FOR UPDATE", 14], ["http.client", "GET inventory/v1/stock", 120], ["db.query", "INSERT INTO cart_items VALUES (?, ?, ?)", 9]], 1));
  }
}

// Where a web visit came from, by its number (so the rest of the demo stays as it was): campaign
// links, ad clicks and other sites' links on its landing page, for the attribution report.
const LANDINGS: ReadonlyArray<{ query?: string; referrer?: string }> = [
  { query: "utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&utm_content=hero" },
  { query: "gclid=demo-click" },
  { query: "utm_source=facebook&utm_medium=social&utm_campaign=retarget" },
  { referrer: "https://www.google.com/search?q=shop" },
  { referrer: "https://t.co/demo" },
  { referrer: "https://news.ycombinator.com/item?id=1" },
  { query: "utm_source=partner-blog&utm_medium=affiliate&utm_campaign=spring" },
  {},
  {},
  {},
];

function landing(visit: number, path: string): { url: string; search?: string; referrer?: string } {
  const l = LANDINGS[visit % LANDINGS.length] ?? {};
  return { url: `https://shop.example${path}${l.query ? `?${l.query}` : ""}`, ...(l.query ? { search: `?${l.query}` } : {}), ...(l.referrer ? { referrer: l.referrer } : {}) };
}

export function demoEvents(now = Date.now(), sessions = 400): object[] {
  const rand = rng(42);
  const tele = rng(1313);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const events: object[] = [];
  const names = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances"];
  const signedIn = new Set<string>();
  for (let s = 0; s < sessions; s++) {
    const n = Math.floor(rand() * 120);
    const user = `demo-user-${n}`;
    const customer = `customer-${n}`;
    const platform = pick(PLATFORMS);
    const web = platform.web;
    // More traffic lately, and by day than by night.
    let t = now - Math.floor(Math.pow(rand(), 1.4) * 7 * 86_400_000);
    const version = releaseAt(platform.versions, t, now);
    // Browsers and devices come from their own generator, so the product events stay as they were.
    const browser = web ? pickFrom(tele, BROWSERS) : undefined;
    const client = browser ? { userAgent: browser.ua, os: { name: browser.os }, device: { type: browser.device } } : { os: { name: platform.os }, device: { type: "mobile" } };
    // Web clients say which page they are on with every event, as the SDK does.
    const context = { sessionId: `demo-session-${s}`, ...client, library: { name: platform.library }, app: { version }, ...(web ? { page: { path: "/" } } : {}) };
    const kinds = CRASHES.filter((c) => c.on === "all" || (c.on === "web") === web);
    // One visit in eight is a single page or screen view: a bounce.
    const steps = rand() < 0.125 ? 1 : 2 + Math.floor(rand() * 9);
    const visit: Visit = { web, bounce: steps === 1, version, device: browser?.device ?? "mobile", browser: browser?.name ?? "", views: [] };
    // Half of the people sign in at some point; from then on their events carry the user id.
    const signsIn = n % 2 === 0 && steps > 2 && !signedIn.has(user) && rand() < 0.5;
    for (let i = 0; i < steps && t < now; i++) {
      const timestamp = new Date(t).toISOString();
      const base = { anonymousId: user, timestamp, messageId: `demo-${s}-${i}`, ...(signedIn.has(user) ? { userId: customer } : {}) };
      const r = rand();
      if (signsIn && i === 1) {
        signedIn.add(user);
        const traits = { name: pick(names), plan: pick(["free", "pro", "team"]), company: `Company ${n % 17}` };
        events.push({ ...base, type: "identify", userId: customer, traits, context });
      } else if (r < 0.45 || steps === 1) {
        const path = pick(PAGES);
        const where = web ? path : pick(SCREENS);
        const viewContext = web ? { ...context, page: { path: where, ...(visit.views.length === 0 ? landing(s, where) : {}) } } : context;
        events.push({ ...base, type: web ? "page" : "screen", name: where, context: viewContext });
        visit.views.push({ t, where, base, context: viewContext });
      } else if (r < 0.95) {
        const event = EVENTS[Math.min(EVENTS.length - 1, Math.floor(Math.pow(rand(), 2) * EVENTS.length))];
        const plan = pick(["free", "pro"]);
        // An order's revenue for sum, average and percentile trends; derived from its id, so the rest of the demo stays as it was.
        const revenue = event === "Order Completed" ? { revenue: orderRevenue(String(base.messageId)) } : {};
        events.push({ ...base, type: "track", event, context, properties: { plan, ...revenue } });
      } else {
        // Zipf-like: kind k with weight 1/(k+1).
        const weights = kinds.map((_, k) => 1 / (k + 1));
        let w = rand() * weights.reduce((a, b) => a + b, 0);
        const kind = kinds.find((_, k) => (w -= weights[k] ?? 0) < 0) ?? kinds[0];
        if (kind) {
          const { type, message, frames } = kind;
          const environment = rand() < 0.85 ? "production" : "staging";
          events.push({ ...base, type: "crash", context, properties: { environment }, error: { type, message, fatal: rand() < 0.3, frames } });
        }
      }
      t += 5_000 + Math.floor(rand() * 120_000);
    }
    telemetryOf(visit, tele, events, now);
  }
  slowerPaint(events, "5.12.0", "5.13.0", 1.3);
  reactNativeSessions(tele, events, now, sessions, signedIn);
  serverTransactions(tele, events, now, signedIn);
  return events;
}

/** Sends the demo week to the edge with the demo write key, in batches. */
export async function sendDemoEvents(edgeUrl: string, writeKey: string): Promise<number> {
  const events = demoEvents();
  for (let i = 0; i < events.length; i += 500) {
    const res = await fetch(`${edgeUrl}/v1/batch`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${writeKey}:`)}`, "content-type": "application/json" },
      body: JSON.stringify({ batch: events.slice(i, i + 500) }),
    });
    if (!res.ok) throw new Error(`sending demo events: ${res.status} ${await res.text()}`);
    // A refused demo event is a demo that no longer matches the wire contract: say which.
    const { rejected } = (await res.json()) as { rejected?: Array<{ messageId?: string; message?: string }> };
    const first = rejected?.[0];
    if (first) throw new Error(`the edge refused ${rejected.length} demo events, e.g. ${first.messageId ?? "?"}: ${first.message ?? ""}`);
  }
  return events.length;
}
