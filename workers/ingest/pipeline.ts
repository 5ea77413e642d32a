import { encodeEventRow, LIMITS, utf8Length, type EventRejection } from "../../schemas";
import { HttpError } from "../lib/errors";
import { checkEvent } from "./event-check";
import { normalizeEvent, type NormalizedEvent, type RequestFacts } from "./normalize";
import { parseTime } from "./skew";
import { errorText, log } from "../lib/log";
import type { Placeable } from "../apps/shards";

/** A normalized event with its row serialized as it will be stored. */
export interface PreparedEvent extends NormalizedEvent {
  encoded: string;
  /** UTF-8 size of `encoded`. */
  bytes: number;
}

/** What places a prepared event on its app's shards: its ids as stored. */
export const placeOf = (e: NormalizedEvent): Placeable => ({ messageId: e.messageId, anonymousId: e.row.anonymous_id, userId: e.row.user_id });

/** The accepted rows of a batch and why the others were not. */
export interface PreparedBatch {
  events: PreparedEvent[];
  rejected: EventRejection[];
  /** The accepted rows' size as stored. */
  bytes: number;
}

const TOO_DEEP = -1;

/**
 * The JSON size of a value in one walk that also enforces the depth limit (bounded by it, so
 * hostile nesting cannot exhaust the stack). Strings count by UTF-16 length, which equals
 * their UTF-8 size for ASCII; callers near the limit check the exact size.
 */
function measure(value: unknown, depthLeft: number): number {
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
      return 12;
    case "boolean":
      return 5;
    case "object": {
      if (value === null) return 4;
      if (depthLeft <= 0) return TOO_DEEP;
      let size = 2;
      // Strings, the most common members, are counted here rather than in a call of their own.
      if (Array.isArray(value)) {
        for (const item of value) {
          const n = typeof item === "string" ? item.length + 2 : measure(item, depthLeft - 1);
          if (n === TOO_DEEP) return TOO_DEEP;
          size += n + 1;
        }
        return size;
      }
      for (const k in value) {
        const item = (value as Record<string, unknown>)[k];
        const n = typeof item === "string" ? item.length + 2 : measure(item, depthLeft - 1);
        if (n === TOO_DEEP) return TOO_DEEP;
        size += k.length + 4 + n;
      }
      return size;
    }
    default:
      return 0;
  }
}

// `estimate` may overcount an event whose own context replaces the batch's fields: then the
// merged event is measured exactly before it is refused. No closure per event: this runs for
// every event of every batch.
function tooLarge(raw: unknown, context: Record<string, unknown> | undefined, estimate: number): boolean {
  if (estimate > LIMITS.maxEventBytes && context === undefined) return true;
  // Multi-byte text or escapes could still push a large event over: measure it exactly.
  if (estimate * 3 > LIMITS.maxEventBytes) return utf8Length(JSON.stringify(context ? withContext(raw, context) : raw) ?? "") > LIMITS.maxEventBytes;
  return false;
}

// The event as its row will hold it: the batch context under the event's own fields.
function withContext(raw: unknown, context: Record<string, unknown>): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const own = (raw as { context?: unknown }).context;
  const ownCtx = own !== null && typeof own === "object" && !Array.isArray(own) ? own : {};
  return { ...raw, context: { ...context, ...ownCtx } };
}

/**
 * Checks a batch-level `context`, which every event of the batch takes over: it must fit the
 * limits of one event (one level under the event), or the request is refused with a 400.
 * Returns its measured size.
 */
export function checkBatchContext(context: Record<string, unknown> | undefined): number {
  if (context === undefined) return 0;
  const size = measure(context, LIMITS.maxDepth - 1);
  if (size === TOO_DEEP) throw new HttpError(400, "invalid_body", `context: the batch context nests deeper than ${LIMITS.maxDepth - 1} levels`);
  if (size > LIMITS.maxEventBytes || (size * 3 > LIMITS.maxEventBytes && utf8Length(JSON.stringify(context)) > LIMITS.maxEventBytes)) {
    throw new HttpError(400, "invalid_body", `context: the batch context is larger than ${LIMITS.maxEventBytes} bytes`);
  }
  return size;
}

/** Refuses a request whose rows as stored would pass the per-request limit. */
export function checkStoredSize(prepared: PreparedBatch): HttpError | null {
  if (prepared.bytes <= LIMITS.maxRequestRowBytes) return null;
  return new HttpError(413, "batch_too_large", `the batch's events take more than ${LIMITS.maxRequestRowBytes} bytes as stored (the batch context is repeated in each): send fewer events per request`);
}

function messageIdOf(raw: unknown): string | null {
  if (raw === null || typeof raw !== "object") return null;
  const id = (raw as { messageId?: unknown }).messageId;
  return typeof id === "string" || typeof id === "number" ? String(id) : null;
}

type Refusal = Pick<EventRejection, "code" | "message">;

const refusal = (code: EventRejection["code"], message: string): Refusal => ({ code, message });

/** One event of a batch as stored, or why it is refused. */
function prepareEvent(raw: unknown, facts: RequestFacts, contextSize: number): PreparedEvent | Refusal {
  const context = facts.context;
  const estimate = measure(raw, LIMITS.maxDepth);
  if (estimate === TOO_DEEP) return refusal("too_deep", `event nests deeper than ${LIMITS.maxDepth} levels`);
  if (tooLarge(raw, context, estimate + contextSize)) {
    return refusal("event_too_large", `event is larger than ${LIMITS.maxEventBytes} bytes${context ? " with the batch context" : ""}`);
  }
  const checked = checkEvent(raw);
  if (!checked.ok) return refusal("invalid_event", checked.message);
  const e = checked.event;
  if (e.timestamp !== undefined && parseTime(e.timestamp) === null) {
    return refusal("invalid_timestamp", "timestamp is not an ISO-8601 time or epoch milliseconds after 2000");
  }
  try {
    const normalized = normalizeEvent(e, facts, e.messageId || crypto.randomUUID());
    if (normalized.timestampMs < facts.receivedAt - LIMITS.maxAgeMs) {
      return refusal("invalid_timestamp", `timestamp is older than the ${LIMITS.maxAgeMs / 86_400_000}-day retention of raw events`);
    }
    const encoded = encodeEventRow(normalized.row);
    const size = utf8Length(encoded);
    if (size > LIMITS.maxRowBytes) {
      return refusal("event_too_large", `event is larger than ${LIMITS.maxRowBytes} bytes as stored (with the batch context, enrichment and redaction)`);
    }
    // Written out: a spread copy that then grows members takes V8's slow path, microseconds each.
    return { messageId: normalized.messageId, timestampMs: normalized.timestampMs, row: normalized.row, encoded, bytes: size };
  } catch (err) {
    log.error("ingest.normalize_failed", { error: errorText(err) });
    return refusal("invalid_event", "event could not be processed");
  }
}

/**
 * Runs every event of a batch through size and depth limits (with the batch context merged
 * in), schema validation, normalization and the limit on the row as stored; one bad event is
 * rejected alone with its index and reason. A bad batch context throws a 400 `HttpError`.
 */
export function prepareBatch(batch: readonly unknown[], facts: RequestFacts): PreparedBatch {
  const contextSize = checkBatchContext(facts.context);
  const events: PreparedEvent[] = [];
  const rejected: EventRejection[] = [];
  let bytes = 0;
  // A plain loop: no closure is made per event (Wrangler's bundles keep function names, which
  // costs a property definition for each closure made).
  for (let index = 0; index < batch.length; index++) {
    const raw = batch[index];
    const out = prepareEvent(raw, facts, contextSize);
    if ("encoded" in out) {
      events.push(out);
      bytes += out.bytes;
    } else {
      rejected.push({ index, messageId: messageIdOf(raw), code: out.code, message: out.message });
    }
  }
  return { events, rejected, bytes };
}
