import { describe, expect, it } from "vitest";
import { HttpError } from "../../lib/errors";
import { keyFromAuthHeader, keyFromDsn } from "./auth";
import { parseEnvelope } from "./envelope";

const enc = (s: string) => new TextEncoder().encode(s);

function refusal(text: string): string {
  try {
    parseEnvelope(enc(text));
  } catch (err) {
    if (err instanceof HttpError) return `${err.status} ${err.message}`;
    throw err;
  }
  throw new Error("parsed");
}

describe("parseEnvelope", () => {
  it("reads items with and without a length, with or without the last newline", () => {
    const body = '{"event_id":"e1"}\n{"type":"event","length":9}\n{"a":"b"}\n{"type":"session"}\n{"sid":"s"}\n{"type":"client_report"}\n{}';
    const env = parseEnvelope(enc(body));
    expect(env.headers.event_id).toBe("e1");
    expect(env.items.map((i) => i.type)).toEqual(["event", "session", "client_report"]);
    expect(new TextDecoder().decode(env.items[0]?.payload)).toBe('{"a":"b"}');
    expect(new TextDecoder().decode(env.items[2]?.payload)).toBe("{}");
    expect(parseEnvelope(enc(`${body}\n`)).items).toHaveLength(3);
  });

  it("counts a length in bytes, so a payload may hold newlines and multi-byte text", () => {
    const payload = '{"m":"é\\n"}\n';
    const env = parseEnvelope(enc(`{}\n{"type":"attachment","length":${enc(payload).length}}\n${payload}\n`));
    expect(new TextDecoder().decode(env.items[0]?.payload)).toBe(payload);
  });

  it("accepts an envelope of a header alone", () => {
    expect(parseEnvelope(enc('{"dsn":"http://k@h/1"}')).items).toEqual([]);
  });

  it("refuses what it cannot read with a 400 that says where", () => {
    expect(refusal("")).toMatch(/^400 .*header is missing/);
    expect(refusal("nope\n")).toMatch(/^400 the envelope header is not valid JSON/);
    expect(refusal("[]\n")).toMatch(/^400 the envelope header is not a JSON object/);
    expect(refusal('{}\n{"type":"event","length":50}\n{"a":1}')).toMatch(/^400 .*item 0 is shorter than its length/);
    expect(refusal('{}\n{"type":"event","length":2}\n{"a":1}')).toMatch(/^400 .*item 0 is longer than its length/);
    expect(refusal('{}\n{"type":"event","length":-1}\n{}')).toMatch(/invalid length/);
    expect(refusal('{}\n{"length":2}\n{}')).toMatch(/item 0 has no type/);
    expect(refusal("{}\n{type:event}\n{}")).toMatch(/the header of item 0 is not valid JSON/);
  });
});

describe("keys", () => {
  it("reads the public key from an auth header or a DSN", () => {
    expect(keyFromAuthHeader("Sentry sentry_version=7, sentry_client=sentry.javascript.node/11.12.0, sentry_key=wk_1")).toBe("wk_1");
    expect(keyFromAuthHeader("sentry sentry_key=wk_2,sentry_version=7")).toBe("wk_2");
    expect(keyFromAuthHeader("Basic abc")).toBeNull();
    expect(keyFromAuthHeader(null)).toBeNull();
    expect(keyFromDsn("http://wk_3@127.0.0.1:8787/1")).toBe("wk_3");
    expect(keyFromDsn("https://wk_4:secret@o1.example/42")).toBe("wk_4");
    expect(keyFromDsn("not a dsn")).toBeNull();
    expect(keyFromDsn(42)).toBeNull();
  });
});
