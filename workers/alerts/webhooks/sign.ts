// Standard Webhooks signing (https://www.standardwebhooks.com): the receiver recomputes an
// HMAC-SHA256 of "id.timestamp.body" with the endpoint's secret. Plain WebCrypto, so it runs in
// the Worker without a Node shim; the spec's own libraries verify what it signs.

const SECRET_PREFIX = "whsec_";
// The spec asks for 24 to 64 bytes; 32 matches the HMAC-SHA256 block of security.
const SECRET_BYTES = 32;

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A fresh endpoint secret, `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under one `whsec_` secret. */
export async function signatureFor(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const key = await crypto.subtle.importKey("raw", fromBase64(secret.slice(SECRET_PREFIX.length)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three Standard Webhooks headers of one attempt. */
export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * Headers for one attempt, signed with every live secret (space-separated) so a receiver that
 * holds either the old or the new secret during a rotation accepts it. The timestamp is the
 * attempt's, not the event's: receivers refuse stale timestamps, and retries run for a day.
 */
export async function signedHeaders(secrets: readonly string[], id: string, body: string, nowMs: number): Promise<SignedHeaders> {
  if (secrets.length === 0) throw new Error("an endpoint without a live secret cannot be signed for");
  const timestamp = Math.floor(nowMs / 1000);
  const signatures = await Promise.all(secrets.map((s) => signatureFor(s, id, timestamp, body)));
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatures.join(" ") };
}
