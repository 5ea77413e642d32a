import { Buffer } from "node:buffer";
import { gunzipSync, gzipSync } from "node:zlib";

// zlib's fastest level: it packs event rows nearly as small as the default level at a third
// of its CPU, and a message only needs to pack below one 64 KB unit of the queue's billing.
const LEVEL = 1;

/**
 * `text` as one gzip member. Members laid end to end read back as their texts joined, so an
 * AppBatcher packs each chunk of rows once, when it stores them, and builds a message's body
 * from the members it holds without packing its rows again (decision record 0033).
 */
export function packText(text: string): Uint8Array {
  return gzipSync(text, { level: LEVEL });
}

/** Members end to end, as one body. */
export function joinMembers(members: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(members);
}

/**
 * A queue message's body as text: bytes unpacked (one gzip member, or several end to end), a
 * text body (counters, and messages queued before bodies were packed) as it is; null when it
 * is neither. `queueBodyText(packText("a")) === "a"`.
 */
export function queueBodyText(body: unknown): string | null {
  if (typeof body === "string") return body;
  if (!(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) return null;
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  try {
    return new TextDecoder().decode(gunzipSync(bytes));
  } catch {
    return null;
  }
}
