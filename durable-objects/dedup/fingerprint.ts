// 64-bit fingerprints of messageIds for the batcher's dedup tiers (decision record 0021). Two
// 32-bit lanes with different multipliers, each finished with murmur3's avalanche, so every bit
// of either half depends on every character: the Bloom filters take their block from one half
// and their bits from the other.

/** A messageId's fingerprint as two 32-bit halves; `lo` is never 0, which marks an empty slot. */
export interface Fingerprint {
  hi: number;
  lo: number;
}

/** murmur3's 32-bit finalizer: every output bit depends on every input bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

export function fingerprint(id: string): Fingerprint {
  let a = 0x9747b28c ^ id.length;
  let b = 0x2f6b4c1d ^ Math.imul(id.length, 0x27d4eb2f);
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul((b << 5) | (b >>> 27), 0x5bd1e995) ^ c;
  }
  const hi = fmix32(a ^ Math.imul(b, 0x9e3779b1));
  const lo = fmix32(b ^ hi) | 1;
  return { hi: hi | 0, lo: lo | 0 };
}
