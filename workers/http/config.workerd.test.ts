import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { basicAuth, createTestApp } from "../../test/seed";

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => SELF.fetch(`https://edge.test${path}`, { headers });

describe("GET /v1/config", () => {
  it("answers the app's SDK configuration for a write key in the query or a header, revalidated on every use", async () => {
    const app = await createTestApp();
    for (const res of [
      await get(`/v1/config?writeKey=${app.key}`),
      await get("/v1/config", { authorization: basicAuth(app.key) }),
      await get("/v1/config", { "x-write-key": app.key }),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("private, no-cache");
      expect(await res.json()).toEqual({
        sampling: { network: 1, perf: 1 },
        capture: { pageviews: true, errors: true, network: true, vitals: true, interactions: true },
        config: {},
        flags: {},
        version: 0,
      });
    }
  });

  it("refuses a missing or unknown key with 401 in the API's error shape", async () => {
    for (const res of [await get("/v1/config"), await get("/v1/config?writeKey=wk_nope")]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });

  it("can be read from any web page", async () => {
    const app = await createTestApp();
    const res = await get(`/v1/config?writeKey=${app.key}`, { origin: "https://shop.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    await res.body?.cancel();
    const preflight = await SELF.fetch("https://edge.test/v1/config", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("GET");
    await preflight.body?.cancel();
  });
});
