import type { BatchResponse } from "../../schemas";
import type { Queue } from "./queue";
import { backoff, classify } from "./retry";
import type { Transport, WireEvent } from "./types";

// The edge takes 1 MB per body; staying at half leaves room for multi-byte characters.
const MAX_BODY_CHARS = 500_000;
// Browsers allow 64 KB of keepalive and beacon bodies in flight at once.
const BEACON_CHARS = 60_000;

/** What the sender needs: the queue, where to send and how to react, e.g. from `createClient`. */
export interface SenderOptions {
  queue: Queue;
  transport: Transport;
  endpoint: string;
  writeKey: string;
  batchSize: number;
  maxRetries: number;
  warn(message: string): void;
  /** Arms a timer; the returned function disarms it. */
  later(fn: () => void, ms: number): () => void;
}

/** Sends the queue in batches; see `createSender`. */
export interface Sender {
  /** Sends until the queue is empty or the edge asks to wait; `force` ignores a pending wait. */
  flush(force?: boolean): Promise<void>;
  /** Sends in the next `ms` unless a send is already planned sooner. */
  schedule(ms: number): void;
  /** Hands the whole queue to `send` in small text/plain bodies, for a page that is going away. */
  beacon(send: (url: string, body: string) => boolean): void;
  stop(): void;
}

function rejectedOf(body: unknown): BatchResponse["rejected"] {
  const r = (body as Partial<BatchResponse> | undefined)?.rejected;
  return Array.isArray(r) ? r : [];
}

function errorOf(body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return e ? `${e.code ?? ""}: ${e.message ?? ""}` : "";
}

/**
 * Sends one batch at a time and classifies each answer (see `classify`): lost connections and
 * 408/429/5xx wait with backoff (or `Retry-After`) and try again; 413 halves the batch; any
 * other 4xx drops it with a warning; events the edge rejects one by one are reported.
 * `createSender({queue, transport, endpoint, writeKey, batchSize: 100, maxRetries: 10, warn, later})`
 */
export function createSender(o: SenderOptions): Sender {
  const url = `${o.endpoint}/v1/batch`;
  const headers = { authorization: `Basic ${btoa(`${o.writeKey}:`)}`, "content-type": "application/json" };
  let limit = o.batchSize;
  let failures = 0;
  let attempts = 0;
  let blockedUntil = 0;
  let disarm: (() => void) | undefined;
  let due = Infinity;
  let tail: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;

  const drop = (batch: readonly WireEvent[], why: string): void => {
    o.warn(`dropped ${batch.length} event(s): ${why}`);
    o.queue.remove(batch);
  };

  const schedule = (ms: number): void => {
    if (Date.now() + ms >= due) return;
    disarm?.();
    due = Date.now() + ms;
    disarm = o.later(() => {
      due = Infinity;
      void flush();
    }, ms);
  };

  const loop = async (force: boolean): Promise<void> => {
    try {
      await rounds(force);
    } finally {
      o.queue.save();
    }
  };

  const rounds = async (force: boolean): Promise<void> => {
    while (o.queue.items.length > 0) {
      if (!force && Date.now() < blockedUntil) return schedule(blockedUntil - Date.now());
      const batch = o.queue.items.slice(0, limit);
      const body = JSON.stringify({ batch, sentAt: new Date().toISOString() });
      if (body.length > MAX_BODY_CHARS && batch.length > 1) {
        limit = Math.ceil(batch.length / 2);
        continue;
      }
      const res = await o.transport({ url, method: "POST", headers, body });
      const verdict = classify(res.status, res.retryAfter);
      if (verdict.kind === "retry") {
        if (verdict.counts && ++attempts > o.maxRetries) {
          drop(batch, `the edge answered ${res.status} ${attempts} times`);
          attempts = 0;
          continue;
        }
        const wait = verdict.afterMs ?? backoff(failures++);
        blockedUntil = Date.now() + wait;
        return schedule(wait);
      }
      if (verdict.kind === "split" && batch.length > 1) {
        limit = Math.ceil(batch.length / 2);
        continue;
      }
      if (verdict.kind === "sent") {
        const rejected = rejectedOf(res.body);
        if (rejected.length) o.warn(`the edge rejected ${rejected.length} event(s): ${rejected.map((r) => `#${r.index} ${r.code}: ${r.message}`).join("; ")}`);
        o.queue.remove(batch);
        // Grow back gradually after a split instead of hitting 413 again at once.
        limit = Math.min(o.batchSize, limit * 2);
      } else drop(batch, `the edge answered ${res.status} ${errorOf(res.body)}`);
      failures = attempts = blockedUntil = 0;
    }
  };

  const flush = (force = false): Promise<void> => {
    // One send at a time; calls made while one runs share the next round.
    if (waiting && !force) return waiting;
    const next = tail.then(() => {
      if (waiting === next) waiting = undefined;
      return loop(force);
    });
    waiting = next;
    tail = next.catch((err: unknown) => o.warn(`sending failed: ${String(err)}`));
    return tail;
  };

  return {
    flush,
    schedule,
    beacon(send) {
      const ship = (batch: WireEvent[]): boolean => {
        const ok = batch.length === 0 || send(url, JSON.stringify({ batch, sentAt: new Date().toISOString(), writeKey: o.writeKey }));
        if (ok) o.queue.remove(batch);
        return ok;
      };
      let batch: WireEvent[] = [];
      let chars = 0;
      for (const e of [...o.queue.items]) {
        const n = JSON.stringify(e).length;
        if (batch.length && chars + n > BEACON_CHARS) {
          if (!ship(batch)) return o.queue.save();
          batch = [];
          chars = 0;
        }
        batch.push(e);
        chars += n;
      }
      ship(batch);
      o.queue.save();
    },
    stop() {
      disarm?.();
      due = Infinity;
    },
  };
}
