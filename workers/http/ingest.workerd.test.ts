import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AppBatcher } from "../../durable-objects/app-batcher";
import { basicAuth, createTestApp, post, trackEvent, type TestApp } from "../../test/seed";
import { clearWriteKeyCache } from "./write-key";

async function buffered(app: TestApp): Promise<number> {
  const stub = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:0`));
  return runInDurableObject(stub, async (instance: AppBatcher) => {
    const s = await instance.stats();
    return s.counters.accepted ?? 0;
  });
}

async function gzip(text: string): Promise<ArrayBuffer> {
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = await res.json<{ error: { code: string; message: string } }>();
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

describe("authentication", () => {
  it("accepts the write key as Basic user, X-Write-Key or writeKey in the body", async () => {
    const app = await createTestApp();
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { authorization: basicAuth(app.key) })).status).toBe(200);
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": app.key })).status).toBe(200);
    expect((await post("/v1/batch", { batch: [trackEvent()], writeKey: app.key })).status).toBe(200);
    expect(await buffered(app)).toBe(3);
  });

  it("refuses a missing, unknown or revoked key with 401", async () => {
    const app = await createTestApp();
    const missing = await post("/v1/batch", { batch: [trackEvent()] });
    expect(missing.status).toBe(401);
    expect((await errorOf(missing)).code).toBe("unauthorized");
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": "wk_nope" })).status).toBe(401);
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { authorization: "Basic %%%" })).status).toBe(401);

    await env.DB.prepare("UPDATE write_keys SET revoked_at = ? WHERE app_id = ?").bind(Date.now(), app.appId).run();
    clearWriteKeyCache();
    expect((await post("/v1/batch", { batch: [trackEvent()] }, { "x-write-key": app.key })).status).toBe(401);
    expect(await buffered(app)).toBe(0);
  });
});

describe("the wire contract", () => {
  it("accepts each single-event route and answers per-event results", async () => {
    const app = await createTestApp();
    const h = { "x-write-key": app.key };
    for (const [path, body] of [
      ["/v1/track", { event: "Signed Up", userId: "u1" }],
      ["/v1/page", { name: "Home", anonymousId: "a1" }],
      ["/v1/screen", { name: "Checkout", anonymousId: "a1" }],
      ["/v1/identify", { userId: "u1", traits: { plan: "pro" } }],
      ["/v1/alias", { userId: "u1", previousId: "a1" }],
      ["/v1/group", { userId: "u1", groupId: "acme" }],
    ] as const) {
      const res = await post(path, body, h);
      expect(res.status, path).toBe(200);
      expect(await res.json(), path).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    }
    const bad = await post("/v1/track", { userId: "u1" }, h);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toContain("event");
    expect(await buffered(app)).toBe(6);
  });

  it("rejects bad events alone and keeps the rest of the batch", async () => {
    const app = await createTestApp();
    let deep: unknown = "bottom";
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const batch = [
      trackEvent(),
      { type: "track", anonymousId: "a", event: 42 },
      { type: "teleport", anonymousId: "a" },
      trackEvent({ properties: { blob: "x".repeat(40_000) } }),
      trackEvent({ properties: { deep } }),
      trackEvent({ timestamp: "yesterday-ish" }),
      "not an object",
      trackEvent({ unknownTopLevelKey: { fine: true } }),
      { type: "track", event: "No identity" },
    ];
    const res = await post("/v1/batch", { batch }, { "x-write-key": app.key });
    expect(res.status).toBe(200);
    const body = await res.json<{ accepted: number; rejected: Array<{ index: number; code: string }> }>();
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, "invalid_event"],
      [2, "invalid_event"],
      [3, "event_too_large"],
      [4, "too_deep"],
      [5, "invalid_timestamp"],
      [6, "invalid_event"],
      [8, "invalid_event"],
    ]);
    expect(await buffered(app)).toBe(2);
  });

  it("answers bad bodies with the right 4xx and the error shape, never a 500", async () => {
    const app = await createTestApp();
    const h = { "x-write-key": app.key };
    const cases: Array<[string, Response, number, string]> = [
      ["bad json", await post("/v1/batch", "{nope", h), 400, "invalid_json"],
      ["empty body", await post("/v1/batch", "", h), 400, "empty_batch"],
      ["empty batch", await post("/v1/batch", { batch: [] }, h), 400, "empty_batch"],
      ["batch not array", await post("/v1/batch", { batch: "x" }, h), 400, "invalid_body"],
      ["array body", await post("/v1/batch", [1, 2], h), 400, "invalid_body"],
      ["too many events", await post("/v1/batch", { batch: Array.from({ length: 2501 }, () => ({})) }, h), 413, "batch_too_large"],
      ["body over 1 MB", await post("/v1/batch", { batch: [trackEvent({ properties: { x: "y".repeat(1_100_000) } })] }, h), 413, "payload_too_large"],
      ["wrong content type", await post("/v1/batch", "<xml/>", { ...h, "content-type": "application/xml" }), 415, "unsupported_media_type"],
      ["unknown encoding", await post("/v1/batch", "{}", { ...h, "content-encoding": "br" }), 415, "unsupported_encoding"],
      ["not gzip", await post("/v1/batch", "{}", { ...h, "content-encoding": "gzip" }), 400, "invalid_body"],
    ];
    for (const [name, res, status, code] of cases) {
      expect(res.status, name).toBe(status);
      expect((await errorOf(res)).code, name).toBe(code);
    }
    expect(await buffered(app)).toBe(0);
  });

  it("reads gzip bodies and stops a gzip bomb at the decompressed limit", async () => {
    const app = await createTestApp();
    const ok = await SELF.fetch("https://edge.test/v1/batch", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip", "x-write-key": app.key },
      body: await gzip(JSON.stringify({ batch: [trackEvent(), trackEvent()] })),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accepted: 2 });

    const bombText = JSON.stringify({ batch: [trackEvent({ properties: { pad: " ".repeat(50_000_000) } })] });
    const bomb = await gzip(bombText);
    expect(bomb.byteLength).toBeLessThan(1_000_000);
    const res = await SELF.fetch("https://edge.test/v1/batch", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip", "x-write-key": app.key },
      body: bomb,
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("payload_too_large");
  });

  it("accepts text/plain bodies as navigator.sendBeacon sends them", async () => {
    const app = await createTestApp();
    const res = await post("/v1/batch", JSON.stringify({ batch: [trackEvent()], writeKey: app.key }), { "content-type": "text/plain;charset=UTF-8" });
    expect(res.status).toBe(200);
  });

  it("answers CORS preflights for browser SDKs", async () => {
    const res = await SELF.fetch("https://edge.test/v1/batch", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });

  it("answers unknown routes and methods in the error shape", async () => {
    const notFound = await SELF.fetch("https://edge.test/nope");
    expect(notFound.status).toBe(404);
    expect((await errorOf(notFound)).code).toBe("not_found");
    const unknownType = await post("/v1/teleport", {});
    expect(unknownType.status).toBe(404);
    const health = await SELF.fetch("https://edge.test/health");
    expect(await health.json()).toEqual({ status: "ok" });
  });
});

describe("rate limits and back-pressure", () => {
  it("answers 429 with Retry-After when an app is over its rate, and accepts nothing of that request", async () => {
    const app = await createTestApp({ rateLimit: 5 });
    const h = { "x-write-key": app.key };
    const first = await post("/v1/batch", { batch: Array.from({ length: 2500 }, () => trackEvent()) }, h);
    expect(first.status).toBe(200);
    const over = await post("/v1/batch", { batch: Array.from({ length: 100 }, () => trackEvent()) }, h);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await errorOf(over)).code).toBe("rate_limited");
    expect(await buffered(app)).toBe(2500);
  });

  it("spreads an app over its shards by device: one device's request goes to one shard, many devices' to all", async () => {
    const app = await createTestApp({ shardCount: 4 });
    const acceptedByShard = () =>
      Promise.all(
        Array.from({ length: 4 }, (_, shard) =>
          runInDurableObject(env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:${shard}`)), async (instance: AppBatcher) => (await instance.stats()).counters.accepted ?? 0),
        ),
      );
    const oneDevice = Array.from({ length: 200 }, () => trackEvent({ anonymousId: "phone-1" }));
    expect((await post("/v1/batch", { batch: oneDevice }, { "x-write-key": app.key })).status).toBe(200);
    expect((await acceptedByShard()).sort()).toEqual([0, 0, 0, 200]);
    // Without an anonymousId the userId places the event.
    const manyDevices = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? trackEvent({ anonymousId: undefined, userId: `user-${i}` }) : trackEvent({ anonymousId: `anon-${i}` })));
    expect((await post("/v1/batch", { batch: manyDevices }, { "x-write-key": app.key })).status).toBe(200);
    const after = await acceptedByShard();
    expect(after.reduce((a, b) => a + b, 0)).toBe(400);
    expect(after.every((n) => n > 20)).toBe(true);
  });
});

describe("Segment's HTTP API", () => {
  // As Segment's browser library posts: text/plain (no CORS preflight for the body), key in the body.
  const plain = (path: string, body: unknown, headers: Record<string, string> = {}) => post(path, body, { "content-type": "text/plain", ...headers });

  it("accepts every single-event path and its short form, with the key in the body as analytics.js sends it", async () => {
    const app = await createTestApp();
    const bodies: Record<string, Record<string, unknown>> = {
      track: { event: "Signed Up", userId: "u1" },
      page: { name: "Home", anonymousId: "a1" },
      screen: { name: "Checkout", anonymousId: "a1" },
      identify: { userId: "u1", traits: { plan: "pro" } },
      group: { userId: "u1", groupId: "acme" },
      alias: { userId: "u1", previousId: "a1" },
    };
    for (const [type, body] of Object.entries(bodies)) {
      for (const path of [`/v1/${type}`, `/v1/${type[0] ?? ""}`]) {
        const res = await plain(path, { ...body, type, messageId: crypto.randomUUID(), writeKey: app.key, sentAt: new Date().toISOString(), _metadata: { bundled: [] } });
        expect(res.status, path).toBe(200);
        expect(await res.json(), path).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
      }
    }
    expect(await buffered(app)).toBe(12);
  });

  it("accepts batches on /v1/batch, /v1/b and /v1/import, with the key on the batch, on its events or in Basic auth", async () => {
    const app = await createTestApp();
    const sentAt = new Date().toISOString();
    const onEvents = await plain("/v1/b", { batch: [trackEvent({ writeKey: app.key }), trackEvent({ writeKey: app.key })], sentAt });
    expect(onEvents.status).toBe(200);
    expect(await onEvents.json()).toMatchObject({ accepted: 2 });
    expect((await plain("/v1/import", { batch: [trackEvent()], writeKey: app.key })).status).toBe(200);
    expect((await post("/v1/b", { batch: [trackEvent()] }, { authorization: basicAuth(app.key) })).status).toBe(200);
    const zipped = await SELF.fetch("https://edge.test/v1/b", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip", authorization: basicAuth(app.key) },
      body: await gzip(JSON.stringify({ batch: [trackEvent(), trackEvent()], sentAt })),
    });
    expect(zipped.status).toBe(200);
    expect(await buffered(app)).toBe(6);
  });

  it("takes the key from Basic auth, X-Write-Key or the body on every path, and says where a wrong one was", async () => {
    const app = await createTestApp();
    const placements: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      ["basic", {}, { authorization: basicAuth(app.key) }],
      ["x-write-key", {}, { "x-write-key": app.key }],
      ["body", { writeKey: app.key }, {}],
    ];
    for (const [where, extra, headers] of placements) {
      for (const path of ["/v1/t", "/v1/track"]) expect((await plain(path, { event: "E", userId: "u1", ...extra }, headers)).status, `${where} ${path}`).toBe(200);
      for (const path of ["/v1/b", "/v1/batch"]) expect((await plain(path, { batch: [trackEvent()], ...extra }, headers)).status, `${where} ${path}`).toBe(200);
    }
    expect(await buffered(app)).toBe(12);

    const inBody = await plain("/v1/t", { event: "E", userId: "u1", writeKey: "wk_wrong" });
    expect(inBody.status).toBe(401);
    expect((await errorOf(inBody)).message).toContain("in the body");
    // A key in a header wins over one in the body: a wrong one is refused before the body is read.
    const inHeader = await plain("/v1/b", { batch: [trackEvent()], writeKey: app.key }, { authorization: basicAuth("wk_wrong") });
    expect(inHeader.status).toBe(401);
    expect((await errorOf(inHeader)).message).toContain("in a header");
    const none = await plain("/v1/p", { name: "Home", anonymousId: "a1" });
    expect(none.status).toBe(401);
    expect(await buffered(app)).toBe(12);
  });

  it("answers a rate-limited short path with 429 and Retry-After, which analytics.js waits out", async () => {
    const app = await createTestApp({ rateLimit: 1 });
    expect((await plain("/v1/b", { batch: Array.from({ length: 2500 }, () => trackEvent()), writeKey: app.key })).status).toBe(200);
    // The burst is spent and a token comes back each second: of ten calls at once, however slow
    // the machine, most find none.
    const calls = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await plain("/v1/t", { event: "E", userId: "u1", writeKey: app.key });
        await res.text();
        return { status: res.status, retryAfter: Number(res.headers.get("retry-after")) };
      }),
    );
    const over = calls.filter((r) => r.status === 429);
    expect(over.length).toBeGreaterThan(0);
    for (const r of over) expect(r.retryAfter).toBeGreaterThan(0);
    expect(calls.every((r) => r.status === 429 || r.status === 200)).toBe(true);
  });

  it("lets a browser send the headers analytics.js adds to its retries", async () => {
    const res = await SELF.fetch("https://edge.test/v1/t", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization,x-retry-count" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-retry-count");
  });
});
