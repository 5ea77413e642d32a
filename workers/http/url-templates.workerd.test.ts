import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTestApp } from "../../test/seed";

const admin = { authorization: "Bearer test-admin-token" };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = admin): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

describe("admin: URL templates", () => {
  it("starts with none, keeps a list in its order, and empties it again", async () => {
    const { appId } = await createTestApp();
    const path = `/admin/apps/${appId}/url-templates`;
    expect(await (await call("GET", path)).json()).toEqual({ templates: [] });

    const templates = ["/api/orgs/:org/files/**", "/v2/*/items", " /health "];
    const put = await call("PUT", path, { templates });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ templates: ["/api/orgs/:org/files/**", "/v2/*/items", "/health"] });
    expect(await (await call("GET", path)).json()).toEqual({ templates: ["/api/orgs/:org/files/**", "/v2/*/items", "/health"] });

    expect(await (await call("PUT", path, { templates: [] })).json()).toEqual({ templates: [] });
    expect(await (await call("GET", path)).json()).toEqual({ templates: [] });
  });

  it("refuses a bad template naming it, and keeps the list it had", async () => {
    const { appId } = await createTestApp();
    const path = `/admin/apps/${appId}/url-templates`;
    await call("PUT", path, { templates: ["/a/:id"] });

    const cases: Array<[unknown, string]> = [
      [{ templates: ["/ok", "/a/**/b"] }, 'template 2 "/a/**/b": ** may only end a template'],
      [{ templates: ["/search?q=1"] }, 'template 1 "/search?q=1": a template is a path starting with / without spaces, query or fragment'],
      [{ templates: ["api/users"] }, 'template 1 "api/users"'],
      [{ templates: [42] }, "template 1 42"],
      [{ templates: Array.from({ length: 101 }, (_, i) => `/t/${i}`) }, "at most 100 URL templates, got 101"],
      [{ templates: "/a" }, "templates"],
    ];
    for (const [body, message] of cases) {
      const res = await call("PUT", path, body);
      expect(res.status).toBe(400);
      const err = await res.json<{ error: { code: string; message: string } }>();
      expect(err.error.code).toBe("invalid_body");
      expect(err.error.message).toContain(message);
    }
    expect((await call("PUT", path, "{nope")).status).toBe(400);
    expect(await (await call("GET", path)).json()).toEqual({ templates: ["/a/:id"] });
  });

  it("answers 404 for an app that does not exist and 401 without the admin token", async () => {
    const missing = await call("GET", "/admin/apps/app_missing_zz/url-templates");
    expect(missing.status).toBe(404);
    expect((await call("PUT", "/admin/apps/app_missing_zz/url-templates", { templates: ["/a"] })).status).toBe(404);
    const { appId } = await createTestApp();
    expect((await call("GET", `/admin/apps/${appId}/url-templates`, undefined, {})).status).toBe(401);
    expect((await call("PUT", `/admin/apps/${appId}/url-templates`, { templates: ["/a"] }, { authorization: "Bearer wrong" })).status).toBe(401);
  });
});
