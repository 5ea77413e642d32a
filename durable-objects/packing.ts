import { LIMITS } from "../schemas";

/** A queue message planned from a contiguous run of buffered rows. */
export interface PlannedMessage {
  batchId: string;
  firstSeq: number;
  lastSeq: number;
  rows: number;
  /** Its body's size as sent: the chunks packed, with room for their header. */
  bytes: number;
}

/** A buffered chunk as planning sees it: its size as sent and, when it differs, its text's. */
export interface ChunkSize {
  seq: number;
  bytes: number;
  /** Its text's size; `bytes` when unset. */
  text?: number;
  /** Its rows; one when unset. */
  rows?: number;
}

// Room for the header line, the newlines and the queue's own framing.
const HEADER_BYTES = 256;
// Cloudflare Queues: sendBatch takes at most 100 messages.
const SEND_MAX_MESSAGES = 100;
const SEND_MAX_BYTES = LIMITS.maxSendBatchBytes;

/**
 * Packs buffered chunks, in order, into messages of at most `maxBytes` as sent and `maxText`
 * bytes of text. Batch ids are `${name}:${firstSeq}`: sequence numbers are never reused, so an
 * id names the same rows forever.
 */
export function planMessages(chunks: readonly ChunkSize[], name: string, maxBytes: number, maxText = Infinity): PlannedMessage[] {
  const out: PlannedMessage[] = [];
  let current: PlannedMessage | null = null;
  let text = 0;
  for (const c of chunks) {
    const size = c.bytes + 1;
    const textSize = (c.text ?? c.bytes) + 1;
    if (current && (current.bytes + size + HEADER_BYTES > maxBytes || text + textSize + HEADER_BYTES > maxText)) {
      out.push(current);
      current = null;
    }
    if (!current) {
      current = { batchId: `${name}:${c.seq}`, firstSeq: c.seq, lastSeq: c.seq, rows: 0, bytes: 0 };
      text = 0;
    }
    current.lastSeq = c.seq;
    current.rows += c.rows ?? 1;
    current.bytes += size;
    text += textSize;
  }
  if (current) out.push(current);
  return out;
}

/** Splits planned messages into `sendBatch` calls within the Queues limits. */
export function groupForSend(messages: readonly PlannedMessage[]): PlannedMessage[][] {
  const groups: PlannedMessage[][] = [];
  let group: PlannedMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.bytes + HEADER_BYTES;
    if (group.length > 0 && (group.length >= SEND_MAX_MESSAGES || bytes + size > SEND_MAX_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(m);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
