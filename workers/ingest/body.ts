import { LIMITS } from "../../schemas";
import { HttpError } from "../lib/errors";

const ACCEPTED_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"];

/**
 * Reads a request body as text, decompressing gzip or deflate, and stops as soon as the
 * decompressed size passes the limit, so a gzip bomb costs at most `maxBytes` of memory.
 * `text/plain` is accepted because `navigator.sendBeacon` can only send that without a preflight.
 */
export async function readBody(request: Request, maxBytes: number = LIMITS.maxBodyBytes): Promise<string> {
  const type = (request.headers.get("content-type") ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "" && !ACCEPTED_TYPES.includes(type)) {
    throw new HttpError(415, "unsupported_media_type", `content type ${type} is not accepted; send application/json`);
  }
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "deflate") {
    throw new HttpError(415, "unsupported_encoding", `content encoding ${encoding} is not accepted; send gzip or none`);
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";

  // A plain body of a declared size within the limit is read in one native call; anything
  // compressed or of unknown length is streamed and cut off at the limit.
  if (encoding === "identity" && declared > 0) return decodeUtf8(new Uint8Array(await readWhole(request)));

  let stream: ReadableStream<Uint8Array> = request.body;
  if (encoding !== "identity") stream = stream.pipeThrough(new DecompressionStream(encoding));

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
    throw new HttpError(400, "invalid_body", `the body could not be read as ${encoding === "identity" ? "sent" : encoding}`);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return decodeUtf8(bytes);
}

async function readWhole(request: Request): Promise<ArrayBuffer> {
  try {
    return await request.arrayBuffer();
  } catch {
    throw new HttpError(400, "invalid_body", "the body could not be read");
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_body", "the body is not valid UTF-8");
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "payload_too_large", `the body is larger than ${maxBytes} bytes after decompression`);
}
