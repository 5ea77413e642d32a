import { LIMITS } from "../schemas";

/** A queue message planned from a contiguous run of buffered rows. */
export interface PlannedMessage {
  batchId: string;
  firstSeq: number;
  lastSeq: number;
  rows: number;
  bytes: number;
}

// Room for the header line, the newlines and the queue's own framing.
const HEADER_BYTES = 256;
// Cloudflare Queues: sendBatch takes at most 100 messages.
const SEND_MAX_MESSAGES = 100;
const SEND_MAX_BYTES = LIMITS.maxSendBatchBytes;

/**
 * Packs buffered chunks (of `rows` rows each, one when unset), in order, into messages of at most
 * `maxBytes`. Batch ids are `${name}:${firstSeq}`: sequence numbers are never reused, so an id
 * names the same rows forever.
 */
export function planMessages(rows: readonly { seq: number; bytes: number; rows?: number }[], name: string, maxBytes: number): PlannedMessage[] {
  const out: PlannedMessage[] = [];
  let current: PlannedMessage | null = null;
  for (const r of rows) {
    const size = r.bytes + 1;
    if (current && current.bytes + size + HEADER_BYTES > maxBytes) {
      out.push(current);
      current = null;
    }
    if (!current) current = { batchId: `${name}:${r.seq}`, firstSeq: r.seq, lastSeq: r.seq, rows: 0, bytes: 0 };
    current.lastSeq = r.seq;
    current.rows += r.rows ?? 1;
    current.bytes += size;
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
