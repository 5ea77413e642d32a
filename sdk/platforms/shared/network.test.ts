import { describe, expect, it } from "vitest";
import { fakeClient, fakeEdge, received } from "../../core/fakes";
import type { FetchFn } from "../browser/dom";
import { captureNetwork } from "./network";

const answer: FetchFn = async (input) => {
  if (String(input).includes("down")) throw new TypeError("Failed to fetch");
  return { status: 201, headers: { get: (n: string) => (n === "content-length" ? "17" : null) } };
};

describe("network capture", () => {
  it("records fetch calls without query strings, and failures with their error", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge);
    const g: { fetch?: FetchFn } = { fetch: answer };
    captureNetwork(t, g, "https://edge.test", () => "https://shop.example/cart");
    await g.fetch?.("/api/items?token=secret#top", { method: "post", body: '{"a":1}' });
    await expect(g.fetch?.("https://down.example/x")).rejects.toThrow("Failed to fetch");
    await t.flush();
    const requests = received(edge).map((e) => e.request as Record<string, unknown>);
    expect(requests[0]).toMatchObject({ method: "POST", url: "https://shop.example/api/items", status: 201, requestBytes: 7, responseBytes: 17 });
    expect(typeof requests[0]?.duration).toBe("number");
    expect(requests[1]).toMatchObject({ method: "GET", url: "https://down.example/x", status: 0, error: "Failed to fetch" });
  });

  it("never records the SDK's own calls, nor calls sampled out or switched off remotely", async () => {
    const edge = fakeEdge();
    const t = fakeClient(edge, { sampling: { network: 0 } });
    const g: { fetch?: FetchFn } = { fetch: answer };
    captureNetwork(t, g, "https://edge.test");
    await g.fetch?.("https://api.example/a");
    const own = fakeClient(edge);
    const h: { fetch?: FetchFn } = { fetch: answer };
    captureNetwork(own, h, "https://edge.test");
    await h.fetch?.("https://edge.test/v1/batch");
    await t.flush();
    await own.flush();
    expect(received(edge)).toEqual([]);
  });
});
