// One delivery attempt, and when to try again. The queue consumer calls `attemptDelivery` per
// message and re-queues with the delay `nextAttemptAt` gives, until a 2xx or the 24 h limit.
import { backoff } from "../../lib/backoff";
import { signedHeaders } from "./sign";
import { checkWebhookUrl } from "./url-guard";

// How long a receiver has to answer before the attempt counts as failed: long enough for a slow
// receiver, short enough that six at a time do not hold a consumer for long.
const DELIVERY_TIMEOUT_MS = 10_000;
/** The most of a receiver's answer the log keeps, in bytes. */
export const EXCERPT_BYTES = 1024;
/** Retries stop this long after the first attempt. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;
const RETRY_BASE_MS = 30_000;
const RETRY_CAP_MS = 60 * 60_000;

/** What to send: the delivery id (the `webhook-id`), the exact body, the endpoint's live secrets. */
export interface DeliveryRequest {
  url: string;
  id: string;
  body: string;
  secrets: readonly string[];
  localMode?: boolean;
  timeoutMs?: number;
}

/** How one attempt went, as the log shows it: the status code, and an error when there was none or it was a redirect. */
export interface AttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  latencyMs: number;
  excerpt: string;
  /** Set when the URL was refused without a request: no retry can change that. */
  refused?: true;
}

async function readExcerpt(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // A receiver that streams megabytes back must not hold the attempt open.
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  let text = new TextDecoder().decode(bytes.subarray(0, EXCERPT_BYTES));
  // A character cut in half decodes as U+FFFD, which may be longer than the bytes it replaced.
  while (new TextEncoder().encode(text).byteLength > EXCERPT_BYTES) text = text.slice(0, -1);
  return text;
}

function describeError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `timed out after ${timeoutMs / 1000} s`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * POSTs the signed body once. Redirects are answers, never followed (a 3xx could point anywhere,
 * past the URL check), so only a 2xx is a success. The URL is checked again here because it may
 * have been stored before the rules tightened.
 */
export async function attemptDelivery(req: DeliveryRequest, fetchFn: typeof fetch = fetch): Promise<AttemptResult> {
  const timeoutMs = req.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const checked = checkWebhookUrl(req.url, { localMode: req.localMode });
  if (!checked.ok) return { ok: false, status: null, error: `refused: ${checked.reason}`, latencyMs: 0, excerpt: "", refused: true };
  const started = Date.now();
  try {
    const headers = await signedHeaders(req.secrets, req.id, req.body, started);
    const res = await fetchFn(checked.url.toString(), {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "edge-telemetry-webhooks/1" },
      body: req.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const latencyMs = Date.now() - started;
    const excerpt = await readExcerpt(res).catch(() => "");
    const ok = res.status >= 200 && res.status < 300;
    const location = res.headers.get("location");
    const error = res.status >= 300 && res.status < 400 ? `redirect not followed${location ? ` (to ${location})` : ""}` : null;
    return { ok, status: res.status, error, latencyMs, excerpt };
  } catch (e) {
    return { ok: false, status: null, error: describeError(e, timeoutMs), latencyMs: Date.now() - started, excerpt: "" };
  }
}

/**
 * When to try again after `attempts` failed attempts, the first at `firstAt`: exponential from
 * 30 s with jitter, at most an hour apart, and a last try at the 24 h mark; null once that has
 * passed. `nextAttemptAt(1, t, t) // between t + 15 s and t + 30 s`.
 */
export function nextAttemptAt(attempts: number, firstAt: number, now: number, random: () => number = Math.random): number | null {
  const deadline = firstAt + GIVE_UP_AFTER_MS;
  if (now >= deadline) return null;
  return Math.min(deadline, now + Math.round(backoff(Math.max(0, attempts - 1), RETRY_BASE_MS, RETRY_CAP_MS, random)));
}
