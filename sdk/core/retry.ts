/**
 * What to do with a batch after an answer, e.g. `{kind: "retry", afterMs: 30000, counts: true}`.
 * `counts` is false for lost connections: being offline is normal and never gives up on events.
 */
export type Verdict =
  | { kind: "sent" }
  | { kind: "retry"; afterMs?: number; counts: boolean }
  | { kind: "split" }
  | { kind: "drop" };

/** Classifies an answer as the wire contract implies: `classify(429, "30") // {kind: "retry", afterMs: 30000, counts: true}`. */
export function classify(status: number, retryAfter?: string | null): Verdict {
  if (status === 0) return { kind: "retry", counts: false };
  if (status >= 200 && status < 300) return { kind: "sent" };
  if (status === 413) return { kind: "split" };
  if (status === 408 || status === 429 || status >= 500) {
    const afterMs = parseRetryAfter(retryAfter);
    return afterMs === undefined ? { kind: "retry", counts: true } : { kind: "retry", afterMs, counts: true };
  }
  return { kind: "drop" };
}

/** `Retry-After` in ms, from seconds or an HTTP date: `parseRetryAfter("2") === 2000`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so many
 * devices coming back online together spread out. `backoff(3) // between 4 and 8 s`.
 */
export function backoff(attempt: number, baseMs = 1000, capMs = 60_000, random = Math.random): number {
  const full = Math.min(capMs, baseMs * 2 ** attempt);
  return full / 2 + random() * (full / 2);
}
