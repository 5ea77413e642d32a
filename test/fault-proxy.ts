import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How the proxy treats traffic: pass it, drop connections, or answer like a failing server. */
export type FaultMode = "up" | "down" | "error";

/**
 * A proxy in front of the local ClickHouse that tests switch into an outage and back with
 * `POST /__fault?mode=down|error|up`, from Node or from inside workerd.
 */
export async function startFaultProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  let mode: FaultMode = "up";
  // As long a request line as ClickHouse itself takes (1 MiB), where query parameters travel.
  const server: Server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    if (url.pathname === "/__fault") {
      const next = url.searchParams.get("mode");
      if (next === "up" || next === "down" || next === "error") mode = next;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ mode }));
      return;
    }
    if (mode === "down") {
      req.socket.destroy();
      return;
    }
    if (mode === "error") {
      req.resume();
      res.writeHead(500, { "x-clickhouse-exception-code": "242" }).end("Code: 242. DB::Exception: Table is in readonly mode. (TABLE_IS_READ_ONLY) (version 26.7.2.1)\n");
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
