import { HttpError } from "../lib/errors";

// Which app a key belongs to is decided in workers/apps; this is the HTTP side: where a key is read from.
export { authenticate, clearWriteKeyCache, type AppAuth } from "../apps/auth";

/** The write key from `Authorization: Basic base64(key:)` or `X-Write-Key`, if any. */
export function writeKeyFromHeaders(headers: Headers): string | null {
  const direct = headers.get("x-write-key");
  if (direct) return direct.trim();
  const auth = headers.get("authorization");
  if (!auth) return null;
  const [scheme, value] = auth.split(" ", 2);
  if (scheme?.toLowerCase() !== "basic" || !value) return null;
  try {
    const decoded = atob(value.trim());
    const user = decoded.split(":", 1)[0] ?? "";
    return user || null;
  } catch {
    throw new HttpError(401, "unauthorized", "the Authorization header is not valid Basic credentials");
  }
}
