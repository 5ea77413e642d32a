import { describe, expect, it } from "vitest";
import { decodeSinkMessage, encodeSinkMessage, sinkMessageHead } from "../../schemas";
import { frameMessage, joinMembers, packText, queueBodyText, readFrame, unpackText } from "./packed";

describe("packed queue bodies", () => {
  const rows = Array.from({ length: 80 }, (_, i) => JSON.stringify(["app_a", "track", `Checkout Step ${i % 7}`, `m-${i}`, { plan: "pro", path: "/checkout", é: "ü\u{1F600}" }]));

  it("packs an event message to a fraction of its text and reads it back whole", () => {
    const text = encodeSinkMessage("app_a:0:3", "app_a", rows, { check: [2, 5] });
    const packed = packText(text);
    expect(packed.byteLength).toBeLessThan(new TextEncoder().encode(text).byteLength / 4);
    // The queue hands a bytes body to the consumer as an ArrayBuffer.
    const delivered = packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength);
    expect(queueBodyText(delivered)).toBe(text);
    expect(decodeSinkMessage(queueBodyText(packed))).toEqual({ batchId: "app_a:0:3", appId: "app_a", rows, check: [2, 5] });
  });

  it("reads members laid end to end as one message: a header and chunks packed apart", () => {
    const head = sinkMessageHead("app_a:0:9", "app_a", { shard: 2 });
    const body = joinMembers([packText(head), packText(`\n${rows.slice(0, 30).join("\n")}`), packText(`\n${rows.slice(30).join("\n")}`)]);
    expect(queueBodyText(body)).toBe(encodeSinkMessage("app_a:0:9", "app_a", rows, { shard: 2 }));
    expect(decodeSinkMessage(queueBodyText(body))?.rows).toEqual(rows);
  });

  it("frames a message whose header member names its length: the header read alone, the whole read as before by any gzip reader", () => {
    const head = sinkMessageHead("app_a:0:9", "app_a", { shard: 2, chunks: ["app_a:0:9", "app_a:0:10"], count: rows.length });
    const members = [packText(`\n${rows.slice(0, 30).join("\n")}`), packText(`\n${rows.slice(30).join("\n")}`)];
    const body = frameMessage(head, members);
    const frame = readFrame(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    expect(frame?.head).toBe(head);
    // The members exactly as given, for ClickHouse to unpack.
    expect(frame && unpackText(frame.packed)).toBe(`\n${rows.join("\n")}`);
    expect(frame?.packed.byteLength).toBe(members.reduce((n, m) => n + m.byteLength, 0));
    expect(decodeSinkMessage(queueBodyText(body))).toEqual({ batchId: "app_a:0:9", appId: "app_a", shard: 2, chunks: ["app_a:0:9", "app_a:0:10"], count: rows.length, rows });
    // Bodies of versions before are no frame: a member without the length, and a text body.
    expect(readFrame(joinMembers([packText(head), ...members]))).toBeNull();
    expect(readFrame(head)).toBeNull();
    // A length past the body's end is no frame either.
    const tampered = new Uint8Array(body);
    new DataView(tampered.buffer).setUint32(16, body.byteLength + 1, true);
    expect(readFrame(tampered)).toBeNull();
    // A frame whose members do not unpack is no message.
    expect(queueBodyText(frameMessage(head, [new TextEncoder().encode("not gzip")]))).toBeNull();
  });

  it("passes text bodies as they are, and takes other bytes for no message", () => {
    const text = encodeSinkMessage("app_a:0:4", "app_a", rows.slice(0, 2));
    expect(queueBodyText(text)).toBe(text);
    expect(queueBodyText(new TextEncoder().encode("not gzip"))).toBeNull();
    // A member cut short is no message either, rather than the rows before the cut.
    const packed = packText(text);
    expect(queueBodyText(packed.subarray(0, packed.byteLength - 6))).toBeNull();
    expect(queueBodyText({ not: "bytes" })).toBeNull();
  });
});
