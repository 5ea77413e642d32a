// The Worker's side of apps: the deletion's dependencies bound to this Worker's Durable Objects
// and ClickHouse, and AppsService, the entrypoint the dashboard reaches through a service binding
// (no route on the internet leads to it).
import { WorkerEntrypoint } from "cloudflare:workers";
import { config } from "../../schemas";
import { localD1Env } from "../../schemas/local-d1";
import { clickhouseClient } from "../lib/clickhouse";
import { allShards, deleteApp, type AppsApi, type DeletionDeps, type DeletionResult } from "./delete";
import { deleteAppSourceMaps } from "../sourcemaps/store";
import { deleteAppLake } from "../lake/manifest";
import { deleteAppExports } from "../exports/destinations";
import { purgeAppMetadata, purgeAppRows } from "./purge";
import { archiveBuckets, batcherStub } from "./location";
import { appLocation, inOrg } from "./store";

/** Deletion as this Worker performs it; `close` ends its ClickHouse client. */
export function workerDeletionDeps(env: Env): DeletionDeps & { close(): Promise<void> } {
  const client = clickhouseClient(config(env).clickhouse);
  return {
    db: env.DB,
    retire: async (appId) => {
      const location = (await appLocation(env.DB, appId)) ?? "default";
      await Promise.all(allShards().map((shard) => batcherStub(env, location, appId, shard).retire()));
    },
    purge: async (appId) => {
      await purgeAppRows(client, appId);
      // Every bucket: cheap, and right even for an app whose location D1 no longer says.
      for (const { bucket } of archiveBuckets(env)) {
        await deleteAppSourceMaps(bucket, appId);
        await deleteAppLake(bucket, appId);
        await deleteAppExports(bucket, appId);
      }
      await purgeAppMetadata(env.DB, appId);
    },
    close: () => client.close(),
  };
}

/** Runs `fn` with the Worker's deletion dependencies and closes them after. */
export async function withDeletionDeps<T>(env: Env, fn: (deps: DeletionDeps) => Promise<T>): Promise<T> {
  const deps = workerDeletionDeps(env);
  try {
    return await fn(deps);
  } finally {
    await deps.close();
  }
}

/** What the dashboard calls on the edge Worker. */
export class AppsService extends WorkerEntrypoint<Env> implements AppsApi {
  async deleteApp(orgId: string, appId: string): Promise<DeletionResult> {
    return withDeletionDeps(localD1Env(this.env), (deps) => deleteApp(deps, inOrg(orgId), appId));
  }
}
