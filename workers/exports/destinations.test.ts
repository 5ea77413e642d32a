// The S3 destination against a real S3-compatible server (s3rver, in this process): a small file
// is one signed PUT, a big one a signed multipart upload in 5 MiB parts, both read back byte for
// byte; wrong credentials are refused with S3's error in the message.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_PART_BYTES, uploadStream } from "../lib/stream-upload";
import { s3Store } from "./destinations";

let server: S3rver;
let endpoint = "";
let dir = "";
// s3rver's own fixed credentials.
const KEY = { accessKeyId: "S3RVER", secret: "S3RVER" };
const dest = (accessKeyId = KEY.accessKeyId) => ({ kind: "s3" as const, endpoint, bucket: "team-exports", region: "us-east-1", accessKeyId, prefix: "" });

const bytesOf = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 7) % 256);
const streamOf = (bytes: Uint8Array, chunk = 1 << 20): ReadableStream<Uint8Array> => {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "exports-s3-"));
  server = new S3rver({ port: 0, address: "127.0.0.1", directory: dir, silent: true, configureBuckets: [{ name: "team-exports", configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  endpoint = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function read(key: string): Promise<Uint8Array> {
  const res = await fetch(`${endpoint}/team-exports/${key}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe("S3-compatible destination", () => {
  it("writes a small file with one PUT and a big one in parts, both read back whole", async () => {
    const store = s3Store(dest(), KEY.secret, { localMode: true });
    const small = bytesOf(1000);
    expect(await uploadStream(store, "exports/app_shop/exp_1/2026-12-01.csv", streamOf(small), { contentType: "text/csv" })).toEqual({ bytes: 1000, parts: 0 });
    expect(await read("exports/app_shop/exp_1/2026-12-01.csv")).toEqual(small);

    const big = bytesOf(MIN_PART_BYTES * 2 + 4321);
    expect(await uploadStream(store, "exports/app_shop/exp_1/2026-12-02.parquet", streamOf(big), { contentType: "application/vnd.apache.parquet" })).toEqual({ bytes: big.length, parts: 3 });
    expect(Buffer.from(await read("exports/app_shop/exp_1/2026-12-02.parquet")).equals(Buffer.from(big))).toBe(true);
  });

  it("fails with the service's answer when the credentials are wrong, and refuses a private endpoint outside local mode", async () => {
    const store = s3Store(dest("NOT-A-KEY"), "wrong", { localMode: true });
    await expect(uploadStream(store, "exports/x.csv", streamOf(bytesOf(10)), { contentType: "text/csv" })).rejects.toThrow(/HTTP 403 InvalidAccessKeyId/);
    expect(() => s3Store(dest(), KEY.secret)).toThrow(/endpoint/);
  });
});
