// Changing an app's shard count while traffic flows: events already accepted are still
// duplicates when resent after the change, whichever shard the new count sends them to; the new
// count waits a minute for every edge to read it; and it cannot change again within a day.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { batcherStub } from "../workers/apps/location";
import { shardOf, SHARD_SWITCH_DELAY_MS } from "../workers/apps/shards";
import { OPERATOR, updateAppSettings } from "../workers/apps/store";
import { clearWriteKeyCache } from "../workers/http/write-key";
import { createTestApp, post, trackEvent } from "./seed";

const settings = (shardCount: number) => ({ rateLimit: 0, shardCount, retentionDays: 90, redactionPolicy: null });

async function totals(appId: string, shards: number): Promise<{ accepted: number; duplicates: number; buffered: number }> {
  const all = await Promise.all(Array.from({ length: shards }, (_, s) => batcherStub(env, "default", appId, s).stats()));
  return {
    accepted: all.reduce((n, s) => n + (s.counters.accepted ?? 0), 0),
    duplicates: all.reduce((n, s) => n + (s.counters.deduplicated ?? 0), 0),
    buffered: all.reduce((n, s) => n + s.bufferedRows, 0),
  };
}

async function send(key: string, batch: Array<Record<string, unknown>>): Promise<void> {
  const res = await post("/v1/batch", { batch }, { "x-write-key": key });
  expect(res.status).toBe(200);
}

// The change "a minute ago", as if the switch delay had passed.
async function switchNow(appId: string, ago = 1000): Promise<void> {
  await env.DB.prepare("UPDATE apps SET shards_from = ? WHERE id = ?").bind(Date.now() - ago, appId).run();
  clearWriteKeyCache();
}

describe("a shard count changed while traffic flows", () => {
  it("accepts each event once, resent before, at and after a switch from 2 to 4 shards", async () => {
    const { appId, key } = await createTestApp({ shardCount: 2 });
    const first = Array.from({ length: 120 }, () => trackEvent());
    await send(key, first);

    const saved = await updateAppSettings(env.DB, OPERATOR, appId, settings(4));
    expect(saved).toMatchObject({ status: "saved", shardChange: { from: 2, to: 4 } });
    expect(saved.status === "saved" && saved.shardChange ? saved.shardChange.at - Date.now() : 0).toBeGreaterThan(SHARD_SWITCH_DELAY_MS - 5_000);
    // Until the switch every edge still routes by 2, whether it read the change or not.
    clearWriteKeyCache();
    const beforeSwitch = Array.from({ length: 40 }, () => trackEvent());
    await Promise.all([send(key, first.slice(0, 30)), send(key, beforeSwitch)]);
    expect(await totals(appId, 4)).toMatchObject({ accepted: 160, duplicates: 30 });

    await switchNow(appId);
    // Many of the ids now belong to shards 2 and 3, which never saw them: they ask shards 0 and 1.
    expect(first.some((e) => shardOf(String(e.messageId), 4) >= 2)).toBe(true);
    const after = Array.from({ length: 60 }, () => trackEvent());
    // Sent at once, each copy twice: the resends and the new events meet in flight.
    await Promise.all([send(key, [...first, ...beforeSwitch]), send(key, after), send(key, after), send(key, first.slice(60))]);
    const t = await totals(appId, 4);
    expect(t.accepted).toBe(120 + 40 + 60);
    expect(t.duplicates).toBe(30 + 160 + 60 + 60);
  });

  it("cannot change again within a day of the switch; the same count saves freely", async () => {
    const { appId } = await createTestApp({ shardCount: 1 });
    expect((await updateAppSettings(env.DB, OPERATOR, appId, settings(3))).status).toBe("saved");
    const locked = await updateAppSettings(env.DB, OPERATOR, appId, settings(5));
    expect(locked.status).toBe("shards_locked");
    expect(locked.status === "shards_locked" ? locked.until - Date.now() : 0).toBeGreaterThan(24 * 3600_000);
    expect(await updateAppSettings(env.DB, OPERATOR, appId, { ...settings(3), rateLimit: 50 })).toEqual({ status: "saved", shardChange: null });
    await switchNow(appId, 24 * 3600_000 + 1000);
    expect(await updateAppSettings(env.DB, OPERATOR, appId, settings(5))).toMatchObject({ status: "saved", shardChange: { from: 3, to: 5 } });
    expect((await updateAppSettings(env.DB, OPERATOR, "app_nope", settings(2))).status).toBe("missing");
  });
});
