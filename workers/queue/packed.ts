import { gunzipSync, gzipSync } from "node:zlib";

// zlib's fastest level: it packs event rows nearly as small as the default level at a third
// of its CPU, and a message only needs to pack below one 64 KB unit of the queue's billing.
const LEVEL = 1;

// A message's header member names its own length in its gzip header's extra field (RFC 1952,
// 2.3.1.1: gzip readers skip it), as subfield "EL" of 4 bytes, little-endian.
const FEXTRA = 0x04;
const SUBFIELD = [0x45, 0x4c] as const;
const BASE_HEADER = 10;
const EXTRA_BYTES = 2 + 4 + 4;

/**
 * `text` as one gzip member. Members laid end to end read back as their texts joined, so an
 * AppBatcher packs each chunk of rows once, when it stores them, and builds a message's body
 * from the members it holds without packing its rows again (decision record 0033).
 */
export function packText(text: string): Uint8Array {
  return gzipSync(text, { level: LEVEL });
}

/** Members end to end, as one body. */
export function joinMembers(members: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(members.reduce((n, m) => n + m.byteLength, 0));
  let at = 0;
  for (const m of members) {
    joined.set(m, at);
    at += m.byteLength;
  }
  return joined;
}

/** The text of one gzip member, or of several end to end; throws when `bytes` are not gzip. */
export function unpackText(bytes: Uint8Array): string {
  return new TextDecoder().decode(gunzipSync(bytes));
}

/**
 * A message: its header's member, which names its own length, then its rows' members as the
 * batcher stored them. Any gzip reader reads it as the header line and the rows (as 0033's
 * messages); a sink reads the header alone and hands the members to ClickHouse as they are
 * (decision record 0034).
 */
export function frameMessage(head: string, members: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const plain = packText(head);
  // zlib writes the minimal header: no flags, so the extra field can go right after it.
  if (plain[3] !== 0) throw new Error("unexpected gzip header flags");
  const first = new Uint8Array(plain.byteLength + EXTRA_BYTES);
  first.set(plain.subarray(0, BASE_HEADER));
  first[3] = FEXTRA;
  const view = new DataView(first.buffer);
  view.setUint16(BASE_HEADER, 8, true);
  first.set(SUBFIELD, BASE_HEADER + 2);
  view.setUint16(BASE_HEADER + 4, 4, true);
  view.setUint32(BASE_HEADER + 6, first.byteLength, true);
  first.set(plain.subarray(BASE_HEADER), BASE_HEADER + EXTRA_BYTES);
  return joinMembers([first, ...members]);
}

/** A framed message's header line and its rows' members; null for any other body. */
export function readFrame(body: unknown): { head: string; packed: Uint8Array } | null {
  const bytes = bytesOf(body);
  if (bytes === null || bytes.byteLength < BASE_HEADER + EXTRA_BYTES || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[3] !== FEXTRA) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(BASE_HEADER, true) !== 8 || bytes[BASE_HEADER + 2] !== SUBFIELD[0] || bytes[BASE_HEADER + 3] !== SUBFIELD[1] || view.getUint16(BASE_HEADER + 4, true) !== 4) return null;
  const length = view.getUint32(BASE_HEADER + 6, true);
  if (length > bytes.byteLength) return null;
  try {
    return { head: unpackText(bytes.subarray(0, length)), packed: bytes.subarray(length) };
  } catch {
    return null;
  }
}

/**
 * A queue message's body as text: bytes unpacked (one gzip member, or several end to end, as a
 * framed message), a text body (counters, and messages queued before bodies were packed) as it
 * is; null when it is neither.
 * `queueBodyText(packText("a")) === "a"`.
 */
export function queueBodyText(body: unknown): string | null {
  if (typeof body === "string") return body;
  const bytes = bytesOf(body);
  if (bytes === null) return null;
  try {
    return unpackText(bytes);
  } catch {
    return null;
  }
}

function bytesOf(body: unknown): Uint8Array | null {
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return null;
}
