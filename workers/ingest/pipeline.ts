import { Event, LIMITS, utf8Length, type EventRejection } from "../../schemas";
import { normalizeEvent, type NormalizedEvent, type RequestFacts } from "./normalize";
import { parseTime } from "./skew";

/** The accepted rows of a batch and why the others were not. */
export interface PreparedBatch {
  events: NormalizedEvent[];
  rejected: EventRejection[];
}

// Bounded by `limit`, so hostile nesting cannot exhaust the stack.
function depthExceeds(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) return value.some((v) => depthExceeds(v, limit - 1));
  for (const k in value) {
    if (depthExceeds((value as Record<string, unknown>)[k], limit - 1)) return true;
  }
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
    const text = JSON.stringify(raw) ?? "";
    if (text.length > LIMITS.maxEventBytes || (text.length * 3 > LIMITS.maxEventBytes && utf8Length(text) > LIMITS.maxEventBytes)) {
      return reject("event_too_large", `event is larger than ${LIMITS.maxEventBytes} bytes`);
    }
    if (depthExceeds(raw, LIMITS.maxDepth)) return reject("too_deep", `event nests deeper than ${LIMITS.maxDepth} levels`);
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
      events.push(normalizeEvent(e, facts, e.messageId || crypto.randomUUID()));
    } catch (err) {
      console.error("normalize failed", err);
      reject("invalid_event", "event could not be processed");
    }
  });
  return { events, rejected };
}
