import { fnv1a32 } from "../../lib/hash";

const fnv32 = (text: string, seed: number): string => fnv1a32(text, seed).toString(16).padStart(8, "0");

/**
 * A 64-bit content hash (FNV-1a from two offsets) as 16 hex digits: wide enough that ids made
 * from it do not collide within an app's dedup window; cheap and stable, not a secret.
 * @example contentHash("a").length === 16
 */
export function contentHash(text: string): string {
  return fnv32(text, 0x811c9dc5) + fnv32(text, 0x050c5d1f);
}
