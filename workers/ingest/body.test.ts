import { describe, expect, it } from "vitest";
import { HttpError } from "../lib/errors";
import { readBody, readBodyBytes } from "./body";

async function compress(text: string, format: "gzip" | "deflate"): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
}

function request(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request("https://edge.test/x", { method: "POST", body, headers });
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, code: err.code };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("readBody", () => {
  it("decompresses a body whose compression is named outside Content-Encoding", async () => {
    expect(await readBody(request(await compress('{"a":1}', "gzip"), { "content-type": "text/plain" }), { decompress: "gzip" })).toBe('{"a":1}');
    expect(await readBody(request(await compress("x=1", "deflate")), { decompress: "deflate" })).toBe("x=1");
    // Content-Encoding wins: the body is not decompressed twice.
    expect(await readBody(request(await compress("once", "gzip"), { "content-encoding": "gzip" }), { decompress: "gzip" })).toBe("once");
  });

  it("decompresses on sight with 'auto' only what starts like gzip", async () => {
    expect(await readBody(request(await compress("zipped", "gzip")), { decompress: "auto" })).toBe("zipped");
    expect(await readBody(request("plain"), { decompress: "auto" })).toBe("plain");
  });

  it("keeps the decompressed-size cap whichever way decompression is asked for", async () => {
    const bomb = await compress(" ".repeat(5_000_000), "gzip");
    expect(await refusal(readBody(request(bomb), { decompress: "gzip", maxBytes: 1_000_000 }))).toEqual({ status: 413, code: "payload_too_large" });
    expect(await refusal(readBody(request(bomb), { decompress: "auto", maxBytes: 1_000_000 }))).toEqual({ status: 413, code: "payload_too_large" });
    expect(await refusal(readBody(request("not gzip at all"), { decompress: "gzip" }))).toEqual({ status: 400, code: "invalid_body" });
  });

  it("accepts a protocol's own content type only when the door asks for it", async () => {
    const envelope = { "content-type": "application/x-sentry-envelope" };
    expect(await refusal(readBody(request("{}", envelope)))).toEqual({ status: 415, code: "unsupported_media_type" });
    expect(await readBody(request("{}", envelope), { anyContentType: true })).toBe("{}");
    expect(Array.from(await readBodyBytes(request(new Uint8Array([0xff, 0x00])), { anyContentType: true }))).toEqual([0xff, 0x00]);
    expect(await refusal(readBody(request(new Uint8Array([0xff, 0xfe, 0xfd]))))).toEqual({ status: 400, code: "invalid_body" });
  });
});
