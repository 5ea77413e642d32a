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

interface Servers {
  clickhouseUrl: string;
  clickhouseDirectUrl: string;
  clickhouseUser: string;
  clickhousePassword: string;
  webhookReceiverUrl: string;
  close(): Promise<void>;
}

// A real ClickHouse engine for the workerd tests: a fresh data directory per run.
async function startServers(): Promise<Servers> {
  const dataDir = await mkdtemp(join(tmpdir(), "telemetry-ch-"));
  const server = await startClickHouseServer({ dataDir, port: 0 });
  await migrateClickHouse({ url: server.url, username: server.user, password: server.password });
  // An empty database with the same tables: workers/lake rebuilds ClickHouse from the lake into it.
  const created = await fetch(`${server.url}/?query=${encodeURIComponent("CREATE DATABASE IF NOT EXISTS lake_replay")}`, { method: "POST", headers: { "X-ClickHouse-User": server.user, "X-ClickHouse-Key": server.password } });
  if (!created.ok) throw new Error(await created.text());
  await migrateClickHouse({ url: server.url, username: server.user, password: server.password, database: "lake_replay" });
  const proxy = await startFaultProxy(server.url);
  const receiver = await startWebhookReceiver();
  return {
    clickhouseUrl: proxy.url,
    clickhouseDirectUrl: server.url,
    clickhouseUser: server.user,
    clickhousePassword: server.password,
    webhookReceiverUrl: receiver.url,
    close: async () => {
      await proxy.close();
      await receiver.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// Both workerd projects (vitest.config.ts) run this setup in the one vitest process, where chDB
// holds one data directory at a time: they share one set of servers, closed by the last to finish.
const SHARED = Symbol.for("edge-telemetry.workerd-servers");
type Shared = { servers: Promise<Servers>; users: number };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const holder = globalThis as { [SHARED]?: Shared };
  const shared = (holder[SHARED] ??= { servers: startServers(), users: 0 });
  shared.users += 1;
  const servers = await shared.servers;
  project.provide("webhookReceiverUrl", servers.webhookReceiverUrl);
  project.provide("clickhouseUrl", servers.clickhouseUrl);
  project.provide("clickhouseDirectUrl", servers.clickhouseDirectUrl);
  project.provide("clickhouseUser", servers.clickhouseUser);
  project.provide("clickhousePassword", servers.clickhousePassword);
  // A fixed default keeps `npm test` reproducible; any other seed explores new inputs.
  const seed = Number(process.env.FUZZ_SEED ?? "20261120");
  project.provide("fuzzSeed", Number.isSafeInteger(seed) ? seed : 20261120);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete holder[SHARED];
    await servers.close();
  };
}
