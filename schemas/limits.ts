/** Wire-contract limits shared by the edge and the SDK, e.g. `LIMITS.maxEventBytes === 32768`. */
export const LIMITS = {
  /** One event, serialized. Segment's own limit. */
  maxEventBytes: 32 * 1024,
  /** One request body after decompression. */
  maxBodyBytes: 1024 * 1024,
  /** Events in one batch. */
  maxBatchEvents: 2500,
  /** Nesting depth of any event value (objects and arrays). */
  maxDepth: 24,
  /** Longest accepted id (messageId, userId, anonymousId, groupId). */
  maxIdLength: 256,
  /** Skew below this is treated as noise and left alone. */
  skewDeadbandMs: 150_000,
  /** Timestamps further than this in the future are clamped to the receive time. */
  maxFutureMs: 23 * 60 * 60 * 1000,
  /** Raw events are kept this long (the ClickHouse TTL); older ones are refused, not silently dropped. */
  maxAgeMs: 90 * 24 * 60 * 60 * 1000,
  /**
   * One queue message. Cloudflare Queues refuse a message over 128 KB, counting a KB as 1,000
   * bytes: this leaves room for the queue's own framing.
   */
  maxQueueMessageBytes: 120_000,
  /**
   * One event message's text: what its packed body unpacks to, which bounds what the sink holds
   * at once when it reads a message's rows (decision record 0037).
   */
  maxQueueMessageTextBytes: 1_000_000,
  /** One `sendBatch`: Cloudflare's limit is 256 KB (256,000 bytes) in all, framing included. */
  maxSendBatchBytes: 250_000,
  /**
   * One event's row as stored (merged batch context, enrichment and redaction included), so
   * that any accepted row fits a queue message with its header.
   */
  maxRowBytes: 100_000,
  /** The rows of one request as stored: a batch context repeated in every row cannot turn a small request into a huge one. */
  maxRequestRowBytes: 8_000_000,
  /** A messageId seen again within this long is a duplicate: it is answered as accepted and stored once. */
  dedupWindowMs: 24 * 60 * 60 * 1000,
} as const;

// "All ASCII" as an anchored run: V8 scans it in one tight loop, twice as fast as looking for
// the first non-ASCII character from every position.
const ALL_ASCII = /^[\x00-\x7f]*$/;

/** The UTF-8 size of a string without encoding it: `utf8Length("é") === 2`. */
export function utf8Length(text: string): number {
  // One native scan settles the common all-ASCII case.
  if (ALL_ASCII.test(text)) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
