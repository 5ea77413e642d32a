// Errors in ClickHouse's own HTTP shape, so clients (and @clickhouse/client-web's parser, which
// looks for `Code: N. ... Exception: msg (NAME)`) cannot tell this server from the real one.

/** An error this server raises itself, before or around the engine. */
export class ClickHouseHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly type: string,
  ) {
    super(message);
    this.name = "ClickHouseHttpError";
  }
}

// The same table as ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp).
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401],
  ...[192, 193, 516, 512, 497].map((c): [number, number] => [c, 403]),
  ...[36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223, 62, 117, 53, 321].map(
    (c): [number, number] => [c, 400],
  ),
  ...[60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511].map((c): [number, number] => [c, 404]),
  [229, 413],
  [48, 501],
  [209, 503],
  [76, 503],
  [381, 411],
  [159, 408],
  [439, 503],
  [779, 415],
]);

export function httpStatusFor(code: number): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}

export interface ErrorReply {
  status: number;
  code: number;
  body: string;
}

const CODE_PREFIX = /^Code: (\d+)\. /;
const TYPE_MARK = /\(([A-Z][A-Z0-9_]{2,})\)/g;

function lastType(message: string): string | undefined {
  let type: string | undefined;
  for (const m of message.matchAll(TYPE_MARK)) type = m[1];
  return type;
}

function clickhouseCodeOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null || !("clickhouseCode" in err)) return undefined;
  const code = err.clickhouseCode;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}

/** The response for any failure: engine errors keep their text, everything else is dressed like one. */
export function toErrorReply(err: unknown, version: string): ErrorReply {
  const suffix = ` (version ${version})`;
  if (err instanceof ClickHouseHttpError) {
    const body = `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type})${suffix}\n`;
    return { status: httpStatusFor(err.code), code: err.code, body };
  }
  const raw = err instanceof Error ? err.message : String(err);
  const code = clickhouseCodeOf(err) ?? Number(CODE_PREFIX.exec(raw)?.[1] ?? 1002);
  const message = innermost(raw, code);
  if (CODE_PREFIX.test(message) && lastType(message) !== undefined) {
    const body = `${message.trimEnd()}${/\(version [^)]*\)$/.test(message.trimEnd()) ? "" : suffix}\n`;
    return { status: httpStatusFor(code), code, body };
  }
  // chDB's own checks (bad identifiers, closed sessions) carry no ClickHouse code or name.
  const type = lastType(message) ?? "UNKNOWN_EXCEPTION";
  const body = `Code: ${code}. DB::Exception: ${message.trimEnd()}. (${type})${suffix}\n`;
  return { status: httpStatusFor(code), code, body };
}

// chDB sometimes wraps an exception in copies of itself ("Code: 73. DB::Exception: Code: 73.
// DB::Exception: ... (UNKNOWN_FORMAT) (version v). (UNKNOWN_FORMAT)"); a server says it once.
function innermost(message: string, code: number): string {
  const marker = `Code: ${code}. DB::Exception: `;
  if (!message.startsWith(marker + marker)) return message;
  let inner = message;
  while (inner.startsWith(marker + marker)) inner = inner.slice(marker.length);
  const end = /\([A-Z][A-Z0-9_]{2,}\) \(version [^)]*\)/.exec(inner);
  return end ? inner.slice(0, end.index + end[0].length) : inner;
}
