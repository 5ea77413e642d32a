// A local stand-in for ClickHouse's HTTP interface over the embedded chDB engine, for
// development and tests only (production talks to ClickHouse Cloud). It implements what
// @clickhouse/client-web uses: ping, queries with parameters and settings, commands, inserts.
// Only the developer's own processes may use it: it listens on loopback, every query needs the
// password kept in its data directory, it reaches no file, URL or other server, and it sends
// no CORS headers. Deliberately left out, as nothing here needs them: HTTP sessions
// (session_id; every request stands alone, as without one), streamed results (each is
// buffered whole), progress headers, response compression, and binary input formats other
// than through chDB's raw insert.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIPv4 } from "node:net";
import { resolve } from "node:path";
import { ClickHouseHttpError, toErrorReply } from "./errors";
import { execute, type Outcome } from "./execute";
import { localPassword } from "./password";
import { SessionPool } from "./pool";
import { ClientGone, credentialsOf, parseMultipart, readBody, readParams, sameCredentials, type Credentials } from "./request";

export interface ClickHouseServerOptions {
  dataDir: string;
  /** 0 picks a free port. Default 8123. */
  port?: number;
  /** A loopback address (127.x.x.x, ::1, localhost); default 127.0.0.1. */
  host?: string;
  /** chDB Sessions, i.e. how many queries run at once. Default 4. */
  sessions?: number;
  /** Every query must present this user (default `default`) and password. */
  user?: string;
  /** Default: the one kept in the data directory ({@link localPassword}). */
  password?: string;
  /**
   * A second user that has `readonly = 1`, as a ClickHouse user created with that setting:
   * reads only, and any setting it sends must keep its current value (Code 164, READONLY).
   */
  readonlyUser?: Credentials;
  /** Largest accepted request body, before and after decompression. Default 256 MiB. */
  maxBodyBytes?: number;
}

export interface ClickHouseServer {
  url: string;
  port: number;
  /** The credentials every query must present. */
  user: string;
  password: string;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || (isIPv4(h) && h.startsWith("127."));
}

interface Context {
  pool: SessionPool;
  version: string;
  expected: Credentials;
  /** The read-only user and its Sessions, which have readonly = 1. */
  readonly: { user: Credentials; pool: SessionPool } | undefined;
  maxBodyBytes: number;
  closing: boolean;
}

const CLOSE_GRACE_MS = 5_000;

const TEXT = "text/plain; charset=UTF-8";

/**
 * Starts the server. chDB allows one data directory per process, so a second server in the
 * same process must use the same `dataDir` (or start after the first has closed).
 */
export async function startClickHouseServer(opts: ClickHouseServerOptions): Promise<ClickHouseServer> {
  const host = opts.host ?? "127.0.0.1";
  if (!isLoopback(host)) throw new Error(`the local ClickHouse server listens on loopback only (127.0.0.1, ::1, localhost), not ${host}`);
  const dataDir = resolve(opts.dataDir);
  const expected = { user: opts.user ?? "default", password: opts.password ?? (await localPassword(dataDir)) };
  const pool = await SessionPool.open(dataDir, opts.sessions ?? 4);
  let readonlyPool: SessionPool | undefined;
  let ctx: Context;
  try {
    const version = await pool.use(async (s) => (await s.queryAsync("SELECT version()", { format: "TabSeparated" })).text().trim());
    const readonlyUser = opts.readonlyUser;
    if (readonlyUser !== undefined) {
      if (readonlyUser.user === expected.user) throw new Error("the read-only user needs a name of its own");
      readonlyPool = await SessionPool.open(dataDir, Math.min(2, opts.sessions ?? 4), [["readonly", "1"]]);
    }
    const readonly = readonlyUser && readonlyPool ? { user: readonlyUser, pool: readonlyPool } : undefined;
    ctx = { pool, version, expected, readonly, maxBodyBytes: opts.maxBodyBytes ?? 256 * 1024 * 1024, closing: false };
  } catch (err) {
    await readonlyPool?.close();
    await pool.close();
    throw err;
  }
  const inflight = new Set<Promise<void>>();
  // ClickHouse takes a request line of up to 1 MiB (http_max_uri_size), where query parameters
  // travel; Node's default of 16 KiB for all headers would refuse what the real server takes.
  const server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const done: Promise<void> = handle(ctx, req, res)
      .catch((err: unknown) => {
        // Last resort: handle() answers every error it can, so this is a bug, not bad input.
        if (!res.headersSent) res.writeHead(500, { "Content-Type": TEXT });
        res.end(`Code: 1001. DB::Exception: ${String(err)}. (STD_EXCEPTION)\n`);
      })
      .finally(() => inflight.delete(done));
    inflight.add(done);
  });
  // ClickHouse keeps idle connections 30 s; Node's 5 s would close sockets that clients
  // tuned for ClickHouse expect to reuse, and their next request would fail.
  server.keepAliveTimeout = 30_000;
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  try {
    await new Promise<void>((done, fail) => {
      server.once("error", fail);
      server.listen(opts.port ?? 8123, host.replace(/^\[|\]$/g, ""), () => {
        server.off("error", fail);
        done();
      });
    });
  } catch (err) {
    await readonlyPool?.close();
    await pool.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`,
    port,
    user: expected.user,
    password: expected.password,
    close() {
      closing ??= (async () => {
        ctx.closing = true;
        const stopped = new Promise<void>((done) => server.close(() => done()));
        server.closeIdleConnections();
        // Let requests under way send their answers, but do not wait forever on a stalled upload.
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((done) => (timer = setTimeout(done, CLOSE_GRACE_MS)));
        await Promise.race([Promise.allSettled([...inflight]), grace]);
        clearTimeout(timer);
        server.closeAllConnections();
        // Sessions may only close once the engine has finished the queries still running on them.
        await readonlyPool?.close();
        await pool.close();
        await stopped;
      })();
      return closing;
    },
  };
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A client that hangs up makes these emit errors; nobody is left to tell, and unhandled they would end the process.
  req.on("error", () => undefined);
  res.on("error", () => undefined);
  let queryId: string = randomUUID();
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    queryId = url.searchParams.get("query_id") || queryId;
    const method = req.method ?? "GET";
    if (ctx.closing) {
      req.resume();
      res.setHeader("Connection", "close");
      throw new ClickHouseHttpError(439, "The local ClickHouse server is shutting down", "CANNOT_SCHEDULE_TASK");
    }
    if (url.pathname === "/ping" && (method === "GET" || method === "HEAD")) return reply(res, 200, { "Content-Type": TEXT }, "Ok.\n");
    if (url.pathname !== "/") {
      req.resume();
      return reply(res, 404, { "Content-Type": TEXT }, `There is no handle ${url.pathname.slice(0, 200)}\n\nUse / or /ping for health checks.\n`);
    }
    if (method !== "GET" && method !== "POST") {
      req.resume();
      return reply(res, 405, { "Content-Type": TEXT, Allow: "GET, POST" }, "Only GET and POST are supported.\n");
    }
    const who = credentialsOf(req, url);
    const readonly = ctx.readonly !== undefined && who.user === ctx.readonly.user.user ? ctx.readonly : undefined;
    const expected = readonly ? readonly.user : ctx.expected;
    if (!sameCredentials(who, expected)) {
      req.resume();
      return replyError(res, queryId, {
        code: 516,
        status: 403,
        body: `Code: 516. DB::Exception: ${who.user.slice(0, 100)}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version ${ctx.version})\n`,
      });
    }
    let body = await readBody(req, ctx.maxBodyBytes);
    let params = readParams(url.searchParams);
    const contentType = req.headers["content-type"] ?? "";
    if (/^multipart\/form-data/i.test(contentType)) {
      // Long query parameters arrive as form parts; the query text may be one of them too.
      const parts = readParams(parseMultipart(body, contentType));
      params = { ...params, query: params.query ?? parts.query, params: { ...params.params, ...parts.params } };
      body = Buffer.alloc(0);
    }
    if (method === "GET" && params.query === undefined) return reply(res, 200, { "Content-Type": TEXT }, "Ok.\n");
    const outcome = await execute(readonly?.pool ?? ctx.pool, { method, params, body, readonlyUser: readonly !== undefined });
    reply(res, 200, successHeaders(queryId, outcome), outcome.body);
  } catch (err) {
    if (err instanceof ClientGone) return;
    replyError(res, queryId, toErrorReply(err, ctx.version));
  }
}

function successHeaders(queryId: string, o: Outcome): Record<string, string> {
  const summary = {
    read_rows: String(o.readRows),
    read_bytes: String(o.readBytes),
    written_rows: String(o.writtenRows),
    written_bytes: String(o.writtenBytes),
    total_rows_to_read: "0",
    result_rows: "0",
    result_bytes: String(o.body.length),
    elapsed_ns: String(Math.round(o.elapsedSeconds * 1e9)),
  };
  return {
    "Content-Type": contentTypeOf(o.format),
    "X-ClickHouse-Query-Id": queryId,
    "X-ClickHouse-Format": o.format,
    "X-ClickHouse-Timezone": "UTC",
    "X-ClickHouse-Summary": JSON.stringify(summary),
  };
}

const BINARY_FORMATS = /^(RowBinary|Native|Parquet|Arrow|ORC|Avro|Protobuf|CapnProto|MsgPack|BSONEachRow|Npy)/i;

function contentTypeOf(format: string): string {
  if (/^(JSON|NDJSON)/i.test(format)) return "application/json; charset=UTF-8";
  if (/^(TabSeparated|TSV)/i.test(format)) return "text/tab-separated-values; charset=UTF-8";
  if (/^CSV/i.test(format)) return `text/csv; charset=UTF-8; header=${/WithNames/i.test(format) ? "present" : "absent"}`;
  if (BINARY_FORMATS.test(format)) return "application/octet-stream";
  return TEXT;
}

function replyError(res: ServerResponse, queryId: string, e: { status: number; code: number; body: string }): void {
  const headers: Record<string, string> = {
    "Content-Type": TEXT,
    "X-ClickHouse-Query-Id": queryId,
    "X-ClickHouse-Exception-Code": String(e.code),
    "X-ClickHouse-Timezone": "UTC",
  };
  // A refused upload is still arriving; close the connection rather than read it all.
  if (e.status === 413) headers.Connection = "close";
  reply(res, e.status, headers, e.body);
}

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Uint8Array): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, "Content-Length": String(typeof body === "string" ? Buffer.byteLength(body) : body.length) });
  res.end(body);
}
