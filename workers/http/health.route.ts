import { Hono } from "hono";
import { config } from "../../schemas";
import { clickhouseClient, describeClickHouseError } from "../lib/clickhouse";
import { unboundEventQueues } from "../queue/route";

type Check = { ok: boolean; error?: string };

/** A shard whose oldest buffered event is older than `BUFFER_STALE_MS`; times in epoch ms. */
interface StaleShard {
  app: string;
  shard: number;
  staleSince: number;
  oldestAt: number;
  ageMs: number;
}

// Enough to name the problem; the Pipeline view shows each app's own.
const STALE_SHOWN = 20;

// Reading the table is the D1 check as well: it fails when D1 or its migrations are missing.
async function staleShards(db: D1Database, now: number): Promise<StaleShard[]> {
  const { results } = await db
    .prepare("SELECT app_id, shard, stale_since, oldest_at FROM shard_health ORDER BY oldest_at LIMIT ?")
    .bind(STALE_SHOWN)
    .all<{ app_id: string; shard: number; stale_since: number; oldest_at: number }>();
  return results.map((r) => ({ app: r.app_id, shard: r.shard, staleSince: r.stale_since, oldestAt: r.oldest_at, ageMs: now - r.oldest_at }));
}

async function check(run: () => Promise<unknown>): Promise<Check> {
  try {
    await run();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: describeClickHouseError(err) };
  }
}

/**
 * `GET /health` (the process answers) and `GET /ready` (D1, the queue and ClickHouse are
 * reachable, and no AppBatcher shard holds events older than `BUFFER_STALE_MS`).
 */
export const healthRoutes = new Hono<{ Bindings: Env }>()
  .get("/health", (c) => c.json({ status: "ok" }))
  .get("/ready", async (c) => {
    const client = clickhouseClient(config(c.env).clickhouse);
    try {
      let stale: StaleShard[] = [];
      const [d1, clickhouse] = await Promise.all([
        check(async () => {
          stale = await staleShards(c.env.DB, Date.now());
        }),
        check(async () => {
          const r = await client.ping();
          if (!r.success) throw r.error;
        }),
      ]);
      const unbound = unboundEventQueues(c.env);
      const queue: Check = unbound.length === 0 ? { ok: true } : { ok: false, error: `${unbound.join(", ")} ${unbound.length === 1 ? "is" : "are"} not bound (EVENTS_QUEUES is ${config(c.env).eventQueues})` };
      const shards = stale.length === 0 ? { ok: true, stale } : { ok: false, stale, error: stale.map((s) => `${s.app} shard ${s.shard}: oldest buffered event is ${Math.floor(s.ageMs / 60_000)} min old`).join("; ") };
      const ready = d1.ok && clickhouse.ok && queue.ok && shards.ok;
      return c.json({ status: ready ? "ready" : "unavailable", checks: { d1, queue, clickhouse, shards } }, ready ? 200 : 503);
    } finally {
      await client.close();
    }
  });
