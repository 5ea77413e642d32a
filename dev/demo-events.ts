// A week of plausible product events for the demo app, sent through the edge like any client's:
// web and mobile users in sessions with page and screen views, a funnel of track events, a few
// crashes, visitors who leave at once, and users who sign in (identify with traits) and are
// known by their user id from then on. `npm start` sends them once, when it seeds the demo
// owner, so every view has data.

const PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/checkout"];
const SCREENS = ["Home", "Catalog", "Product", "Cart", "Settings"];
const EVENTS = ["Product Viewed", "Added to Cart", "Checkout Started", "Order Completed", "Signed Up"];
const PLATFORMS = [
  { os: "iOS", library: "edge-telemetry-ios", version: "2.4.0", web: false },
  { os: "Android", library: "edge-telemetry-android", version: "2.3.1", web: false },
  { os: "Mac OS X", library: "edge-telemetry-web", version: "5.12.0", web: true },
] as const;

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
    const context = { sessionId: `demo-session-${s}`, os: { name: platform.os }, library: { name: platform.library }, app: { version: platform.version }, ...(web ? { page: { path: "/" } } : {}) };
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
      } else if (r < 0.97) {
        events.push({ ...base, type: "track", event: EVENTS[Math.min(EVENTS.length - 1, Math.floor(Math.pow(rand(), 2) * EVENTS.length))], context, properties: { plan: pick(["free", "pro"]) } });
      } else {
        events.push({ ...base, type: "crash", context, error: { type: "TypeError", message: "undefined is not a function", fatal: rand() < 0.3, frames: [{ function: "render", file: "app.js", line: 10, inApp: true }] } });
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
