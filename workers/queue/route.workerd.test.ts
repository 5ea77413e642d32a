// Several event queues end to end inside workerd, configured as wrangler.toml deploys them: apps
// on either queue reach ClickHouse through the Worker, their AppBatchers, their own queue and
// the same sink, each event once. Real local ClickHouse.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { encodeEventRow, encodeSinkMessage } from "../../schemas";
import { createApp, createWriteKey, OPERATOR } from "../apps/store";
import { basicAuth, blankRow, chQuery, trackEvent } from "../../test/seed";
import { eventsQueueIndex } from "./route";

// An app whose id puts it on queue `index` of `queues`, with a write key.
async function appOnQueue(index: number, queues: number): Promise<{ appId: string; key: string }> {
  for (;;) {
    const appId = `app_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
    if (eventsQueueIndex(appId, queues) !== index) continue;
    const app = await createApp(env.DB, OPERATOR, { id: appId, name: `queue ${index}`, rateLimit: 0, shardCount: 1 });
    if (app === "unavailable") continue;
    const key = await createWriteKey(env.DB, OPERATOR, appId, { name: "test" });
    if (typeof key === "string") throw new Error(`test key for ${appId}: ${key}`);
    return { appId, key: key.key };
  }
}

async function storedIds(appId: string, n: number): Promise<string[]> {
  let ids: string[] = [];
  await vi.waitUntil(
    async () => {
      ids = (await chQuery<{ message_id: string }>("SELECT message_id FROM events WHERE app_id = {app:String} ORDER BY message_id", { app: appId })).map((r) => r.message_id);
      return ids.length >= n;
    },
    { timeout: 20_000, interval: 200 },
  );
  return ids;
}

describe("several event queues", () => {
  it("are configured as deployed: two queues, each consumed by the sink", () => {
    expect(env.EVENTS_QUEUES).toBe("2");
    expect(typeof env.EVENTS_QUEUE_1.sendBatch).toBe("function");
  });

  it("store the events of apps on either queue once, through the Worker, the AppBatcher and the queue's consumer", async () => {
    const apps = [await appOnQueue(0, 2), await appOnQueue(1, 2)];
    for (const app of apps) {
      const batch = Array.from({ length: 5 }, (_, i) => trackEvent({ messageId: `${app.appId}-${i}` }));
      const res = await SELF.fetch("https://edge.test/v1/batch", { method: "POST", headers: { "content-type": "application/json", authorization: basicAuth(app.key) }, body: JSON.stringify({ batch }) });
      expect(res.status).toBe(200);
    }
    for (const app of apps) expect(await storedIds(app.appId, 5)).toEqual(Array.from({ length: 5 }, (_, i) => `${app.appId}-${i}`));
  });

  it("store a batch once when a copy of it arrives through the other queue", async () => {
    const app = await appOnQueue(1, 2);
    const at = new Date().toISOString().replace("T", " ").slice(0, 23);
    const text = encodeSinkMessage(`${app.appId}:0:moved`, app.appId, [encodeEventRow(blankRow(app.appId, "m-moved", at))]);
    // Sent before the queue count changed, and again (its send seemed to fail) after it.
    await env.EVENTS_QUEUE_1.send(text, { contentType: "text" });
    expect(await storedIds(app.appId, 1)).toEqual(["m-moved"]);
    await env.EVENTS_QUEUE.sendBatch([text, encodeSinkMessage(`${app.appId}:0:after`, app.appId, [encodeEventRow(blankRow(app.appId, "m-after", at))])].map((body) => ({ body, contentType: "text" as const })));
    expect(await storedIds(app.appId, 2)).toEqual(["m-after", "m-moved"]);
  });
});
