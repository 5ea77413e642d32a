// The document the Worker serves names only routes it has: every operation it lists on the
// Worker answers with something other than "no such route" (admin routes with the operator's
// token, so the answer comes from the route and not from the token check before it).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

interface Doc {
  paths: Record<string, Record<string, unknown> & { servers?: Array<{ description: string }> }>;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

describe("GET /openapi.json", () => {
  it("is served, and each route it lists on the Worker exists", async () => {
    const res = await SELF.fetch("https://edge.test/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<Doc>();
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (item.servers?.some((s) => s.description === "the dashboard")) continue;
      const url = path.replace("{type}", "track").replace(/\{[^}]+\}/g, "x1");
      for (const method of METHODS.filter((m) => m in item)) {
        const answer = await SELF.fetch(`https://edge.test${url}`, { method: method.toUpperCase(), headers: { "content-type": "application/json", ...(path.startsWith("/admin") ? { authorization: "Bearer test-admin-token" } : {}) }, body: method === "get" || method === "delete" ? undefined : "{}" });
        const text = await answer.text();
        expect(text, `${method} ${path}`).not.toContain("no such route");
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});
