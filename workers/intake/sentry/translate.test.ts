import { describe, expect, it } from "vitest";
import { Event } from "../../../schemas";
import { translateEnvelope, translateStore } from "./index";

const enc = (s: string) => new TextEncoder().encode(s);
const envelope = (headers: object, ...items: [object, object][]) =>
  enc([JSON.stringify(headers), ...items.flatMap(([h, p]) => [JSON.stringify(h), JSON.stringify(p)])].join("\n"));

// What @sentry/node sends for `captureException(new TypeError("boom"))`, trimmed.
const nodeError = {
  event_id: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
  timestamp: 1_780_000_000.5,
  platform: "node",
  level: "error",
  environment: "production",
  release: "shop@1.4.2",
  server_name: "web-1",
  sdk: { name: "sentry.javascript.node", version: "11.12.0" },
  user: { id: 42, email: "jane@example.com" },
  tags: { region: "eu", beta: true },
  contexts: {
    os: { name: "Linux", version: "6.1" },
    runtime: { name: "node", version: "v20.19.0" },
    trace: { trace_id: "t".repeat(32), span_id: "s".repeat(16) },
    cart: { items: 3 },
  },
  breadcrumbs: [
    { timestamp: 1_780_000_000.1, category: "console", level: "log", message: "loading" },
    { timestamp: 1_780_000_000.2, category: "http", type: "http", data: { url: "/api", status_code: 500 } },
  ],
  exception: {
    values: [
      { type: "Error", value: "root cause" },
      {
        type: "TypeError",
        value: "boom",
        mechanism: { type: "generic", handled: true },
        stacktrace: {
          frames: [
            { filename: "node:internal/process", function: "processTicks", lineno: 1, colno: 2, in_app: false },
            { filename: "/app/src/cart.js", module: "cart", function: "checkout", lineno: 10, colno: 5, in_app: true },
          ],
        },
      },
    ],
  },
};

describe("event items", () => {
  it("become crash events with type, message, innermost-first frames, user, context and labels", () => {
    const batch = translateEnvelope(envelope({ event_id: nodeError.event_id, sent_at: "2026-05-28T20:26:41.000Z", dsn: "http://wk_1@edge/1" }, [{ type: "event" }, nodeError]));
    expect(batch).toMatchObject({ id: nodeError.event_id, key: "wk_1", sentAt: "2026-05-28T20:26:41.000Z" });
    const parsed = Event.parse(batch.events[0]);
    expect(parsed).toMatchObject({
      type: "crash",
      messageId: nodeError.event_id,
      userId: "42",
      timestamp: 1_780_000_000_500,
      traits: { email: "jane@example.com" },
      context: { library: { name: "sentry.javascript.node", version: "11.12.0" }, app: { version: "shop@1.4.2" }, os: { name: "Linux", version: "6.1" }, runtime: { name: "node" } },
      properties: {
        environment: "production",
        release: "shop@1.4.2",
        level: "error",
        serverName: "web-1",
        tags: { region: "eu", beta: "true" },
        traceId: "t".repeat(32),
        contexts: { cart: { items: 3 } },
        causes: [{ type: "Error", value: "root cause" }],
        breadcrumbs: [{ category: "console", message: "loading" }, { category: "http", data: { status_code: 500 } }],
      },
      error: {
        type: "TypeError",
        message: "boom",
        fatal: false,
        handled: true,
        frames: [
          { function: "checkout", file: "/app/src/cart.js", line: 10, column: 5, inApp: true },
          { function: "processTicks", file: "node:internal/process", inApp: false },
        ],
      },
    });
  });

  it("makes an unhandled exception or a fatal level fatal", () => {
    const unhandled = { ...nodeError, exception: { values: [{ type: "Error", value: "x", mechanism: { type: "onuncaughtexception", handled: false } }] } };
    expect(Event.parse(translateStore(enc(JSON.stringify(unhandled))).events[0])).toMatchObject({ error: { fatal: true, handled: false } });
    expect(Event.parse(translateStore(enc(JSON.stringify({ ...nodeError, level: "fatal" }))).events[0])).toMatchObject({ error: { fatal: true } });
  });

  it("keeps a message-only event as a Message crash, and one without a user under its trace", () => {
    const msg = { event_id: "m1", level: "warning", message: "disk almost full", timestamp: 1_780_000_000, contexts: { trace: { trace_id: "abc" } } };
    const parsed = Event.parse(translateStore(enc(JSON.stringify(msg))).events[0]);
    expect(parsed).toMatchObject({ type: "crash", anonymousId: "abc", error: { type: "Message", message: "disk almost full", fatal: false }, properties: { level: "warning" } });
    const logentry = { event_id: "m2", logentry: { message: "user %s", formatted: "user 7" }, exception: { values: [{ value: "user 7", mechanism: { synthetic: true }, stacktrace: { frames: [{ function: "f" }] } }] } };
    expect(Event.parse(translateStore(enc(JSON.stringify(logentry))).events[0])).toMatchObject({ anonymousId: "m2", error: { type: "Message", message: "user 7", frames: [{ function: "f" }] } });
  });

  it("takes the page and user agent of a browser event", () => {
    const browser = { event_id: "b1", platform: "javascript", request: { url: "https://shop.example/cart?x=1", headers: { "User-Agent": "Mozilla/5.0 Chrome/120" } }, user: { ip_address: "{{auto}}" }, exception: { values: [{ type: "Error", value: "x" }] } };
    expect(Event.parse(translateStore(enc(JSON.stringify(browser))).events[0])).toMatchObject({ context: { page: { url: "https://shop.example/cart?x=1", path: "/cart" }, userAgent: "Mozilla/5.0 Chrome/120" } });
    expect(JSON.stringify(translateStore(enc(JSON.stringify(browser))).events[0])).not.toContain("{{auto}}");
  });

  it("keeps a crash within the event size limit however many frames, breadcrumbs, tags and extras it carries", () => {
    const frames = Array.from({ length: 500 }, (_, i) => ({ filename: `https://cdn.example/${"x".repeat(150)}/${i}.js`, function: `fn${i}`, lineno: i }));
    const breadcrumbs = Array.from({ length: 100 }, (_, i) => ({ message: `step ${i} ${"y".repeat(300)}` }));
    const tags = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`tag${i}`, "v".repeat(150)]));
    const extra = { small: 1, blob: "z".repeat(50_000) };
    const contexts = { cart: { items: "c".repeat(50_000) }, flags: { beta: true } };
    const big = { event_id: "big", tags, extra, contexts, breadcrumbs: { values: breadcrumbs }, exception: { values: [{ type: "E", value: "v", stacktrace: { frames } }] } };
    const event = translateStore(enc(JSON.stringify(big))).events[0];
    expect(JSON.stringify(event).length).toBeLessThan(32 * 1024);
    const parsed = Event.parse(event);
    expect(parsed.type === "crash" && parsed.error.frames[0]?.function).toBe("fn499");
    expect(JSON.stringify(parsed.properties)).toContain("step 99");
    expect(parsed.properties).toMatchObject({ extra: { small: 1 }, contexts: { flags: { beta: true } } });
  });
});

describe("transaction items", () => {
  it("become a perf event for the transaction, one per measured vital and one per finished span", () => {
    const tx = {
      type: "transaction",
      event_id: "tx1",
      transaction: "GET /cart",
      start_timestamp: 1_780_000_000,
      timestamp: 1_780_000_000.25,
      contexts: { trace: { trace_id: "tr", span_id: "root", op: "http.server", status: "ok" } },
      measurements: { lcp: { value: 1840, unit: "millisecond" } },
      spans: [
        { span_id: "sp1", parent_span_id: "root", op: "db.query", description: "SELECT 1", start_timestamp: 1_780_000_000.01, timestamp: 1_780_000_000.05 },
        { span_id: "sp2", op: "http.client", start_timestamp: 1_780_000_000.1 },
      ],
    };
    const batch = translateEnvelope(envelope({ event_id: "tx1" }, [{ type: "transaction" }, tx]));
    expect(batch.id).toBe("tx1");
    const events = batch.events.map((e) => Event.parse(e));
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ type: "perf", messageId: "tx1", metric: { name: "GET /cart", value: 250, unit: "ms" }, properties: { kind: "transaction", op: "http.server", status: "ok", spans: 2, measurements: { lcp: 1840 } } });
    expect(events[1]).toMatchObject({ type: "perf", messageId: "tx1:m:LCP", timestamp: 1_780_000_000_000, metric: { name: "LCP", value: 1840, unit: "ms" } });
    expect(events[1]?.properties).not.toHaveProperty("kind");
    expect(events[2]).toMatchObject({ type: "perf", messageId: "tx1:sp1", timestamp: 1_780_000_000_010, metric: { name: "db.query", value: 40 }, properties: { kind: "span", transaction: "GET /cart", description: "SELECT 1", parentSpanId: "root" } });
  });
});

describe("transactions for the performance and network views", () => {
  // What @sentry/browser sends for a page load, trimmed: vitals as measurements, fetches as http.client spans.
  const pageload = {
    type: "transaction",
    event_id: "pl1",
    platform: "javascript",
    transaction: "/products/:id",
    start_timestamp: 1_780_000_000,
    timestamp: 1_780_000_002,
    request: { url: "https://shop.example/products/88123?ref=mail", headers: { "User-Agent": "Mozilla/5.0" } },
    contexts: { trace: { trace_id: "tr", span_id: "root", op: "pageload" } },
    measurements: {
      lcp: { value: 2.9, unit: "second" },
      fcp: { value: 812.5, unit: "millisecond" },
      ttfb: { value: 120, unit: "millisecond" },
      cls: { value: 0.12, unit: "" },
      inp: { value: 240, unit: "millisecond" },
      "ttfb.requestTime": { value: 30, unit: "millisecond" },
      fp: { value: 700, unit: "millisecond" },
      app_start_cold: { value: 1200, unit: "millisecond" },
      lcp_weird: { value: 1, unit: "millisecond" },
    },
    spans: [
      {
        span_id: "f1", op: "http.client", description: "GET https://api.example.com/v1/products/88123?fields=all", status: "ok", start_timestamp: 1_780_000_000.5, timestamp: 1_780_000_000.62,
        data: { "http.method": "GET", url: "https://api.example.com/v1/products/88123", "http.query": "?fields=all", "http.response.status_code": 200, "http.response_content_length": 5120, "http.request.body.size": 0 },
      },
      {
        span_id: "f2", op: "http.client", description: "POST https://api.example.com/v1/cart", status: "internal_error", start_timestamp: 1_780_000_001, timestamp: 1_780_000_001.3,
        data: { "http.request.method": "POST", url: "https://api.example.com/v1/cart", "http.response.status_code": "503", "http.request_content_length": 88 },
      },
      { span_id: "f3", op: "http.client", description: "GET https://api.example.com/v1/recs", status: "deadline_exceeded", start_timestamp: 1_780_000_001, timestamp: 1_780_000_001.9 },
      { span_id: "f4", op: "http.client", description: "GET /v1/session", status: "unknown_error", start_timestamp: 1_780_000_001, timestamp: 1_780_000_001.01, data: {} },
      { span_id: "r1", op: "resource.script", description: "https://cdn.example/app.js", start_timestamp: 1_780_000_000.1, timestamp: 1_780_000_000.2 },
    ],
  };

  it("turn measured vitals and app starts into perf metrics of their own, in ms, with ids a retry repeats", () => {
    const events = translateEnvelope(envelope({ event_id: "pl1" }, [{ type: "transaction" }, pageload])).events.map((e) => Event.parse(e));
    const vitals = events.filter((e) => e.type === "perf" && e.messageId?.startsWith("pl1:m:"));
    expect(vitals.map((e) => (e.type === "perf" ? [e.messageId, e.metric.name, e.metric.value, e.metric.unit] : []))).toEqual([
      ["pl1:m:LCP", "LCP", 2900, "ms"],
      ["pl1:m:FCP", "FCP", 812.5, "ms"],
      ["pl1:m:TTFB", "TTFB", 120, "ms"],
      ["pl1:m:CLS", "CLS", 0.12, "score"],
      ["pl1:m:INP", "INP", 240, "ms"],
      ["pl1:m:app_start_cold", "app_start_cold", 1200, "ms"],
    ]);
    // The page the vitals were measured on, for the views by page.
    expect(vitals[0]?.context).toMatchObject({ page: { path: "/products/88123" } });
  });

  it("turn http.client spans into network calls besides their perf spans", () => {
    const events = translateEnvelope(envelope({}, [{ type: "transaction" }, pageload])).events.map((e) => Event.parse(e));
    const calls = events.filter((e) => e.type === "network");
    expect(calls.map((e) => e.messageId)).toEqual(["pl1:f1:net", "pl1:f2:net", "pl1:f3:net", "pl1:f4:net"]);
    expect(calls.map((e) => (e.type === "network" ? e.request : {}))).toEqual([
      { method: "GET", url: "https://api.example.com/v1/products/88123?fields=all", status: 200, duration: 120, requestBytes: 0, responseBytes: 5120 },
      { method: "POST", url: "https://api.example.com/v1/cart", status: 503, duration: 300, requestBytes: 88 },
      { method: "GET", url: "https://api.example.com/v1/recs", duration: 900, error: "deadline exceeded" },
      { method: "GET", url: "/v1/session", duration: 10, error: "unknown error" },
    ]);
    expect(calls[0]).toMatchObject({ timestamp: 1_780_000_000_500, anonymousId: "tr", context: { page: { path: "/products/88123" } }, properties: { transaction: "/products/:id", spanId: "f1" } });
    expect(events.filter((e) => e.type === "perf" && e.metric.name === "http.client")).toHaveLength(4);
  });

  it("give every span the transaction's name exactly as its metric has it, however long", () => {
    const long = `GET /${"x".repeat(300)}`;
    const events = translateEnvelope(envelope({}, [{ type: "transaction" }, { ...pageload, transaction: long }])).events.map((e) => Event.parse(e));
    const txn = events.find((e) => e.type === "perf" && e.properties?.kind === "transaction");
    const name = txn?.type === "perf" ? txn.metric.name : "";
    expect(name).toHaveLength(128);
    const spans = events.filter((e) => e.type === "perf" && e.properties?.kind === "span");
    expect(spans.length).toBe(5);
    for (const s of spans) expect(s.properties?.transaction).toBe(name);
  });

  it("read vitals and calls from streamed spans too, with a long segment name cut the same for the segment and its children", () => {
    const attr = (value: unknown, type = "string") => ({ value, type });
    const long = `checkout ${"y".repeat(300)}`;
    const container = {
      version: 2,
      items: [
        {
          name: "GET https://api.example.com/v1/orders/77123", span_id: "h1", trace_id: "tr2", start_timestamp: 1_780_000_000, end_timestamp: 1_780_000_000.25, status: "ok",
          attributes: { "sentry.op": attr("http.client"), "sentry.segment.name": attr(long), "http.request.method": attr("GET"), url: attr("https://api.example.com/v1/orders/77123"), "http.response.status_code": attr(404, "integer"), "http.response.body.size": attr(310, "integer") },
        },
        { name: "click button", span_id: "i1", trace_id: "tr2", start_timestamp: 1_780_000_000, end_timestamp: 1_780_000_000.3, attributes: { "sentry.op": attr("ui.interaction.click"), "sentry.segment.name": attr(long) }, measurements: { inp: { value: 312, unit: "millisecond" } } },
        { name: long, span_id: "root", trace_id: "tr2", start_timestamp: 1_780_000_000, end_timestamp: 1_780_000_001, is_segment: true, attributes: { "sentry.op": attr("ui.action") } },
      ],
    };
    const events = translateEnvelope(envelope({}, [{ type: "span" }, container])).events.map((e) => Event.parse(e));
    const call = events.find((e) => e.type === "network");
    expect(call).toMatchObject({ messageId: "tr2:h1:net", request: { method: "GET", url: "https://api.example.com/v1/orders/77123", status: 404, duration: 250, responseBytes: 310 } });
    expect(events.find((e) => e.type === "perf" && e.metric.name === "INP")).toMatchObject({ messageId: "tr2:i1:m:INP", metric: { value: 312, unit: "ms" } });
    const segment = events.find((e) => e.type === "perf" && e.properties?.kind === "transaction");
    const name = segment?.type === "perf" ? segment.metric.name : "";
    expect(name).toHaveLength(128);
    for (const s of events.filter((e) => e.type === "perf" && e.properties?.kind === "span")) expect(s.properties?.transaction).toBe(name);
  });
});

describe("session items", () => {
  const session = { sid: "s1", did: "42", init: true, started: "2026-05-28T20:00:00.000Z", timestamp: "2026-05-28T20:00:05.000Z", status: "crashed", errors: 1, duration: 5, attrs: { release: "shop@1.4.2", environment: "production", user_agent: "node" } };

  it("become $session tracks keyed by session id; a retried update dedups, the next one does not", () => {
    const batch = translateEnvelope(envelope({ sent_at: "2026-05-28T20:00:06Z", sdk: { name: "sentry.javascript.node", version: "11" } }, [{ type: "session" }, session], [{ type: "session" }, { ...session, init: false, status: "exited" }]));
    const [first, second] = batch.events.map((e) => Event.parse(e));
    expect(batch.id).toBeNull();
    expect(first).toMatchObject({ type: "track", event: "$session", anonymousId: "s1", context: { sessionId: "s1", app: { version: "shop@1.4.2" } }, properties: { sid: "s1", did: "42", status: "crashed", errors: 1, init: true, duration: 5, release: "shop@1.4.2", environment: "production" } });
    expect(first?.messageId).toBe(translateEnvelope(envelope({}, [{ type: "session" }, session])).events.map((e) => Event.parse(e))[0]?.messageId);
    expect(second?.messageId).not.toBe(first?.messageId);
  });

  it("become one $sessions track per aggregate bucket with its counts", () => {
    const agg = { aggregates: [{ started: "2026-05-28T20:00:00Z", exited: 10, errored: 2, crashed: 1 }, { started: "2026-05-28T20:01:00Z", exited: 4 }], attrs: { release: "r1", environment: "staging" } };
    const events = translateEnvelope(envelope({ sent_at: "2026-05-28T20:02:00Z" }, [{ type: "sessions" }, agg])).events.map((e) => Event.parse(e));
    expect(events.map((e) => e.properties)).toMatchObject([
      { exited: 10, errored: 2, abnormal: 0, crashed: 1, release: "r1", environment: "staging" },
      { exited: 4, errored: 0, crashed: 0 },
    ]);
    expect(events[0]?.messageId).not.toBe(events[1]?.messageId);
  });
});

describe("other items", () => {
  it("are ignored, and a payload that is not JSON is refused with a 400 naming the item", () => {
    const batch = translateEnvelope(envelope({}, [{ type: "client_report" }, { discarded_events: [] }], [{ type: "replay_event" }, {}]));
    expect(batch.events).toEqual([]);
    expect(() => translateEnvelope(enc('{}\n{"type":"event"}\nnot json'))).toThrow(/item 0 \(event\) is not valid JSON/);
    const binary = new Uint8Array([...enc('{}\n{"type":"attachment","length":3}\n'), 0xff, 0xfe, 0x00]);
    expect(translateEnvelope(binary).events).toEqual([]);
  });
});

describe("span items", () => {
  it("become perf events as SDKs that stream spans send them: the segment as the transaction, children by op", () => {
    const attr = (value: unknown, type = "string") => ({ value, type });
    const container = {
      version: 2,
      items: [
        {
          name: "load cart", span_id: "c1", trace_id: "tr", parent_span_id: "root", start_timestamp: 1_780_000_000.1, end_timestamp: 1_780_000_000.13, is_segment: false, status: "ok",
          attributes: { "sentry.op": attr("db.query"), "sentry.segment.name": attr("checkout"), "sentry.release": attr("r9"), "user.id": attr("u1"), "db.system": attr("postgresql") },
        },
        { name: "checkout", span_id: "root", trace_id: "tr", start_timestamp: 1_780_000_000, end_timestamp: 1_780_000_000.2, is_segment: true, attributes: { "sentry.op": attr("task"), "sentry.environment": attr("e2e") } },
        { name: "unfinished", span_id: "x", trace_id: "tr", start_timestamp: 1_780_000_000 },
      ],
    };
    const events = translateEnvelope(envelope({ sdk: { name: "sentry.javascript.node", version: "11" } }, [{ type: "span", item_count: 3, content_type: "application/vnd.sentry.items.span.v2+json" }, container])).events.map((e) => Event.parse(e));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: "perf", messageId: "tr:c1", userId: "u1", anonymousId: "tr", context: { app: { version: "r9" }, library: { name: "sentry.javascript.node" } }, metric: { name: "db.query", value: 30 }, properties: { kind: "span", transaction: "checkout", description: "load cart", attributes: { "db.system": "postgresql" } } });
    expect(events[1]).toMatchObject({ messageId: "tr:root", metric: { name: "checkout", value: 200 }, properties: { kind: "transaction", transaction: "checkout", op: "task", environment: "e2e" } });
  });
});
