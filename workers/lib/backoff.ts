/**
 * Exponential backoff with "equal jitter" for the Worker's own retries (queue redeliveries,
 * inserts, archive writes): half the delay is fixed, half random, so consumers that failed
 * together do not come back together. `backoff(3) // between 4 and 8 s`.
 */
export function backoff(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const full = Math.min(capMs, baseMs * 2 ** attempt);
  return full / 2 + random() * (full / 2);
}
