import { describe, expect, it } from "vitest";
import { uploadStream, type ObjectStore } from "./stream-upload";

function memoryStore(opts: { failPart?: number } = {}) {
  const log: string[] = [];
  const objects = new Map<string, Uint8Array>();
  const store: ObjectStore = {
    async put(key, bytes) {
      log.push(`put ${bytes.length}`);
      objects.set(key, bytes.slice());
    },
    async startMultipart(key) {
      const parts = new Map<number, Uint8Array>();
      return {
        async uploadPart(n, bytes) {
          if (n === opts.failPart) throw new Error("part refused");
          log.push(`part ${n} ${bytes.length}`);
          parts.set(n, bytes.slice());
          return { partNumber: n, etag: `e${n}` };
        },
        async complete(list) {
          log.push(`complete ${list.map((p) => p.etag).join(",")}`);
          const all = list.flatMap((p) => [...(parts.get(p.partNumber) ?? [])]);
          objects.set(key, new Uint8Array(all));
        },
        async abort() {
          log.push("abort");
        },
      };
    },
  };
  return { store, log, objects };
}

const streamOf = (...chunks: number[]): ReadableStream<Uint8Array> => {
  let i = 0;
  let next = 0;
  return new ReadableStream({
    pull(c) {
      const n = chunks[i++];
      if (n === undefined) return c.close();
      c.enqueue(new Uint8Array(n).map(() => next++ % 256));
    },
  });
};

describe("uploadStream", () => {
  it("puts a stream smaller than a part as one object", async () => {
    const { store, log, objects } = memoryStore();
    expect(await uploadStream(store, "k", streamOf(3, 4), { contentType: "text/csv", partBytes: 10 })).toEqual({ bytes: 7, parts: 0 });
    expect(log).toEqual(["put 7"]);
    expect([...(objects.get("k") ?? [])]).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("cuts a bigger stream into parts of one size whatever its chunks, the last one shorter, and the object is the stream", async () => {
    const { store, log, objects } = memoryStore();
    expect(await uploadStream(store, "k", streamOf(7, 15, 1, 2), { contentType: "text/csv", partBytes: 10 })).toEqual({ bytes: 25, parts: 3 });
    expect(log).toEqual(["part 1 10", "part 2 10", "part 3 5", "complete e1,e2,e3"]);
    expect([...(objects.get("k") ?? [])]).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("aborts the upload when a part fails, leaving no object", async () => {
    const { store, log, objects } = memoryStore({ failPart: 2 });
    await expect(uploadStream(store, "k", streamOf(25), { contentType: "text/csv", partBytes: 10 })).rejects.toThrow("part refused");
    expect(log).toEqual(["part 1 10", "abort"]);
    expect(objects.size).toBe(0);
  });
});
