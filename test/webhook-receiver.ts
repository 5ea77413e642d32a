// A webhook receiver for the workerd tests, in Node beside them: what a customer's endpoint is.
// `POST /hooks/<name>` records the request and answers 200, or 500 for the first `fail` requests
// of that name (`?fail=2`), or always `status` (`?status=410`); `GET /received/<name>` lists what
// it got, oldest first, so a test polls for a delivery instead of waiting a fixed time.
import { createServer } from "node:http";

export interface Received {
  headers: Record<string, string>;
  body: string;
  status: number;
}

export async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const received = new Map<string, Received[]>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const [, kind, name = ""] = url.pathname.split("/");
    if (req.method === "GET" && kind === "received") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received.get(name) ?? []));
      return;
    }
    if (req.method !== "POST" || kind !== "hooks") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen = received.get(name) ?? [];
      const fail = Number(url.searchParams.get("fail") ?? "0");
      const status = url.searchParams.has("status") ? Number(url.searchParams.get("status")) : seen.length < fail ? 500 : 200;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      seen.push({ headers, body: Buffer.concat(chunks).toString("utf8"), status });
      received.set(name, seen);
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "received" : `receiver failed on purpose (${status})`);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) };
}
