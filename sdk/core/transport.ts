import type { HttpRequest, HttpResponse, Transport } from "./types";

// Below this, gzip saves too little to pay for itself.
const COMPRESS_FROM = 1024;

async function gzip(text: string): Promise<ArrayBuffer> {
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
}

/**
 * A transport over the platform's `fetch`, gzipping bodies where `CompressionStream` exists.
 * It never throws: a request that got no answer reports status 0.
 * `const send = fetchTransport(); await send({url, method: "GET", headers: {}})`
 */
export function fetchTransport(compress = true): Transport {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      const headers = { ...req.headers };
      let body: string | ArrayBuffer | undefined = req.body;
      if (compress && req.body && req.body.length > COMPRESS_FROM && typeof CompressionStream === "function") {
        body = await gzip(req.body);
        headers["content-encoding"] = "gzip";
      }
      // A variable, not a literal: `keepalive` is missing from the Workers' RequestInit type.
      const init = { method: req.method, headers, body, keepalive: req.keepalive };
      const res = await fetch(req.url, init);
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, retryAfter: res.headers.get("retry-after"), etag: res.headers.get("etag"), body: parsed };
    } catch {
      return { status: 0 };
    }
  };
}
