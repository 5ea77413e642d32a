import { describe, expect, it } from "vitest";
import { utf8Length, encodeEventRow, ApiError, BatchRequest, BatchResponse, decodeSinkMessage, encodeSinkMessage, Event, EVENT_COLUMNS, EventRow, messageIdOfRow, rowsWithBatchId, toCompactRow, withBatchId } from "./index";

describe("Event", () => {
  it("accepts every event type of the wire contract", () => {
    const base = { anonymousId: "a1", messageId: "m1", timestamp: "2026-11-22T10:00:00.000Z" };
    const samples = [
      { ...base, type: "track", event: "Order Completed", properties: { total: 30 } },
      { ...base, type: "page", name: "Pricing", context: { page: { path: "/pricing" } } },
      { ...base, type: "screen", name: "Checkout" },
      { ...base, type: "identify", userId: "u1", traits: { plan: "pro" } },
      { ...base, type: "alias", userId: "u1", previousId: "a1" },
      { ...base, type: "group", groupId: "acme" },
      { ...base, type: "crash", error: { type: "TypeError", message: "x is undefined", fatal: true, frames: [{ function: "f", file: "a.js", line: 1, inApp: true }] } },
      { ...base, type: "perf", metric: { name: "LCP", value: 1840, unit: "ms" } },
      { ...base, type: "network", request: { method: "GET", url: "https://api.example.com/x", status: 200, duration: 87 } },
    ];
    for (const s of samples) expect(Event.safeParse(s).success, s.type).toBe(true);
  });

  it("turns numeric ids into strings as Segment clients expect", () => {
    const parsed = Event.parse({ type: "identify", userId: 12345 });
    expect(parsed.userId).toBe("12345");
  });

  it("fills crash and perf defaults", () => {
    const crash = Event.parse({ type: "crash", anonymousId: "a", error: { type: "Error" } });
    expect(crash.type === "crash" && crash.error).toMatchObject({ message: "", fatal: false, frames: [] });
    const perf = Event.parse({ type: "perf", anonymousId: "a", metric: { name: "app_start", value: 420 } });
    expect(perf.type === "perf" && perf.metric.unit).toBe("ms");
  });

  it("refuses events without identity, with a wrong type or with wrongly typed fields", () => {
    expect(Event.safeParse({ type: "track", event: "x" }).success).toBe(false);
    expect(Event.safeParse({ type: "teleport", anonymousId: "a" }).success).toBe(false);
    expect(Event.safeParse({ type: "track", anonymousId: "a", event: 5 }).success).toBe(false);
    expect(Event.safeParse({ type: "track", anonymousId: "a", event: "" }).success).toBe(false);
    expect(Event.safeParse({ type: "alias", userId: "u1" }).success).toBe(false);
    expect(Event.safeParse({ type: "perf", anonymousId: "a", metric: { name: "LCP", value: "fast" } }).success).toBe(false);
    expect(Event.safeParse({ type: "network", anonymousId: "a", request: { method: "GET", url: "x", status: 1e6 } }).success).toBe(false);
    expect(Event.safeParse({ type: "track", anonymousId: "x".repeat(300), event: "e" }).success).toBe(false);
  });

  it("keeps unknown context fields and custom properties", () => {
    const parsed = Event.parse({ type: "track", anonymousId: "a", event: "e", context: { custom: { deep: 1 } }, properties: { any: [1, "two"] } });
    expect(parsed.context).toMatchObject({ custom: { deep: 1 } });
    expect(parsed.properties).toEqual({ any: [1, "two"] });
  });
});

describe("batch and answers", () => {
  it("parses a Segment batch without validating its events yet", () => {
    const parsed = BatchRequest.parse({ batch: [{ anything: true }], sentAt: "2026-11-22T10:00:00Z", writeKey: "k" });
    expect(parsed.batch).toHaveLength(1);
    expect(BatchRequest.safeParse({ batch: {} }).success).toBe(false);
  });

  it("describes answers and errors", () => {
    expect(BatchResponse.parse({ accepted: 1, duplicates: 0, rejected: [{ index: 0, messageId: null, code: "too_deep", message: "m" }] }).accepted).toBe(1);
    expect(ApiError.safeParse({ error: { code: "rate_limited", message: "slow down" } }).success).toBe(true);
    expect(ApiError.safeParse({ error: { code: "nope", message: "x" } }).success).toBe(false);
  });
});

describe("sink messages", () => {
  it("round-trips rows and fills the batch id without re-serializing", () => {
    const row = JSON.stringify(["a", "m", ""]);
    const text = encodeSinkMessage("a:0:1", "a", [row, row]);
    const decoded = decodeSinkMessage(text);
    expect(decoded).toEqual({ batchId: "a:0:1", appId: "a", rows: [row, row] });
    expect(JSON.parse(withBatchId(row, "a:0:1"))).toEqual(["a", "m", "a:0:1"]);
    expect(decodeSinkMessage("garbage")).toBeNull();
    expect(decodeSinkMessage({ not: "text" })).toBeNull();
  });

  it("fills a batch's rows with its id in one go, as row by row, whatever the rows hold", () => {
    const current = [
      JSON.stringify([2, "app", "signup", ""]),
      // A value that ends as a row does, and a newline inside a value, which JSON escapes.
      JSON.stringify([2, "app", ["a", ""], "line\nbreak", ""]),
      JSON.stringify([2, "app", "é \u{1F600}", ""]),
    ];
    const oneByOne = (rows: string[]): string => rows.map((r) => withBatchId(toCompactRow(r), "app:0:5")).join("\n");
    expect(rowsWithBatchId(current, "app:0:5")).toBe(oneByOne(current));
    expect(rowsWithBatchId(current, "app:0:5").split("\n").map((l) => (JSON.parse(l) as unknown[]).at(-1))).toEqual(["app:0:5", "app:0:5", "app:0:5"]);
    // Rows of an earlier encoding among them are put in the current form, each.
    const mixed = [...current, JSON.stringify({ batch_id: "", message_id: "m-1", app_id: "app" })];
    expect(rowsWithBatchId(mixed, "app:0:5")).toBe(oneByOne(mixed));
    expect(rowsWithBatchId([], "app:0:5")).toBe("");
    // Rows that already carry their chunk's id (decision record 0034) keep it, whatever the message's id.
    const named = rowsWithBatchId(current, "app:0:7").split("\n");
    expect(rowsWithBatchId(named, "app:0:5")).toBe(named.join("\n"));
  });

  it("encodes every column of a row in EVENT_COLUMNS order", () => {
    const row = Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c, `v${i}`])) as unknown as EventRow;
    expect(JSON.parse(encodeEventRow(row))).toEqual(EVENT_COLUMNS.map((_, i) => `v${i}`));
  });

  it("writes rows as values in column order, and puts object rows in that order too", () => {
    const legacy = JSON.stringify({ batch_id: "", message_id: "m-1", app_id: "app" });
    const compact = JSON.parse(toCompactRow(legacy)) as unknown[];
    expect(compact).toHaveLength(EVENT_COLUMNS.length);
    expect(compact[EVENT_COLUMNS.indexOf("app_id")]).toBe("app");
    expect(compact[EVENT_COLUMNS.indexOf("message_id")]).toBe("m-1");
    expect(compact[EVENT_COLUMNS.indexOf("event")]).toBeNull();
    expect(JSON.parse(withBatchId(toCompactRow(legacy), "app:0:7")).at(-1)).toBe("app:0:7");
    expect(toCompactRow("[1]")).toBe("[1]");
    expect(toCompactRow("[2,1]")).toBe("[2,1]");
    expect(toCompactRow("{not json")).toBe("{not json");
  });

  it("maps rows queued in the value-list encoding before row_format by name, and passes current rows untouched", () => {
    const before = EVENT_COLUMNS.filter((c) => !["row_format", "path_template", "net_template", "net_outcome", "net_request_bytes", "net_response_bytes"].includes(c));
    const old = JSON.stringify(before.map((c) => (c === "net_path" ? "/orders/7" : c === "app_id" ? "app" : c === "batch_id" ? "" : 0)));
    const upgraded = JSON.parse(withBatchId(toCompactRow(old), "app:0:9")) as unknown[];
    expect(upgraded).toHaveLength(EVENT_COLUMNS.length);
    expect(upgraded[EVENT_COLUMNS.indexOf("row_format")]).toBeNull();
    expect(upgraded[EVENT_COLUMNS.indexOf("app_id")]).toBe("app");
    expect(upgraded[EVENT_COLUMNS.indexOf("net_path")]).toBe("/orders/7");
    expect(upgraded[EVENT_COLUMNS.indexOf("net_template")]).toBeNull();
    expect(upgraded.at(-1)).toBe("app:0:9");
    const current = encodeEventRow(Object.fromEntries(EVENT_COLUMNS.map((c) => [c, c === "row_format" ? 2 : ""])) as unknown as EventRow);
    expect(toCompactRow(current)).toBe(current);
  });

  it("reads a row's messageId in every encoding, whatever the text before it holds", () => {
    const values = (over: Record<string, unknown>) => Object.fromEntries(EVENT_COLUMNS.map((c) => [c, c in over ? over[c] : c === "row_format" ? 2 : ""]));
    const tricky = { app_id: "app", type: "track", event: 'say "hi", \\ [2,"x"] \u2028', message_id: 'm-"1"\\é' };
    expect(messageIdOfRow(encodeEventRow(values(tricky) as unknown as EventRow))).toBe('m-"1"\\é');
    expect(messageIdOfRow(encodeEventRow(values({ message_id: "m-\ud800" }) as unknown as EventRow))).toBe("m-\ufffd");
    expect(messageIdOfRow(JSON.stringify({ ...values(tricky), row_format: undefined }))).toBe('m-"1"\\é');
    expect(messageIdOfRow("[2,")).toBeNull();
    expect(messageIdOfRow('[2,"a","b","c",5]')).toBeNull();
    expect(messageIdOfRow("{not json")).toBeNull();
  });

  it("declares a ClickHouse row with every typed dimension", () => {
    const keys = Object.keys(EventRow.shape);
    for (const k of ["app_id", "type", "event", "user_id", "anonymous_id", "session_id", "timestamp", "platform", "os_name", "app_version", "device_model", "country", "city", "browser", "crash_fingerprint", "perf_metric", "net_host", "path", "net_status", "duration_ms"]) {
      expect(keys).toContain(k);
    }
    expect(keys.at(-1)).toBe("batch_id");
  });
});

describe("utf8Length", () => {
  it("counts UTF-8 bytes without encoding", () => {
    for (const text of ["", "plain ascii", "é", "€uro", "👍 ok", "\u0000", "mixed é and 👍 and \ud800 lone"]) {
      expect(utf8Length(text), text).toBe(new TextEncoder().encode(text).byteLength);
    }
  });
});
