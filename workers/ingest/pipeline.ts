import { Event, LIMITS, utf8Length, type EventRejection } from "../../schemas";
import { normalizeEvent, type NormalizedEvent, type RequestFacts } from "./normalize";
import { parseTime } from "./skew";

/** The accepted rows of a batch and why the others were not. */
export interface PreparedBatch {
  events: NormalizedEvent[];
  rejected: EventRejection[];
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
      if (Array.isArray(value)) {
        for (const item of value) {
          const n = measure(item, depthLeft - 1);
          if (n === TOO_DEEP) return TOO_DEEP;
          size += n + 1;
        }
        return size;
      }
      for (const k in value) {
        const n = measure((value as Record<string, unknown>)[k], depthLeft - 1);
        if (n === TOO_DEEP) return TOO_DEEP;
        size += k.length + 4 + n;
      }
      return size;
    }
    default:
      return 0;
  }
}

function tooLarge(raw: unknown, estimate: number): boolean {
  if (estimate > LIMITS.maxEventBytes) return true;
  // Multi-byte text or escapes could still push a large event over: measure it exactly.
  if (estimate * 3 > LIMITS.maxEventBytes) return utf8Length(JSON.stringify(raw) ?? "") > LIMITS.maxEventBytes;
  return false;
}

function messageIdOf(raw: unknown): string | null {
  if (raw === null || typeof raw !== "object") return null;
  const id = (raw as { messageId?: unknown }).messageId;
  return typeof id === "string" || typeof id === "number" ? String(id) : null;
}

/**
 * Runs every event of a batch through size and depth limits, schema validation and
 * normalization; one bad event is rejected alone with its index and reason.
 */
export function prepareBatch(batch: readonly unknown[], facts: RequestFacts): PreparedBatch {
  const events: NormalizedEvent[] = [];
  const rejected: EventRejection[] = [];
  batch.forEach((raw, index) => {
    const reject = (code: EventRejection["code"], message: string) => rejected.push({ index, messageId: messageIdOf(raw), code, message });
    const estimate = measure(raw, LIMITS.maxDepth);
    if (estimate === TOO_DEEP) return reject("too_deep", `event nests deeper than ${LIMITS.maxDepth} levels`);
    if (tooLarge(raw, estimate)) return reject("event_too_large", `event is larger than ${LIMITS.maxEventBytes} bytes`);
    const parsed = Event.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      return reject("invalid_event", `${where}${issue?.message ?? "invalid event"}`);
    }
    const e = parsed.data;
    if (e.timestamp !== undefined && parseTime(e.timestamp) === null) {
      return reject("invalid_timestamp", "timestamp is not an ISO-8601 time or epoch milliseconds after 2000");
    }
    try {
      const normalized = normalizeEvent(e, facts, e.messageId || crypto.randomUUID());
      if (normalized.timestampMs < facts.receivedAt - LIMITS.maxAgeMs) {
        return reject("invalid_timestamp", `timestamp is older than the ${LIMITS.maxAgeMs / 86_400_000}-day retention of raw events`);
      }
      events.push(normalized);
    } catch (err) {
      console.error("normalize failed", err);
      reject("invalid_event", "event could not be processed");
    }
  });
  return { events, rejected };
}
