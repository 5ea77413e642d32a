/**
 * The public key from a Sentry auth header, `Sentry sentry_key=<key>, sentry_version=7, …`
 * (sent as `X-Sentry-Auth` or `Authorization`), or null.
 * @example keyFromAuthHeader("Sentry sentry_key=wk_1, sentry_version=7") === "wk_1"
 */
export function keyFromAuthHeader(value: string | null): string | null {
  if (!value) return null;
  const text = value.trim();
  if (!/^sentry\s/i.test(text)) return null;
  for (const part of text.slice(6).split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() === "sentry_key") return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/**
 * The public key of a DSN, `http://<key>@host/<project>`, or null when it is not a DSN.
 * @example keyFromDsn("http://wk_1@localhost:8787/1") === "wk_1"
 */
export function keyFromDsn(dsn: unknown): string | null {
  if (typeof dsn !== "string" || dsn.length > 2048) return null;
  try {
    const user = new URL(dsn).username;
    return user ? decodeURIComponent(user) : null;
  } catch {
    return null;
  }
}
