// Hashes the Worker uses for ids and lookups, not for secrets (the redactor's HMAC is its own).

/** SHA-256 as lowercase hex: how write keys, invitation tokens and deduplication tokens are named. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** FNV-1a of a string's UTF-16 code units, 32 bits, from `seed`: cheap, stable and well spread. */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
