// Realistic, Segment-shaped events of every type for the benchmarks: 0.5-2 KB each, about a
// fifth of them carrying PII the edge must redact. Deterministic for a given seed.

/** A small seeded PRNG (mulberry32), so runs compare like with like. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UAS = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
];
const EVENTS = ["Order Completed", "Product Viewed", "Signed Up", "Cart Updated", "Search Performed", "Checkout Started"];
const PAGES = ["/", "/pricing", "/products/shoes", "/checkout", "/account/settings", "/blog/edge-analytics"];
const PII = ["jane.doe@example.com", "+49 151 12345678", "4111 1111 1111 1111", "https://x.example/cb?token=abc123def", "DE89 3704 0044 0532 0130 00"];

/** One event of any type, with a device context, page and properties; `pii` adds a value to redact. */
export function makeEvent(r: () => number, i: number, opts: { runId?: string; devices?: number; device?: number; now?: number } = {}): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const device = opts.device ?? Math.floor(r() * (opts.devices ?? 5000));
  const now = opts.now ?? Date.now();
  const context = {
    library: { name: "telemetry-web", version: "1.4.2" },
    userAgent: pick(UAS),
    locale: "en-US",
    timezone: "Europe/Berlin",
    page: { path: pick(PAGES), url: `https://shop.example${pick(PAGES)}?utm_source=newsletter`, referrer: "https://www.google.com/", title: "Shop" },
    screen: { width: 1440, height: 900, density: 2 },
    campaign: { source: "newsletter", medium: "email", name: "winter-sale" },
    sessionId: `s-${device}-${Math.floor(i / 40)}`,
  };
  const base = {
    messageId: `${opts.runId ?? "m"}-${i}-${Math.floor(r() * 1e9)}`,
    anonymousId: `anon-${device}`,
    ...(r() < 0.4 ? { userId: `user-${device}` } : {}),
    timestamp: new Date(now - Math.floor(r() * 5000)).toISOString(),
    context,
  };
  const pad = "lorem ipsum dolor sit amet ".repeat(2 + Math.floor(r() * 40));
  const props: Record<string, unknown> = { plan: pick(["free", "pro", "team"]), value: Math.round(r() * 10000) / 100, note: pad, items: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 3) }] };
  if (opts.runId) props.run = opts.runId;
  if (r() < 0.2) props.contact = pick(PII);
  const kind = r();
  if (kind < 0.45) return { ...base, type: "track", event: pick(EVENTS), properties: props };
  if (kind < 0.65) return { ...base, type: "page", name: "Shop", properties: props };
  if (kind < 0.72) return { ...base, type: "screen", name: "Checkout", properties: props };
  if (kind < 0.76) return { ...base, type: "identify", userId: `user-${device}`, traits: { plan: "pro", name: "Jane", email: "jane.doe@example.com" } };
  if (kind < 0.84) return { ...base, type: "perf", metric: { name: pick(["LCP", "INP", "CLS", "TTFB", "app_start"]), value: Math.round(r() * 3000), unit: "ms" }, properties: props };
  if (kind < 0.94) {
    return { ...base, type: "network", request: { method: pick(["GET", "POST"]), url: `https://api.example.com/v1/items/${i % 50}?page=2`, status: pick([200, 200, 200, 404, 500]), duration: Math.round(r() * 400), responseBytes: 2048 }, properties: props };
  }
  return {
    ...base,
    type: "crash",
    error: {
      type: pick(["TypeError", "RangeError", "NetworkError"]),
      message: `Cannot read properties of undefined (reading 'id') for ${pick(["jane.doe@example.com", "cart", "user"])}`,
      fatal: r() < 0.3,
      frames: Array.from({ length: 8 }, (_, f) => ({ function: `fn${f}`, file: `https://shop.example/static/app.${f}3f9a2b1c.js`, line: 100 + f, column: 12, inApp: f < 5 })),
    },
    properties: props,
  };
}

/**
 * A batch body of `n` events as the wire contract has it: each event from any of `devices`
 * devices (as a server sends for its users), or all from one when `oneDevice` (as a browser or
 * mobile SDK sends).
 */
export function makeBatch(r: () => number, n: number, offset = 0, opts: { runId?: string; devices?: number; oneDevice?: boolean } = {}): { batch: Array<Record<string, unknown>>; sentAt: string } {
  const device = opts.oneDevice ? Math.floor(r() * (opts.devices ?? 5000)) : undefined;
  return { batch: Array.from({ length: n }, (_, i) => makeEvent(r, offset + i, { ...opts, device })), sentAt: new Date().toISOString() };
}

/** The share of requests that come from servers, each event of another user, in the stack benchmarks' load; the rest come from one device each. */
export const SERVER_SHARE = 0.2;

/**
 * `count` request bodies of `n` events each, `serverShare` of them from a server (events of
 * many users) and the rest from one device each; `@@` in their messageIds is for the sender to
 * make each request's ids new.
 */
export function makeRequests(r: () => number, count: number, n: number, opts: { runId: string; devices: number; serverShare?: number }): string[] {
  const servers = Math.round(count * (opts.serverShare ?? SERVER_SHARE));
  return Array.from({ length: count }, (_, t) => JSON.stringify(makeBatch(r, n, t * n, { runId: opts.runId, devices: opts.devices, oneDevice: t >= servers })));
}
