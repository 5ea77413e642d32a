import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { chQuery, createTestApp, type TestApp } from "../../test/seed";

const NOW_S = () => Date.now() / 1000;

function id(): string {
  return crypto.randomUUID().replace(/-/g, "");
}

function envelope(headers: object, ...items: Array<[object, object]>): string {
  return [JSON.stringify(headers), ...items.flatMap(([h, p]) => [JSON.stringify(h), JSON.stringify(p)])].join("\n");
}

function send(path: string, body: BodyInit | null, headers: Record<string, string> = {}, method = "POST"): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, { method, headers, body });
}

const envelopePath = (app: TestApp) => `/api/1/envelope/?sentry_key=${app.key}&sentry_version=7`;

async function compress(text: string, format: "gzip" | "deflate"): Promise<ArrayBuffer> {
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer();
}

function errorEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: id(),
    timestamp: NOW_S(),
    platform: "node",
    level: "error",
    release: "shop@2.0.0",
    environment: "production",
    user: { id: "user-7" },
    tags: { region: "eu" },
    contexts: { os: { name: "Linux", version: "6.1" }, runtime: { name: "node", version: "v20" } },
    exception: {
      values: [
        {
          type: "RangeError",
          value: "index out of range",
          mechanism: { type: "generic", handled: true },
          stacktrace: { frames: [{ filename: "/app/main.js", function: "main", lineno: 1, in_app: true }, { filename: "/app/list.js", function: "at", lineno: 42, colno: 7, in_app: true }] },
        },
      ],
    },
    ...overrides,
  };
}

interface StoredRow {
  type: string;
  event: string;
  message_id: string;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  app_version: string;
  os_name: string;
  library_name: string;
  crash_type: string;
  crash_message: string;
  crash_fatal: number;
  perf_metric: string;
  perf_value: number;
  duration_ms: number;
  properties: string;
}

/** Flushes the app's buffer and waits until `n` rows of it are in ClickHouse. */
async function stored(app: TestApp, n: number): Promise<StoredRow[]> {
  const stub = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:0`));
  const query = () =>
    chQuery<StoredRow>(
      `SELECT type, event, message_id, user_id, anonymous_id, session_id, app_version, os_name, library_name, crash_type, crash_message,
              crash_fatal, perf_metric, perf_value, duration_ms, properties
       FROM events WHERE app_id = {app:String} ORDER BY timestamp, message_id`,
      { app: app.appId },
    );
  await vi.waitUntil(
    async () => {
      await runDurableObjectAlarm(stub);
      return (await query()).length >= n;
    },
    { timeout: 30_000, interval: 300 },
  );
  return query();
}

describe("Sentry item types", () => {
  it("stores an event item as a crash with its type, message, release, user and labels", async () => {
    const app = await createTestApp();
    const event = errorEvent();
    const res = await send(envelopePath(app), envelope({ event_id: event.event_id, sent_at: new Date().toISOString(), sdk: { name: "sentry.javascript.node", version: "11.12.0" } }, [{ type: "event" }, event]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: event.event_id });
    const [row] = await stored(app, 1);
    expect(row).toMatchObject({ type: "crash", event: "RangeError", message_id: event.event_id, user_id: "user-7", app_version: "shop@2.0.0", os_name: "Linux", crash_type: "RangeError", crash_message: "index out of range", crash_fatal: 0 });
    const props = JSON.parse(row?.properties ?? "{}") as { environment: string; tags: object; error: { frames: Array<{ function: string }> } };
    expect(props).toMatchObject({ environment: "production", tags: { region: "eu" } });
    expect(props.error.frames.map((f) => f.function)).toEqual(["at", "main"]);
  });

  it("stores a message event, and an unhandled exception as fatal, through the store endpoint too", async () => {
    const app = await createTestApp();
    const message = { event_id: id(), timestamp: NOW_S(), level: "info", message: "cache warmed" };
    const fatal = errorEvent({ exception: { values: [{ type: "Error", value: "crash", mechanism: { type: "onuncaughtexception", handled: false } }] } });
    expect((await send(`/api/1/store/?sentry_key=${app.key}`, JSON.stringify(message), { "content-type": "application/json" })).status).toBe(200);
    const res = await send(`/api/1/store?sentry_key=${app.key}`, JSON.stringify(fatal));
    expect(await res.json()).toEqual({ id: fatal.event_id });
    const rows = await stored(app, 2);
    expect(rows.find((r) => r.message_id === message.event_id)).toMatchObject({ type: "crash", crash_type: "Message", crash_message: "cache warmed", crash_fatal: 0 });
    expect(rows.find((r) => r.message_id === fatal.event_id)).toMatchObject({ crash_fatal: 1 });
  });

  it("stores a transaction and its finished spans as perf events with their durations", async () => {
    const app = await createTestApp();
    const start = NOW_S() - 1;
    const tx = {
      type: "transaction",
      event_id: id(),
      transaction: "GET /cart",
      start_timestamp: start,
      timestamp: start + 0.5,
      contexts: { trace: { trace_id: id(), span_id: "a".repeat(16), op: "http.server", status: "ok" } },
      spans: [{ span_id: "b".repeat(16), op: "db.query", description: "SELECT cart", start_timestamp: start + 0.1, timestamp: start + 0.3 }],
    };
    const res = await send(envelopePath(app), envelope({ event_id: tx.event_id }, [{ type: "transaction" }, tx]));
    expect(await res.json()).toEqual({ id: tx.event_id });
    const rows = await stored(app, 2);
    expect(rows.map((r) => [r.type, r.perf_metric, Math.round(r.duration_ms)])).toEqual([
      ["perf", "GET /cart", 500],
      ["perf", "db.query", 200],
    ]);
    expect(JSON.parse(rows[1]?.properties ?? "{}")).toMatchObject({ kind: "span", transaction: "GET /cart", description: "SELECT cart" });
  });

  it("stores session updates under their session id and aggregates with their counts; client reports are accepted and dropped", async () => {
    const app = await createTestApp();
    const sid = id();
    const started = new Date(Date.now() - 5000).toISOString();
    const session = { sid, init: true, started, timestamp: started, status: "ok", errors: 0, attrs: { release: "shop@2.0.0", environment: "production" } };
    const ended = { ...session, init: false, status: "crashed", errors: 1, timestamp: new Date().toISOString(), duration: 5 };
    const aggregates = { aggregates: [{ started: new Date(Date.now() - 60_000).toISOString(), exited: 9, crashed: 1 }], attrs: { release: "shop@2.0.0" } };
    const report = { timestamp: NOW_S(), discarded_events: [{ reason: "sample_rate", category: "error", quantity: 1 }] };
    const body = envelope({ sent_at: new Date().toISOString() }, [{ type: "session" }, session], [{ type: "session" }, ended], [{ type: "sessions" }, aggregates], [{ type: "client_report" }, report]);
    const res = await send(envelopePath(app), body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    // The same envelope again, as an SDK's offline queue would resend it: nothing more is stored.
    expect((await send(envelopePath(app), body)).status).toBe(200);
    const rows = await stored(app, 3);
    const sessions = rows.filter((r) => r.event === "$session");
    expect(sessions.map((r) => [r.session_id, JSON.parse(r.properties).status])).toEqual([
      [sid, "ok"],
      [sid, "crashed"],
    ]);
    const bucket = rows.find((r) => r.event === "$sessions");
    expect(JSON.parse(bucket?.properties ?? "{}")).toMatchObject({ exited: 9, crashed: 1, errored: 0, release: "shop@2.0.0" });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stored(app, 3)).toHaveLength(3);
  });

  it("answers an envelope of client reports or attachments alone with 200, and still checks its key", async () => {
    const app = await createTestApp();
    const body = envelope({}, [{ type: "client_report" }, { discarded_events: [] }]);
    expect((await send(envelopePath(app), body)).status).toBe(200);
    expect((await send("/api/1/envelope/", envelope({ dsn: `http://${app.key}@edge.test/1` }, [{ type: "client_report" }, {}]))).status).toBe(200);
    const wrong = await send("/api/1/envelope/?sentry_key=wk_nope", body);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ detail: expect.stringContaining("query") });
    expect((await send("/api/1/envelope/", envelope({ dsn: "http://wk_nope@edge.test/1" }, [{ type: "client_report" }, {}]))).status).toBe(401);
    const none = await send("/api/1/envelope/", body);
    expect(none.status).toBe(401);
    expect((await none.json<{ detail: string }>()).detail).toMatch(/DSN's public key/);
  });
});

describe("keys and encodings", () => {
  it("finds the DSN's public key in the query, X-Sentry-Auth, Authorization or the envelope's dsn", async () => {
    const app = await createTestApp();
    const one = () => {
      const e = errorEvent();
      return { e, body: envelope({ event_id: e.event_id }, [{ type: "event" }, e]) };
    };
    const auth = `Sentry sentry_version=7, sentry_client=sentry.javascript.node/11.12.0, sentry_key=${app.key}`;
    const cases: Array<[string, Record<string, string>, (b: string) => string]> = [
      [envelopePath(app), {}, (b) => b],
      ["/api/1/envelope/", { "x-sentry-auth": auth }, (b) => b],
      ["/api/1/envelope", { authorization: auth }, (b) => b],
      ["/api/42/envelope/", {}, (b) => b.replace(/^\{/, `{"dsn":"http://${app.key}@edge.test/42",`)],
    ];
    for (const [path, headers, shape] of cases) {
      const { e, body } = one();
      const res = await send(path, shape(body), headers);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toEqual({ id: e.event_id });
    }
    expect(await stored(app, 4)).toHaveLength(4);
  });

  it("refuses a wrong key wherever it is, in Sentry's {detail} shape", async () => {
    const body = envelope({}, [{ type: "event" }, errorEvent()]);
    for (const [path, headers] of [
      ["/api/1/envelope/?sentry_key=wk_nope", {}],
      ["/api/1/envelope/", { "x-sentry-auth": "Sentry sentry_key=wk_nope" }],
      ["/api/1/store/", { "x-sentry-auth": "Sentry sentry_key=wk_nope" }],
      ["/api/1/envelope/", {}],
    ] as const) {
      const res = await send(path, body, headers);
      expect(res.status, path).toBe(401);
      expect(typeof (await res.json<{ detail: string }>()).detail).toBe("string");
    }
  });

  it("reads gzip and deflate bodies, any content type, and answers a corrupt one with 400", async () => {
    const app = await createTestApp();
    const events = [errorEvent(), errorEvent(), errorEvent()];
    const bodies = events.map((e) => envelope({ event_id: e.event_id }, [{ type: "event" }, e]));
    expect((await send(envelopePath(app), await compress(bodies[0] ?? "", "gzip"), { "content-encoding": "gzip" })).status).toBe(200);
    expect((await send(envelopePath(app), await compress(bodies[1] ?? "", "deflate"), { "content-encoding": "deflate", "content-type": "application/x-sentry-envelope" })).status).toBe(200);
    expect((await send(envelopePath(app), bodies[2] ?? "", { "content-type": "text/plain;charset=UTF-8" })).status).toBe(200);
    expect(await stored(app, 3)).toHaveLength(3);
    const corrupt = await send(envelopePath(app), "not gzip at all", { "content-encoding": "gzip" });
    expect(corrupt.status).toBe(400);
    expect(await corrupt.json()).toMatchObject({ detail: expect.any(String) });
  });

  it("answers a bad envelope and an event nothing of which could be kept with 400, a body too large after decompression with 413, as {detail}", async () => {
    const app = await createTestApp();
    const truncated = await send(envelopePath(app), '{}\n{"type":"event","length":500}\n{"a":1}');
    expect(truncated.status).toBe(400);
    expect((await truncated.json<{ detail: string }>()).detail).toMatch(/shorter than its length/);
    const ancient = await send(envelopePath(app), envelope({}, [{ type: "event" }, errorEvent({ timestamp: 1_000_000_000 })]));
    expect(ancient.status).toBe(400);
    expect((await ancient.json<{ detail: string }>()).detail).toMatch(/timestamp/);
    const huge = envelope({}, [{ type: "attachment" }, { data: "x".repeat(1_100_000) }]);
    const tooLarge = await send(envelopePath(app), await compress(huge, "gzip"), { "content-encoding": "gzip" });
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json<{ detail: string }>()).detail).toMatch(/larger than/);
  });

  it("answers a browser's preflight and exposes the rate-limit headers", async () => {
    const res = await send("/api/1/envelope/", null, { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" }, "OPTIONS");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const post = await send(`/api/1/envelope/?sentry_key=wk_nope`, envelope({}), { origin: "https://shop.example" });
    expect(post.headers.get("access-control-expose-headers")).toMatch(/X-Sentry-Rate-Limits/i);
  });
});

describe("refusals for load", () => {
  it("answers an app over its rate with 429, Retry-After and X-Sentry-Rate-Limits", async () => {
    const app = await createTestApp({ rateLimit: 5 });
    const start = NOW_S();
    const big = () => {
      const tx = { type: "transaction", event_id: id(), transaction: "GET /", start_timestamp: start, timestamp: start + 1, spans: Array.from({ length: 999 }, (_, i) => ({ span_id: `s${i}`, op: "x", start_timestamp: start, timestamp: start + 0.1 })) };
      return envelope({ event_id: tx.event_id }, [{ type: "transaction" }, tx]);
    };
    let refused: Response | null = null;
    for (let i = 0; i < 6 && !refused; i++) {
      const res = await send(envelopePath(app), big());
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(200);
    }
    expect(refused).not.toBeNull();
    const retryAfter = Number(refused?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(refused?.headers.get("x-sentry-rate-limits")).toMatch(new RegExp(`^${retryAfter}::`));
    expect(await refused?.json()).toMatchObject({ detail: expect.any(String) });
  });
});
