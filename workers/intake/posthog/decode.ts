import { decodeUtf8 } from "../../ingest/body";
import { HttpError } from "../../lib/errors";

/** The query parameters of a capture request that change how its body reads. */
export interface CaptureQuery {
  /** `gzip-js`, `base64` or absent. Gzip is undone before this decoder runs. */
  compression?: string | null;
  /** A GET capture's payload (`?data=`), as JSON or base64. */
  data?: string | null;
}

function fromBase64(text: string): string {
  // Form decoding turns an unescaped `+` into a space; base64 has no spaces.
  const clean = text.trim().replace(/ /g, "+").replace(/-/g, "+").replace(/_/g, "/");
  let binary: string;
  try {
    binary = atob(clean);
  } catch {
    throw new HttpError(400, "invalid_body", "the body is not valid base64");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return decodeUtf8(bytes);
}

function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  return first === "{" || first === "[";
}

// posthog-js's form bodies are `data=<payload>`, with the payload base64 when it says
// `compression=base64` (in the query or in the form itself) and plain JSON otherwise.
function payloadText(text: string, query: CaptureQuery): string {
  let body = text;
  let compression = query.compression ?? null;
  if (query.data && body.trim() === "") body = `data=${encodeURIComponent(query.data)}`;
  if (body.startsWith("data=") || (/^[a-z_]+=/.test(body) && !looksLikeJson(body))) {
    const form = new URLSearchParams(body);
    compression = form.get("compression") ?? compression;
    body = form.get("data") ?? "";
  }
  if (compression === "base64" || (body.trim() !== "" && !looksLikeJson(body))) return fromBase64(body);
  return body;
}

/**
 * Reads a PostHog capture body (already un-gzipped) into its JSON payload: plain JSON, a
 * `data=` form, or base64 (`?compression=base64`), including GET's `?data=`. Throws a 400
 * `HttpError` for an empty body, bad base64 or bad JSON.
 * @example decodeCapture('data=eyJldmVudCI6ImEifQ%3D%3D', { compression: "base64" }) // {event: "a"}
 */
export function decodeCapture(text: string, query: CaptureQuery = {}): unknown {
  const payload = payloadText(text, query);
  if (payload.trim() === "") throw new HttpError(400, "empty_batch", "the body is empty");
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    throw new HttpError(400, "invalid_json", "the payload is not valid JSON");
  }
}
