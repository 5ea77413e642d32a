import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startClickHouseServer } from "../dev/clickhouse/server";
import { migrateClickHouse } from "../dev/migrate-clickhouse";
import { startFaultProxy } from "./fault-proxy";
import { startWebhookReceiver } from "./webhook-receiver";

declare module "vitest" {
  export interface ProvidedContext {
    /** What the Worker under test uses: the local ClickHouse behind a fault proxy. */
    clickhouseUrl: string;
    /** The local ClickHouse itself, for assertions that must not see injected faults. */
    clickhouseDirectUrl: string;
    /** The local ClickHouse's credentials (the fault proxy passes them through). */
    clickhouseUser: string;
    clickhousePassword: string;
    /** A webhook receiver in Node (test/webhook-receiver.ts): where alert tests point endpoints. */
    webhookReceiverUrl: string;
    /** Seed of test/fuzz.workerd.test.ts: `FUZZ_SEED=n npm test` replays or explores a run. */
    fuzzSeed: number;
  }
}

// A real ClickHouse engine for the workerd tests: a fresh data directory per run.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), "telemetry-ch-"));
  const server = await startClickHouseServer({ dataDir, port: 0 });
  await migrateClickHouse({ url: server.url, username: server.user, password: server.password });
  // An empty database with the same tables: workers/lake rebuilds ClickHouse from the lake into it.
  const created = await fetch(`${server.url}/?query=${encodeURIComponent("CREATE DATABASE IF NOT EXISTS lake_replay")}`, { method: "POST", headers: { "X-ClickHouse-User": server.user, "X-ClickHouse-Key": server.password } });
  if (!created.ok) throw new Error(await created.text());
  await migrateClickHouse({ url: server.url, username: server.user, password: server.password, database: "lake_replay" });
  const proxy = await startFaultProxy(server.url);
  const receiver = await startWebhookReceiver();
  project.provide("webhookReceiverUrl", receiver.url);
  project.provide("clickhouseUrl", proxy.url);
  project.provide("clickhouseDirectUrl", server.url);
  project.provide("clickhouseUser", server.user);
  project.provide("clickhousePassword", server.password);
  // A fixed default keeps `npm test` reproducible; any other seed explores new inputs.
  const seed = Number(process.env.FUZZ_SEED ?? "20261120");
  project.provide("fuzzSeed", Number.isSafeInteger(seed) ? seed : 20261120);
  return async () => {
    await proxy.close();
    await receiver.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
