import { HttpError } from "../../lib/errors";
import { keyFromDsn } from "./auth";
import { itemJson, jsonObject, parseEnvelope } from "./envelope";
import { crashFromEvent } from "./event";
import { sessionBuckets, sessionEvent } from "./session";
import { perfFromSpans } from "./span";
import { perfFromTransaction } from "./transaction";
import { obj, str, type Json } from "./values";

export { keyFromAuthHeader, keyFromDsn } from "./auth";
export { SESSION_EVENT, SESSIONS_EVENT } from "./session";

/** What a Sentry request body translates into. */
export interface SentryBatch {
  /** Our events, unvalidated: the ingest use case checks each one. */
  events: unknown[];
  /** The envelope's `sent_at`, for clock-skew correction. */
  sentAt?: string;
  /** The public key of the envelope header's `dsn`, when it has one. */
  key: string | null;
  /** The id Sentry answers with: the envelope's (or the event's) `event_id`. */
  id: string | null;
}

// Items that carry nothing we keep (client reports, attachments, replays, profiles, check-ins,
// logs…) are accepted and dropped, as an SDK must never see them refused.
function translateItem(type: string, payload: () => Json, sdk: Json, sentAt: string | undefined): unknown[] {
  switch (type) {
    case "event":
      return [crashFromEvent(payload(), sdk)];
    case "transaction":
      return perfFromTransaction(payload(), sdk);
    case "session":
      return [sessionEvent(payload(), sdk)];
    case "sessions":
      return sessionBuckets(payload(), sdk, sentAt);
    case "span":
      return perfFromSpans(payload(), sdk);
    default:
      return [];
  }
}

/**
 * Translates a Sentry envelope (`/api/<project>/envelope/`) into our events: `event` items
 * into `crash`, `transaction` and streamed `span` items into `perf`, `session`/`sessions` into
 * `$session`/`$sessions` tracks; every other item type is ignored. Throws a 400 `HttpError` for an envelope that
 * cannot be parsed or an item payload that is not a JSON object.
 * @example translateEnvelope(bytes).events[0]?.type === "crash"
 */
export function translateEnvelope(bytes: Uint8Array): SentryBatch {
  const envelope = parseEnvelope(bytes);
  const sdk = obj(envelope.headers.sdk);
  const sentAt = str(envelope.headers.sent_at, 64);
  const events: unknown[] = [];
  let eventId = str(envelope.headers.event_id, 64) ?? null;
  envelope.items.forEach((item, index) => {
    const translated = translateItem(item.type, () => itemJson(item, index), sdk, sentAt);
    for (const e of translated) events.push(e);
    if (eventId === null && (item.type === "event" || item.type === "transaction")) eventId = str(obj(translated[0]).messageId, 64) ?? null;
  });
  return { events, sentAt, key: keyFromDsn(envelope.headers.dsn), id: eventId };
}

/**
 * Translates a body of Sentry's older store endpoint (`/api/<project>/store/`): one event as
 * JSON, an error or, with `type: "transaction"`, a transaction.
 * @example translateStore(bytes).id === "fc6d8c0c43fc4630ad850ee518f1b9d0"
 */
export function translateStore(bytes: Uint8Array): SentryBatch {
  if (bytes.length === 0) throw new HttpError(400, "empty_batch", "the body is empty");
  const event = jsonObject(bytes, "the event");
  const events = event.type === "transaction" ? perfFromTransaction(event, {}) : [crashFromEvent(event, {})];
  return { events, key: null, id: str(event.event_id, 64) ?? null };
}
