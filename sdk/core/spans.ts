import type { Props } from "./types";

/**
 * A timed operation: the root of a transaction, or a child within it.
 * `const s = t.startSpan("checkout", {op: "ui.action"}); const q = s.startChild("db.query", "SELECT …"); q.end(); s.end()`
 */
export interface Span {
  /** Starts a child of the same transaction (children may have children): `span.startChild("http.client", "POST /api/orders")`. */
  startChild(op: string, description?: string): Span;
  /** How it went, e.g. `"error"`; `"ok"` unless set. Returns the span: `span.setStatus("error").end()`. */
  setStatus(status: string): Span;
  /** Ends it. Ending the root sends the transaction and its children that have ended; later calls do nothing. */
  end(): void;
}

/** How a transaction is described: `{op: "ui.action", properties: {cart: 3}}`. */
export interface SpanOptions {
  /** The kind of work, e.g. `"http.server"`, `"ui.action"`. */
  op?: string;
  /** Added to the transaction's event. */
  properties?: Props;
}

/** Children recorded per transaction at most; later ones are timed but not sent. */
export const MAX_CHILD_SPANS = 100;

/** Records one perf event: its metric name, its value in ms, when it started (epoch ms) and its properties. */
export type SpanSink = (name: string, ms: number, at: number, properties: Props) => void;

interface Timing {
  op?: string;
  description?: string;
  status: string;
  at: number;
  start: number;
  ms?: number;
}

// Monotonic where the platform has it: a wall clock set back mid-span must not make it negative.
const clock = (): number => (globalThis as { performance?: { now(): number } }).performance?.now() ?? Date.now();

/**
 * Starts a transaction that reports to `sink` when its root ends, or to nobody when `sink` is
 * undefined (sampled out): the same shape as a Sentry transaction at the edge, one perf event
 * named by the transaction (`kind: "transaction"`) and one per ended child named by its op
 * (`kind: "span"`, `transaction` = the root's name).
 * `startSpan("checkout", {op: "ui.action"}, sink)`
 */
export function startSpan(rawName: string, options: SpanOptions = {}, sink?: SpanSink): Span {
  // The edge takes metric names up to 128 characters; spans repeat their transaction's exactly.
  const name = rawName.slice(0, 128) || "transaction";
  const children: Timing[] = [];
  let open = true;
  const timing = (op?: string, description?: string): Timing => ({ op: op?.slice(0, 128), description: description?.slice(0, 1024), status: "ok", at: Date.now(), start: clock() });
  const ms = (t: Timing): number => Math.round(Math.max(0, clock() - t.start) * 1000) / 1000;
  const spanOf = (t: Timing, root: boolean): Span => {
    const span: Span = {
      startChild: (op, description) => {
        const child = timing(op, description);
        if (open && children.length < MAX_CHILD_SPANS) children.push(child);
        return spanOf(child, false);
      },
      setStatus: (status) => {
        t.status = status;
        return span;
      },
      end: () => {
        if (t.ms !== undefined) return;
        t.ms = ms(t);
        if (!root) return;
        open = false;
        // A child still running when its transaction ends has no duration to report.
        const ended = children.filter((c) => c.ms !== undefined);
        sink?.(name, t.ms, t.at, { ...options.properties, kind: "transaction", transaction: name, ...(options.op ? { op: options.op } : {}), status: t.status, spans: ended.length });
        for (const c of ended) sink?.(c.op || "span", c.ms ?? 0, c.at, { kind: "span", transaction: name, op: c.op, ...(c.description ? { description: c.description } : {}), status: c.status });
      },
    };
    return span;
  };
  return spanOf(timing(options.op), true);
}

/**
 * Runs `fn` inside `span` and ends it when `fn` returns or its promise settles; a throw or a
 * rejection sets the status `"error"` and is passed on.
 * `const rows = await timed(t.startSpan("load"), (s) => db.query(sql))`
 */
export function timed<T>(span: Span, fn: (span: Span) => T): T {
  const fail = (err: unknown): never => {
    span.setStatus("error").end();
    throw err;
  };
  let out: T;
  try {
    out = fn(span);
  } catch (err) {
    return fail(err);
  }
  const pending = out as { then?: unknown } | null | undefined;
  if (typeof pending?.then === "function") return Promise.resolve(out).then((v) => (span.end(), v), fail) as T;
  span.end();
  return out;
}
