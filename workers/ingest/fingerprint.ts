import type { StackFrame } from "../../schemas";

// 53-bit string hash (cyrb53): synchronous and cheap, enough to group crashes, not a secret.
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

// Hashed bundles and query strings change with every deploy; the crash does not.
function stableFile(file: string): string {
  return file
    .replace(/[?#].*$/, "")
    .replace(/^[a-z]+:\/\/[^/]+/i, "")
    .replace(/[.-][0-9a-f]{6,}(?=\.)/gi, "");
}

/**
 * Groups crashes that are the same bug: the error type plus the top in-app frames (function and
 * file, without line numbers, hosts or build hashes); without frames, the message with numbers
 * and ids blanked out. `fingerprint("TypeError", "x is undefined", frames) === "00a3…"`.
 */
export function crashFingerprint(type: string, message: string, frames: readonly StackFrame[]): string {
  const inApp = frames.filter((f) => f.inApp !== false);
  const top = (inApp.length > 0 ? inApp : frames).slice(0, 5);
  const basis =
    top.length > 0
      ? top.map((f) => `${f.function ?? "?"}@${stableFile(f.file ?? "")}`).join("|")
      : message.replace(/0x[0-9a-f]+|[0-9a-f]{8}-[0-9a-f-]{27}|\d+/gi, "#").slice(0, 512);
  return hash53(`${type}\n${basis}`);
}
