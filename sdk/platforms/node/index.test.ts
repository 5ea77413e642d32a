import { describe, expect, it, vi } from "vitest";
import type { HttpRequest, HttpResponse } from "../../core/types";
import { init } from "./index";

describe("evaluateFlags", () => {
  it("asks POST /v1/flags for any user, with the write key, and records no exposure", async () => {
    const requests: HttpRequest[] = [];
    const transport = async (req: HttpRequest): Promise<HttpResponse> => {
      requests.push(req);
      return req.url.endsWith("/v1/flags") ? { status: 200, body: { sampling: {}, capture: {}, config: {}, flags: { "new-checkout": { variant: "on", value: true } }, version: 3 } } : { status: 404 };
    };
    const t = init({ writeKey: "wk_server", endpoint: "https://edge.test", transport, capture: { errors: false }, flags: { refreshIntervalMs: 0 } });
    const flags = await t.evaluateFlags({ userId: "u_42", platform: "web", traits: { plan: "pro" } });
    expect(flags).toEqual({ "new-checkout": { variant: "on", value: true } });
    const post = requests.find((r) => r.method === "POST");
    expect(post).toMatchObject({ url: "https://edge.test/v1/flags", headers: { authorization: `Basic ${btoa("wk_server:")}` } });
    expect(JSON.parse(post?.body ?? "")).toEqual({ userId: "u_42", platform: "web", traits: { plan: "pro" } });
    await t.shutdown();
    expect(requests.filter((r) => r.url.endsWith("/v1/batch"))).toEqual([]);
  });

  it("answers {} when the edge cannot, so every flag reads as unknown", async () => {
    const t = init({ writeKey: "wk_server", endpoint: "https://edge.test", transport: async () => ({ status: 0 }), capture: { errors: false }, remoteConfig: false });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await t.evaluateFlags({ userId: "u_42" })).toEqual({});
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });
});
