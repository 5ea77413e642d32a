// Write keys: their format, how D1 stores them (SHA-256) and the prefix lists show. Plain
// WebCrypto, so the Worker, the dashboard and the test seeds share it.

/** How many leading characters of a key lists show, e.g. `wk_3f9a0c1b7`. */
export const WRITE_KEY_PREFIX_LENGTH = 12;

/** Random lowercase hex of `bytes` bytes. */
export function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

import { sha256Hex } from "../lib/hash";

export { sha256Hex };

/** What D1 keeps of a write key. */
export const hashWriteKey = sha256Hex;

/** A new write key: `wk_` and 40 hex digits (160 random bits). */
export const newWriteKey = (): string => `wk_${randomHex(20)}`;

/** The part of a key lists may show. */
export const writeKeyPrefix = (key: string): string => key.slice(0, WRITE_KEY_PREFIX_LENGTH);
