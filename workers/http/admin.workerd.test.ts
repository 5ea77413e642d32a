import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const list = (headers: Record<string, string>): Promise<Response> => SELF.fetch("https://edge.test/admin/apps", { headers });

describe("admin authentication", () => {
  it("accepts the token only as `Authorization: Bearer <token>`", async () => {
    expect((await list({ authorization: "Bearer test-admin-token" })).status).toBe(200);
    expect((await list({ authorization: "bearer   test-admin-token" })).status).toBe(200);
    for (const authorization of ["test-admin-token", "Basic test-admin-token", "Token test-admin-token", "Bearertest-admin-token", "Bearer wrong", "Bearer ", ""]) {
      const res = await list({ authorization });
      expect(res.status, authorization).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("Bearer") } });
    }
  });
});
