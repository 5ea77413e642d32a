import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "./app";

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

describe("a deployed Worker with a local configuration", () => {
  it("answers every request, /health included, with what is wrong instead of serving", async () => {
    const deployed = { ...env, ENVIRONMENT: "production", CLICKHOUSE_PASSWORD: "" };
    for (const path of ["/health", "/ready", "/admin/apps", "/v1/config"]) {
      const res = await app.fetch(new Request(`https://edge.test${path}`, { headers: { authorization: "Bearer test-admin-token" } }), deployed, createExecutionContext());
      expect(res.status, path).toBe(500);
      const body = await res.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe("misconfigured");
      expect(body.error.message).toMatch(/CLICKHOUSE_URL points at loopback/);
      expect(body.error.message).toMatch(/CLICKHOUSE_PASSWORD is not set/);
    }
  });
});
