// The same fixture events as each vendor's client sends them, for the edge CPU benchmark: a
// Segment `/v1/b` batch, a PostHog `/batch/` body, and Sentry envelopes (one error event each,
// as Sentry's SDKs send them).
import { makeEvent } from "./fixtures";

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string => (typeof v === "string" ? v : "");

/** A `/v1/b` body from analytics.js: the batch with the write key on it. */
export function segmentBatch(r: () => number, n: number, offset: number): string {
  const batch = Array.from({ length: n }, (_, i) => makeEvent(r, offset + i));
  return JSON.stringify({ batch, sentAt: new Date().toISOString(), writeKey: "wk_bench" });
}

const POSTHOG_NAMES: Record<string, string> = { page: "$pageview", screen: "$screen", identify: "$identify", crash: "$exception" };

/** A posthog `/batch/` body: the same events with PostHog's names and `$` properties. */
export function posthogBatch(r: () => number, n: number, offset: number): string {
  const batch = Array.from({ length: n }, (_, i) => {
    const e = makeEvent(r, offset + i);
    const ctx = obj(e.context);
    const page = obj(ctx.page);
    const properties: Json = {
      ...obj(e.properties),
      $current_url: text(page.url),
      $pathname: text(page.path),
      $referrer: text(page.referrer),
      $lib: "web",
      $lib_version: "1.449.2",
      $os: "Mac OS X",
      $browser: "Chrome",
      $session_id: text(ctx.sessionId),
      $device_id: text(e.anonymousId),
    };
    if (e.type === "identify") properties.$set = e.traits;
    if (e.type === "crash") {
      const error = obj(e.error);
      properties.$exception_list = [{ type: error.type, value: error.message, stacktrace: { frames: error.frames } }];
    }
    return {
      event: POSTHOG_NAMES[text(e.type)] ?? (text(e.event) || text(e.type)),
      distinct_id: text(e.userId) || text(e.anonymousId),
      uuid: e.messageId,
      timestamp: e.timestamp,
      properties,
    };
  });
  return JSON.stringify({ api_key: "wk_bench", batch, sent_at: new Date().toISOString() });
}

/** `n` Sentry envelopes of one error event each, with an eight-frame stack, contexts and breadcrumbs. */
export function sentryEnvelopes(r: () => number, n: number, offset: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const e = makeEvent(r, offset + i);
    const id = `${(offset + i).toString(16).padStart(8, "0")}${"0".repeat(24)}`;
    const header = { event_id: id, sent_at: new Date().toISOString(), dsn: "http://wk_bench@127.0.0.1:8787/1", sdk: { name: "sentry.javascript.browser", version: "11.12.0" } };
    const event = {
      event_id: id,
      timestamp: Date.parse(text(e.timestamp)) / 1000,
      platform: "javascript",
      level: "error",
      release: "shop@1.4.2",
      environment: "production",
      user: { id: text(e.userId) || undefined, ip_address: "{{auto}}" },
      exception: {
        values: [
          {
            type: "TypeError",
            value: "Cannot read properties of undefined (reading 'id')",
            mechanism: { type: "onerror", handled: false },
            stacktrace: { frames: Array.from({ length: 8 }, (_, f) => ({ function: `fn${f}`, filename: `https://shop.example/static/app.${f}3f9a2b1c.js`, lineno: 100 + f, colno: 12, in_app: f < 5 })) },
          },
        ],
      },
      contexts: { os: { name: "Mac OS X", version: "10.15.7" }, browser: { name: "Chrome", version: "120.0.0" } },
      request: { url: text(obj(obj(e.context).page).url), headers: { "User-Agent": text(obj(e.context).userAgent) } },
      breadcrumbs: Array.from({ length: 5 }, (_, b) => ({ timestamp: Date.now() / 1000 - b, category: "ui.click", message: `button#buy-${b}` })),
      tags: { plan: "pro" },
    };
    const payload = JSON.stringify(event);
    return `${JSON.stringify(header)}\n${JSON.stringify({ type: "event", length: new TextEncoder().encode(payload).length })}\n${payload}\n`;
  });
}
