import { LIMITS } from "../../schemas";
import { HttpError } from "../lib/errors";

const ACCEPTED_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"];

type Compression = "gzip" | "deflate";

/** How a door wants its body read. Every option keeps the decompressed-size cap. */
export interface BodyOptions {
  /** Cap on the body after decompression; `LIMITS.maxBodyBytes` unless given. */
  maxBytes?: number;
  /**
   * Decompress even when no `Content-Encoding` says so, as clients that name their compression
   * elsewhere need (PostHog's `?compression=gzip-js`). `"auto"` decompresses only a body that
   * starts with the gzip magic bytes. A `Content-Encoding` header, when present, wins.
   */
  decompress?: Compression | "auto";
  /**
   * Accept any content type, for protocols whose clients send none or their own
   * (Sentry: `application/x-sentry-envelope`); the door then parses the body itself.
   */
  anyContentType?: boolean;
}

/**
 * Reads a request body as bytes, decompressing gzip or deflate, and stops as soon as the
 * decompressed size passes the limit, so a gzip bomb costs at most `maxBytes` of memory.
 * Throws `HttpError` 400 (unreadable or corrupt compression), 413 (too large) or 415 (content
 * type or encoding not accepted).
 * @example const bytes = await readBodyBytes(request, { decompress: "gzip", anyContentType: true });
 */
export async function readBodyBytes(request: Request, opts: BodyOptions = {}): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes ?? LIMITS.maxBodyBytes;
  const type = (request.headers.get("content-type") ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!opts.anyContentType && type !== "" && !ACCEPTED_TYPES.includes(type)) {
    throw new HttpError(415, "unsupported_media_type", `content type ${type} is not accepted; send application/json`);
  }
  const header = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (header !== "identity" && header !== "gzip" && header !== "deflate") {
    throw new HttpError(415, "unsupported_encoding", `content encoding ${header} is not accepted; send gzip or none`);
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);

  const encoding: Compression | "auto" | null = header !== "identity" ? header : (opts.decompress ?? null);
  if (encoding === null) {
    // A plain body of a declared size within the limit is read in one native call; one of
    // unknown length is streamed and cut off at the limit.
    if (declared > 0) return new Uint8Array(await readWhole(request));
    return collect(request.body, maxBytes, "sent");
  }
  if (encoding === "auto") {
    const raw = await collect(request.body, maxBytes, "sent");
    if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
    return collect(new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip")), maxBytes, "gzip");
  }
  return collect(request.body.pipeThrough(new DecompressionStream(encoding)), maxBytes, encoding);
}

/**
 * Reads a request body as UTF-8 text with `readBodyBytes`'s limits and options.
 * `text/plain` is accepted by default because `navigator.sendBeacon` and Segment's browser
 * library send it to avoid a CORS preflight.
 * @example const text = await readBody(request);
 */
export async function readBody(request: Request, opts: BodyOptions = {}): Promise<string> {
  return decodeUtf8(await readBodyBytes(request, opts));
}

async function collect(stream: ReadableStream<Uint8Array>, maxBytes: number, as: string): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, "invalid_body", `the body could not be read as ${as}`);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return bytes;
}

async function readWhole(request: Request): Promise<ArrayBuffer> {
  try {
    return await request.arrayBuffer();
  } catch {
    throw new HttpError(400, "invalid_body", "the body could not be read");
  }
}

/** Decodes strict UTF-8, refusing invalid bytes with a 400. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_body", "the body is not valid UTF-8");
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "payload_too_large", `the body is larger than ${maxBytes} bytes after decompression`);
}
