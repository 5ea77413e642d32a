// A D1 database for a benchmark: the real D1 inside Miniflare, every migration applied, reached
// through the same asynchronous binding the dashboard's tests use.
import { resolve } from "node:path";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { Miniflare } from "miniflare";
import { D1_EXECUTOR_SCRIPT, remoteD1 } from "../dashboard/test/d1";

export async function benchD1(): Promise<{ db: D1Database; close: () => Promise<void> }> {
  const mf = new Miniflare({ modules: true, script: D1_EXECUTOR_SCRIPT, d1Databases: { DB: "bench" } });
  const db = remoteD1(mf);
  for (const m of await readD1Migrations(resolve(import.meta.dirname, "../schemas/sql/d1"))) await db.batch(m.queries.map((q) => db.prepare(q)));
  return { db, close: () => mf.dispose() };
}
