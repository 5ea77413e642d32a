import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTestApp } from "../../test/seed";
import { authenticate, clearWriteKeyCache } from "./auth";

function addRule(appId: string, id: string, position: number, action: string, match: { type?: string; message?: string; module?: string }) {
  return env.DB.prepare("INSERT INTO crash_rules (id, app_id, position, action, match_type, match_message, match_module, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(id, appId, position, action, match.type ?? null, match.message ?? null, match.module ?? null, Date.now())
    .run();
}

describe("a write key's crash grouping rules", () => {
  it("come with the app, in position order, skipping a rule the edge cannot apply", async () => {
    const app = await createTestApp();
    const other = await createTestApp();
    const p = crypto.randomUUID().slice(0, 8);
    await addRule(app.appId, `${p}-c`, 3, "merge", { message: "*timeout*" });
    await addRule(app.appId, `${p}-a`, 1, "merge", { type: "ChunkLoadError" });
    await addRule(app.appId, `${p}-b`, 2, "split", { module: "app.billing.*" });
    await addRule(app.appId, `${p}-bad`, 4, "merge", { type: "x".repeat(300) });
    await addRule(other.appId, `${p}-other`, 1, "merge", { type: "TypeError" });
    clearWriteKeyCache();

    const auth = await authenticate(env.DB, app.key);
    expect(auth.crashRules).toEqual([
      { id: `${p}-a`, action: "merge", type: "ChunkLoadError" },
      { id: `${p}-b`, action: "split", module: "app.billing.*" },
      { id: `${p}-c`, action: "merge", message: "*timeout*" },
    ]);
    expect((await authenticate(env.DB, other.key)).crashRules.map((r) => r.id)).toEqual([`${p}-other`]);
  });

  it("are empty for an app without rules", async () => {
    const app = await createTestApp();
    clearWriteKeyCache();
    expect((await authenticate(env.DB, app.key)).crashRules).toEqual([]);
  });
});
