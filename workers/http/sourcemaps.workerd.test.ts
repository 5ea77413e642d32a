import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTestApp } from "../../test/seed";

const token = { authorization: "Bearer test-admin-token" };
const MAP = JSON.stringify({ version: 3, file: "app.3f2a1b.js", sources: ["src/app.ts"], sourcesContent: ["export const a = 1;\n"], names: ["a"], mappings: "AAAO,IAAMA" });

function call(method: string, path: string, body?: BodyInit, headers: Record<string, string> = token): Promise<Response> {
  return SELF.fetch(`https://edge.test/admin${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const { error } = await res.json<{ error: { code: string; message: string } }>();
  return { status: res.status, code: error.code, message: error.message };
}

describe("source map admin API", () => {
  it("stores a release's maps by minified file, lists them and deletes them", async () => {
    const { appId } = await createTestApp();
    const base = `/apps/${appId}/releases/1.4.0+212/sourcemaps`;
    const put = await call("PUT", `${base}/app.3f2a1b.js`, MAP);
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ sourceMap: { app: appId, release: "1.4.0+212", file: "app.3f2a1b.js" } });
    const gzipped = await new Response(new Blob([MAP]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    expect((await call("PUT", `${base}/vendor.77aa00.js`, gzipped, { ...token, "content-encoding": "gzip" })).status).toBe(201);
    // Another release of the same app keeps its own maps.
    expect((await call("PUT", `/apps/${appId}/releases/1.3.0/sourcemaps/app.3f2a1b.js`, MAP)).status).toBe(201);

    const listed = await (await call("GET", base)).json<{ sourceMaps: Array<{ file: string; bytes: number }> }>();
    expect(listed.sourceMaps.map((m) => m.file)).toEqual(["app.3f2a1b.js", "vendor.77aa00.js"]);
    // Only what mapping frames needs is kept: not the sources' text.
    const stored = await env.ARCHIVE.get(`sourcemaps/${appId}/1.4.0+212/app.3f2a1b.js.map`);
    expect(JSON.parse((await stored?.text()) ?? "{}")).toEqual({ version: 3, file: "app.3f2a1b.js", sources: ["src/app.ts"], names: ["a"], mappings: "AAAO,IAAMA" });

    expect(await (await call("DELETE", base)).json()).toEqual({ app: appId, release: "1.4.0+212", deleted: 2 });
    expect((await (await call("GET", base)).json<{ sourceMaps: unknown[] }>()).sourceMaps).toEqual([]);
    expect((await (await call("GET", `/apps/${appId}/releases/1.3.0/sourcemaps`)).json<{ sourceMaps: unknown[] }>()).sourceMaps).toHaveLength(1);
  });

  it("refuses what it cannot store or use, in the API's error shape", async () => {
    const { appId } = await createTestApp();
    const base = `/apps/${appId}/releases/2.0.0/sourcemaps`;
    expect(await errorOf(await call("PUT", `${base}/app.js`, MAP, {}))).toMatchObject({ status: 401, code: "unauthorized" });
    expect(await errorOf(await call("PUT", `/apps/app_nobody/releases/2.0.0/sourcemaps/app.js`, MAP))).toMatchObject({ status: 404, code: "not_found" });
    expect(await errorOf(await call("PUT", `/apps/${appId}/releases/${encodeURIComponent("../2.0.0")}/sourcemaps/app.js`, MAP))).toMatchObject({ status: 400, code: "invalid_body" });
    expect(await errorOf(await call("PUT", `/apps/${appId}/releases/${"9".repeat(201)}/sourcemaps/app.js`, MAP))).toMatchObject({ status: 400 });
    expect(await errorOf(await call("PUT", `${base}/app.css`, MAP))).toMatchObject({ status: 400, message: expect.stringContaining(".js") });
    expect(await errorOf(await call("PUT", `${base}/app.js`, "{not json"))).toMatchObject({ status: 400, message: "not a source map v3: the body is not JSON" });
    expect(await errorOf(await call("PUT", `${base}/app.js`, JSON.stringify({ version: 2, sources: [], mappings: "" })))).toMatchObject({ status: 400, message: "not a source map v3: version must be 3" });
    expect(await errorOf(await call("PUT", `${base}/app.js`, JSON.stringify({ version: 3, sources: [] })))).toMatchObject({ status: 400, message: "not a source map v3: mappings must be a string" });
    const huge = `{"version":3,"sources":[],"names":[],"mappings":"${"A".repeat(25 * 1024 * 1024)}"}`;
    expect(await errorOf(await call("PUT", `${base}/app.js`, huge))).toMatchObject({ status: 413, code: "payload_too_large" });
    expect((await call("GET", base)).status).toBe(200);
    expect((await (await call("GET", base)).json<{ sourceMaps: unknown[] }>()).sourceMaps).toEqual([]);
  });

  it("accepts an index map of sections", async () => {
    const { appId } = await createTestApp();
    const indexMap = JSON.stringify({ version: 3, sections: [{ offset: { line: 0, column: 0 }, map: JSON.parse(MAP) as unknown }] });
    expect((await call("PUT", `/apps/${appId}/releases/3.0.0/sourcemaps/bundle.mjs`, indexMap)).status).toBe(201);
  });
});
