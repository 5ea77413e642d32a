import { HttpError } from "../../lib/errors";
import { obj, type Json } from "./values";

/** One item of a Sentry envelope: its header and its payload bytes, unparsed. */
export interface EnvelopeItem {
  type: string;
  headers: Json;
  payload: Uint8Array;
}

/** A parsed Sentry envelope: `{"event_id":…,"dsn":…,"sent_at":…}` and its items. */
export interface Envelope {
  headers: Json;
  items: EnvelopeItem[];
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function invalid(message: string): HttpError {
  return new HttpError(400, "invalid_body", `invalid envelope: ${message}`);
}

/** Parses a JSON line as an object, or throws a 400 naming `what`. */
export function jsonObject(bytes: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new HttpError(400, "invalid_json", `${what} is not valid JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new HttpError(400, "invalid_body", `${what} is not a JSON object`);
  return value as Json;
}

/**
 * Parses the envelope format Sentry SDKs send: a JSON header line, then items made of a JSON
 * header line and a payload that is either `length` bytes (then a newline, optional at the
 * end) or, without `length`, the rest of the line. Throws a 400 `HttpError` for a truncated
 * envelope, a wrong length or a header that is not a JSON object.
 * @example parseEnvelope(bytes).items[0]?.type === "event"
 */
export function parseEnvelope(bytes: Uint8Array): Envelope {
  let pos = 0;
  const line = (): Uint8Array => {
    let end = bytes.indexOf(NEWLINE, pos);
    if (end < 0) end = bytes.length;
    const out = bytes.subarray(pos, end);
    pos = end + 1;
    return out;
  };
  const first = line();
  if (first.length === 0) throw invalid("the envelope header is missing");
  const headers = jsonObject(first, "the envelope header");
  const items: EnvelopeItem[] = [];
  while (pos < bytes.length) {
    const headerLine = line();
    // Blank lines between or after items carry nothing.
    if (headerLine.length === 0 || (headerLine.length === 1 && headerLine[0] === 0x0d)) continue;
    const index = items.length;
    const itemHeaders = jsonObject(headerLine, `the header of item ${index}`);
    const type = typeof itemHeaders.type === "string" ? itemHeaders.type : "";
    if (type === "") throw invalid(`item ${index} has no type`);
    const length = itemHeaders.length;
    let payload: Uint8Array;
    if (length === undefined || length === null) {
      payload = pos <= bytes.length ? line() : new Uint8Array(0);
    } else {
      if (typeof length !== "number" || !Number.isInteger(length) || length < 0) throw invalid(`item ${index} has an invalid length`);
      if (pos + length > bytes.length) throw invalid(`item ${index} is shorter than its length of ${length} bytes`);
      payload = bytes.subarray(pos, pos + length);
      pos += length;
      if (pos < bytes.length) {
        if (bytes[pos] !== NEWLINE) throw invalid(`item ${index} is longer than its length of ${length} bytes`);
        pos += 1;
      }
    }
    items.push({ type, headers: itemHeaders, payload });
  }
  return { headers, items };
}

/** An item's payload as a JSON object, or a 400 naming the item. */
export function itemJson(item: EnvelopeItem, index: number): Json {
  return obj(jsonObject(item.payload, `the payload of item ${index} (${item.type})`));
}
