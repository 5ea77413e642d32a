import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AppBatcher } from "../../durable-objects/app-batcher";
import { createTestApp, type TestApp } from "../../test/seed";

async function buffered(app: TestApp): Promise<number> {
  const stub = env.APP_BATCHER.get(env.APP_BATCHER.idFromName(`${app.appId}:0`));
  return runInDurableObject(stub, async (instance: AppBatcher) => (await instance.stats()).counters.accepted ?? 0);
}

async function gzip(text: string): Promise<ArrayBuffer> {
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
}

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function send(path: string, body: BodyInit | null, headers: Record<string, string> = {}, method = "POST"): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, { method, headers, body });
}

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { event: "signed up", distinct_id: "user-1", uuid: crypto.randomUUID(), properties: { plan: "pro" }, ...overrides };
}

const json = { "content-type": "application/json" };

interface PostHogError {
  type: string;
  code: string;
  detail: string;
  attr: null;
}

describe("PostHog capture paths", () => {
  it("accepts a batch on every capture path, with or without the trailing slash, answering 200 {status: 1}", async () => {
    const app = await createTestApp();
    const paths = ["/capture", "/batch", "/e", "/i/v0/e"].flatMap((p) => [p, `${p}/`]);
    for (const path of paths) {
      const res = await send(path, JSON.stringify({ api_key: app.key, batch: [event()] }), json);
      expect(res.status, path).toBe(200);
      expect(await res.json(), path).toMatchObject({ status: 1, accepted: 1, rejected: [] });
    }
    expect(await buffered(app)).toBe(paths.length);
  });

  it("finds the project key as api_key, token, each event's properties.token or ?token=", async () => {
    const app = await createTestApp();
    const bodies = [
      { api_key: app.key, batch: [event()] },
      { token: app.key, batch: [event()] },
      { batch: [event({ properties: { token: app.key } })] },
      [event({ properties: { token: app.key } })],
      { ...event(), api_key: app.key },
      { ...event(), token: app.key },
    ];
    for (const body of bodies) expect((await send("/e/", JSON.stringify(body), json)).status, JSON.stringify(body)).toBe(200);
    expect((await send(`/i/v0/e/?token=${app.key}`, JSON.stringify(event()), json)).status).toBe(200);
    expect(await buffered(app)).toBe(bodies.length + 1);
  });

  it("reads gzip by header, by ?compression=gzip-js or by its magic bytes, base64 forms and GET ?data=", async () => {
    const app = await createTestApp();
    // A fresh uuid each time: a repeated one is a duplicate, counted once.
    const payload = () => JSON.stringify({ api_key: app.key, batch: [event()] });
    const answers = [
      await send("/batch/", await gzip(payload()), { ...json, "content-encoding": "gzip" }),
      await send("/e/?compression=gzip-js", await gzip(payload()), { "content-type": "text/plain" }),
      await send("/e/", await gzip(payload()), { "content-type": "text/plain" }),
      await send("/e/?compression=base64", `data=${encodeURIComponent(base64(payload()))}`, { "content-type": "application/x-www-form-urlencoded" }),
      await send("/e/", `data=${encodeURIComponent(payload())}`, { "content-type": "application/x-www-form-urlencoded" }),
      await send(`/e/?compression=base64&data=${encodeURIComponent(base64(payload()))}`, null, {}, "GET"),
      await send("/capture/", payload(), {}),
    ];
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(await buffered(app)).toBe(answers.length);
  });

  it("accepts the good events of a batch and lists the bad ones", async () => {
    const app = await createTestApp();
    const res = await send("/batch/", JSON.stringify({ api_key: app.key, batch: [event(), { event: "no one" }, event({ event: "" })] }), json);
    expect(res.status).toBe(200);
    const body = await res.json<{ status: number; accepted: number; rejected: Array<{ index: number }> }>();
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2]);
  });

  it("counts a resent batch once", async () => {
    const app = await createTestApp();
    const body = JSON.stringify({ api_key: app.key, batch: [event(), event()] });
    expect((await send("/batch/", body, json)).status).toBe(200);
    const again = await send("/batch/", body, json);
    expect(await again.json()).toMatchObject({ status: 1, accepted: 2, duplicates: 2 });
  });
});

describe("PostHog refusals", () => {
  it("refuses a missing or unknown key with 401 in PostHog's error shape", async () => {
    const missing = await send("/batch/", JSON.stringify({ batch: [event()] }), json);
    expect(missing.status).toBe(401);
    expect(await missing.json<PostHogError>()).toMatchObject({ type: "authentication_error", code: "unauthorized", attr: null });
    const unknown = await send("/e/", JSON.stringify({ api_key: "phc_not_ours", batch: [event()] }), json);
    expect(unknown.status).toBe(401);
    expect((await unknown.json<PostHogError>()).detail).toContain("body");
  });

  it("refuses bad JSON, bad base64 and bad gzip with 400, and an empty batch too", async () => {
    const app = await createTestApp();
    const cases: Array<[string, BodyInit, Record<string, string>]> = [
      ["/batch/", "{not json", json],
      ["/e/?compression=base64", "data=%%%%", { "content-type": "application/x-www-form-urlencoded" }],
      ["/e/?compression=gzip-js", "not gzip at all", { "content-type": "text/plain" }],
      ["/batch/", new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), { "content-type": "text/plain" }],
      ["/batch/", JSON.stringify({ api_key: app.key, batch: [] }), json],
      ["/batch/", JSON.stringify({ api_key: app.key }), json],
    ];
    for (const [path, body, headers] of cases) {
      const res = await send(path, body, headers);
      expect(res.status, path).toBe(400);
      expect((await res.json<PostHogError>()).type, path).toBe("validation_error");
    }
    expect(await buffered(app)).toBe(0);
  });

  it("answers 429 with Retry-After when the app is over its rate", async () => {
    const app = await createTestApp({ rateLimit: 5 });
    const first = await send("/batch/", JSON.stringify({ api_key: app.key, batch: Array.from({ length: 2500 }, () => event()) }), json);
    expect(first.status).toBe(200);
    const over = await send("/batch/", JSON.stringify({ api_key: app.key, batch: Array.from({ length: 100 }, () => event()) }), json);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await over.json<PostHogError>()).toMatchObject({ type: "throttled", code: "rate_limited" });
  });
});

describe("what posthog-js asks for at start", () => {
  it("answers /flags/ and /decide/ with no flags for an app that has none, and refuses an unknown project key", async () => {
    const app = await createTestApp();
    for (const path of ["/flags/?v=2", "/flags", "/decide/?v=3", "/decide"]) {
      const res = await send(path, JSON.stringify({ token: app.key, distinct_id: "u" }), { "content-type": "text/plain" });
      expect(res.status, path).toBe(200);
      expect(await res.json(), path).toMatchObject({ flags: {}, featureFlags: {}, errorsWhileComputingFlags: false, hasFeatureFlags: false });
      const unknown = await send(path, JSON.stringify({ token: "wk_x", distinct_id: "u" }), { "content-type": "text/plain" });
      expect(unknown.status, path).toBe(401);
      expect(await unknown.json<PostHogError>()).toMatchObject({ type: "authentication_error" });
    }
  });

  it("answers the app's flags for the distinct id and person properties, in the v2 and the older shape, gzipped or not", async () => {
    const app = await createTestApp();
    const flag = (key: string, variants: Array<{ key: string; value: unknown }>, rules: unknown[], fallthrough: string) =>
      SELF.fetch(`https://edge.test/admin/apps/${app.appId}/flags`, {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", ...json },
        body: JSON.stringify({ key, name: key, enabled: true, variants, rules, fallthrough: { variant: fallthrough }, offVariant: variants[variants.length - 1]?.key }),
      });
    expect((await flag("beta", [{ key: "on", value: true }, { key: "off", value: false }], [{ conditions: [{ op: "in", trait: "plan", values: ["pro"] }], rollout: 100, serve: { variant: "on" } }], "off")).status).toBe(201);
    expect((await flag("button", [{ key: "green", value: { color: "#0a0" } }, { key: "control", value: null }], [], "green")).status).toBe(201);
    const body = JSON.stringify({ token: app.key, distinct_id: "u-9", person_properties: { plan: "pro" } });
    for (const res of [await send("/flags/?v=2", body, { "content-type": "application/json" }), await send("/decide/?v=3&compression=gzip-js", await gzip(body), { "content-type": "text/plain" })]) {
      expect(res.status).toBe(200);
      const answer = await res.json<Record<string, unknown>>();
      expect(answer).toMatchObject({
        hasFeatureFlags: true,
        flags: { beta: { key: "beta", enabled: true }, button: { key: "button", enabled: true, variant: "green", metadata: { payload: '{"color":"#0a0"}' } } },
        featureFlags: { beta: true, button: "green" },
        featureFlagPayloads: { button: '{"color":"#0a0"}' },
      });
    }
    const free = await send("/flags/?v=2", JSON.stringify({ token: app.key, distinct_id: "u-9", person_properties: { plan: "free" } }), json);
    expect(await free.json()).toMatchObject({ featureFlags: { beta: false }, flags: { beta: { enabled: false } } });
    const config = await send(`/array/${app.key}/config`, null, {}, "GET");
    expect(await config.json()).toMatchObject({ hasFeatureFlags: true });
  });

  it("serves the remote config as JSON and as the script, with every optional feature off", async () => {
    const res = await send("/array/wk_x/config", null, {}, "GET");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token: "wk_x", hasFeatureFlags: false, sessionRecording: false, surveys: false, supportedCompression: ["gzip", "gzip-js"] });
    const script = await send("/array/wk_x/config.js", null, {}, "GET");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(await script.text()).toContain('_POSTHOG_REMOTE_CONFIG["wk_x"]');
  });

  it("lets browsers on other origins call every PostHog path", async () => {
    for (const path of ["/e/", "/batch/", "/i/v0/e/", "/flags/", "/decide/", "/array/wk_x/config"]) {
      const res = await SELF.fetch(`https://edge.test${path}`, {
        method: "OPTIONS",
        headers: { origin: "https://shop.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
      expect(res.status, path).toBeLessThan(300);
      expect(res.headers.get("access-control-allow-origin"), path).toBe("*");
    }
    const app = await createTestApp();
    const res = await SELF.fetch("https://edge.test/e/", { method: "POST", headers: { origin: "https://shop.test", ...json }, body: JSON.stringify({ api_key: app.key, batch: [event()] }) });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});
