import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchTransport } from "./transport";

let url = "";
const seen: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
    if (req.url === "/busy") {
      res.writeHead(503, { "retry-after": "4", "content-type": "application/json" }).end('{"error":{"code":"buffer_full","message":"full"}}');
    } else res.writeHead(200, { "content-type": "application/json" }).end('{"accepted":1,"duplicates":0,"rejected":[]}');
  });
});
beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

describe("fetchTransport", () => {
  it("gzips larger bodies and passes the answer back", async () => {
    const body = JSON.stringify({ batch: [{ pad: "x".repeat(5000) }] });
    const res = await fetchTransport()({ url: `${url}/v1/batch`, method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res).toMatchObject({ status: 200, body: { accepted: 1 } });
    const last = seen.at(-1);
    expect(last?.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(last?.body ?? Buffer.alloc(0)).toString()).toBe(body);
  });

  it("sends small bodies as they are, and reads Retry-After", async () => {
    const res = await fetchTransport()({ url: `${url}/busy`, method: "POST", headers: {}, body: "{}" });
    expect(res).toMatchObject({ status: 503, retryAfter: "4", body: { error: { code: "buffer_full" } } });
    expect(seen.at(-1)?.headers["content-encoding"]).toBeUndefined();
  });

  it("answers status 0 when nothing listens, without throwing", async () => {
    const res = await fetchTransport()({ url: "http://127.0.0.1:9/v1/batch", method: "POST", headers: {}, body: "{}" });
    expect(res.status).toBe(0);
  });
});
