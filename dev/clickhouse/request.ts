import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { ClickHouseHttpError } from "./errors";

// URL parameters that steer the HTTP exchange itself rather than the query. ClickHouse accepts
// them as settings too, but here they would either do nothing or break the engine's output.
const TRANSPORT_PARAMS = new Set([
  "query",
  "database",
  "query_id",
  "session_id",
  "session_timeout",
  "session_check",
  "default_format",
  "enable_http_compression",
  "http_zlib_compression_level",
  "wait_end_of_query",
  "send_progress_in_http_headers",
  "http_headers_progress_interval_ms",
  "http_response_buffer_size",
  "buffer_size",
  "compress",
  "decompress",
  "user",
  "password",
  "quota_key",
  // Ignored: no page of another origin may read this server's answers.
  "add_http_cors_header",
  "role",
  "stacktrace",
]);

export interface RequestParams {
  query?: string;
  database?: string;
  queryId?: string;
  defaultFormat?: string;
  /** Query parameters, in ClickHouse text form, by name without the `param_` prefix. */
  params: Record<string, string>;
  settings: Array<[string, string]>;
}

/** Sorts URL (or multipart) parameters into query, query parameters and settings. */
export function readParams(entries: Iterable<[string, string]>): RequestParams {
  const out: RequestParams = { params: {}, settings: [] };
  for (const [key, value] of entries) {
    if (key.startsWith("param_")) out.params[key.slice("param_".length)] = value;
    else if (key === "query") out.query = value;
    else if (key === "database") out.database = value;
    else if (key === "query_id") out.queryId = value;
    else if (key === "default_format") out.defaultFormat = value;
    else if (!TRANSPORT_PARAMS.has(key)) out.settings.push([key, value]);
  }
  return out;
}

function decoderFor(encoding: string): Transform | undefined {
  switch (encoding) {
    case "":
    case "identity":
      return undefined;
    case "gzip":
    case "x-gzip":
      return createGunzip();
    case "deflate":
      return createInflate();
    case "br":
      return createBrotliDecompress();
    default:
      throw new ClickHouseHttpError(89, `Unknown compression method '${encoding.slice(0, 50)}'`, "UNKNOWN_COMPRESSION_METHOD");
  }
}

export function tooLarge(limit: number): ClickHouseHttpError {
  return new ClickHouseHttpError(229, `Request body is larger than ${limit} bytes`, "QUERY_IS_TOO_LARGE");
}

/** Thrown when the client went away mid-request: there is nobody left to answer. */
export class ClientGone extends Error {}

/**
 * The request body, decompressed, at most `limit` bytes (before and after decompression). On
 * failure the rest of the upload is discarded rather than the socket torn down, so the error
 * response can still reach the client.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const encoding = (req.headers["content-encoding"] ?? "").trim().toLowerCase();
    let decoder: Transform | undefined;
    try {
      decoder = decoderFor(encoding);
    } catch (err) {
      req.resume();
      reject(err);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let raw = 0;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      req.resume();
      reject(err);
    };
    const out = decoder ?? req;
    out.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else chunks.push(chunk);
    });
    out.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, size));
    });
    if (decoder) {
      // ClickHouse's own answer for a gzip or deflate body that does not inflate.
      const refusal = (err: Error): ClickHouseHttpError =>
        encoding !== "br"
          ? new ClickHouseHttpError(354, `inflate failed: ${err.message}`, "ZLIB_INFLATE_FAILED")
          : new ClickHouseHttpError(271, `Cannot decompress the request body: ${err.message}`, "CANNOT_DECOMPRESS");
      decoder.on("error", (err: Error) => fail(refusal(err)));
      req.on("data", (chunk: Buffer) => {
        raw += chunk.length;
        if (raw > limit) fail(tooLarge(limit));
      });
      req.pipe(decoder);
    }
    req.on("error", () => fail(new ClientGone()));
    req.on("close", () => {
      if (!req.complete) fail(new ClientGone());
    });
  });
}

/** The named text parts of a multipart/form-data body (how clients send long query parameters). */
export function parseMultipart(body: Buffer, contentType: string): Array<[string, string]> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2]?.trim();
  if (!mark) throw new ClickHouseHttpError(36, "multipart/form-data without a boundary", "BAD_ARGUMENTS");
  const delimiter = Buffer.from(`--${mark}`);
  const parts: Array<[string, string]> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headersStart = at + delimiter.length;
    if (body.subarray(headersStart, headersStart + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, headersStart);
    if (next < 0) break;
    const part = body.subarray(headersStart, next);
    const split = part.indexOf("\r\n\r\n");
    if (split >= 0) {
      const headers = part.subarray(0, split).toString("utf8");
      let content = part.subarray(split + 4);
      if (content.subarray(-2).toString() === "\r\n") content = content.subarray(0, -2);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      if (/filename=/i.test(headers)) {
        throw new ClickHouseHttpError(48, "External tables in multipart requests are not supported by the local server", "NOT_IMPLEMENTED");
      }
      if (name !== undefined) parts.push([name, content.toString("utf8")]);
    }
    at = next;
  }
  return parts;
}

export interface Credentials {
  user: string;
  password: string;
}

/** Whoever the request says it is, from any of the places ClickHouse looks. */
export function credentialsOf(req: IncomingMessage, url: URL): Credentials {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const user = header("x-clickhouse-user");
  if (user !== undefined) return { user, password: header("x-clickhouse-key") ?? "" };
  const auth = header("authorization");
  if (auth?.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? { user: decoded, password: "" } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { user: url.searchParams.get("user") ?? "default", password: url.searchParams.get("password") ?? "" };
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

export function sameCredentials(given: Credentials, expected: Credentials): boolean {
  const userOk = timingSafeEqual(digest(given.user), digest(expected.user));
  const passwordOk = timingSafeEqual(digest(given.password), digest(expected.password));
  return userOk && passwordOk;
}
