// A week of plausible product events for the demo app, sent through the edge like any client's:
// web and mobile users in sessions with page and screen views, a funnel of track events, a few
// crashes, visitors who leave at once, and users who sign in (identify with traits) and are
// known by their user id from then on. `npm start` sends them once, when it seeds the demo
// owner, so every view has data.

const PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/checkout"];
const SCREENS = ["Home", "Catalog", "Product", "Cart", "Settings"];
const EVENTS = ["Product Viewed", "Added to Cart", "Checkout Started", "Order Completed", "Signed Up"];
// Each client's release before and after the mid-week deploy.
const PLATFORMS = [
  { os: "iOS", library: "edge-telemetry-ios", versions: ["2.3.0", "2.4.0"], web: false },
  { os: "Android", library: "edge-telemetry-android", versions: ["2.3.1", "2.4.0"], web: false },
  { os: "Mac OS X", library: "edge-telemetry-web", versions: ["5.11.2", "5.12.0"], web: true },
] as const;

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

export function demoEvents(now = Date.now(), sessions = 400): object[] {
  const rand = rng(42);
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
    // Web clients say which page they are on with every event, as the SDK does.
    const version = t < now - 3.5 * 86_400_000 ? platform.versions[0] : platform.versions[1];
    const context = { sessionId: `demo-session-${s}`, os: { name: platform.os }, library: { name: platform.library }, app: { version }, ...(web ? { page: { path: "/" } } : {}) };
    const kinds = CRASHES.filter((c) => c.on === "all" || (c.on === "web") === web);
    // One visit in eight is a single page or screen view: a bounce.
    const steps = rand() < 0.125 ? 1 : 2 + Math.floor(rand() * 9);
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
        events.push(web ? { ...base, type: "page", name: path, context: { ...context, page: { path } } } : { ...base, type: "screen", name: pick(SCREENS), context });
      } else if (r < 0.95) {
        events.push({ ...base, type: "track", event: EVENTS[Math.min(EVENTS.length - 1, Math.floor(Math.pow(rand(), 2) * EVENTS.length))], context, properties: { plan: pick(["free", "pro"]) } });
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
  }
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
    await res.body?.cancel();
  }
  return events.length;
}
