import { Hono } from "hono";
import { config } from "../../schemas";
import { clickhouseClient, describeClickHouseError } from "../lib/clickhouse";

type Check = { ok: boolean; error?: string };

async function check(run: () => Promise<unknown>): Promise<Check> {
  try {
    await run();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: describeClickHouseError(err) };
  }
}

/** `GET /health` (the process answers) and `GET /ready` (D1, the queue and ClickHouse are reachable). */
export const healthRoutes = new Hono<{ Bindings: Env }>()
  .get("/health", (c) => c.json({ status: "ok" }))
  .get("/ready", async (c) => {
    const client = clickhouseClient(config(c.env).clickhouse);
    try {
      const [d1, clickhouse] = await Promise.all([
        check(() => c.env.DB.prepare("SELECT 1").first()),
        check(async () => {
          const r = await client.ping();
          if (!r.success) throw r.error;
        }),
      ]);
      const queue: Check = typeof c.env.EVENTS_QUEUE?.sendBatch === "function" ? { ok: true } : { ok: false, error: "EVENTS_QUEUE is not bound" };
      const ready = d1.ok && clickhouse.ok && queue.ok;
      return c.json({ status: ready ? "ready" : "unavailable", checks: { d1, queue, clickhouse } }, ready ? 200 : 503);
    } finally {
      await client.close();
    }
  });
