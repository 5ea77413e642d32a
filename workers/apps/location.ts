// Where an app's data lives at Cloudflare: the one place that turns an app's location into the
// Durable Object namespace its batchers live in and the R2 bucket its archives go to
// (docs/decisions/0017-retention-and-data-location.md).
import type { AppBatcher } from "../../durable-objects/app-batcher";
import type { AppLocation } from "../../schemas";
import { log } from "../lib/log";

// workerd (wrangler dev, the tests) has no jurisdictions and throws this from `jurisdiction()`.
const LOCAL_RUNTIME = /not implemented in workerd/i;
let warned = false;

/**
 * The namespace an app's AppBatcher shards are made from: the EU jurisdiction for an EU app, so
 * its buffered events are stored and processed only in the EU. Locally, where workerd has no
 * jurisdictions, an EU app's batchers run in the one local namespace.
 */
export function batcherNamespace(env: Pick<Env, "APP_BATCHER">, location: AppLocation): DurableObjectNamespace<AppBatcher> {
  if (location !== "eu") return env.APP_BATCHER;
  try {
    return env.APP_BATCHER.jurisdiction("eu");
  } catch (err) {
    if (!(err instanceof Error && LOCAL_RUNTIME.test(err.message))) throw err;
    if (!warned) log.warn("batcher.no_jurisdictions", { fallback: "EU apps' batchers run in the local namespace" });
    warned = true;
    return env.APP_BATCHER;
  }
}

/** The stub of one shard of an app's batcher, in the app's namespace. */
export function batcherStub(env: Pick<Env, "APP_BATCHER">, location: AppLocation, appId: string, shard: number): DurableObjectStub<AppBatcher> {
  const ns = batcherNamespace(env, location);
  return ns.get(ns.idFromName(`${appId}:${shard}`));
}

/** The bucket an app's archives (source maps, dead letters) are written to: the EU bucket for an EU app. */
export function archiveBucket(env: Pick<Env, "ARCHIVE" | "ARCHIVE_EU">, location: AppLocation): R2Bucket {
  return location === "eu" ? env.ARCHIVE_EU : env.ARCHIVE;
}

/** Every archive bucket, for jobs and listings that span all apps. */
export function archiveBuckets(env: Pick<Env, "ARCHIVE" | "ARCHIVE_EU">): Array<{ location: AppLocation; bucket: R2Bucket }> {
  return [
    { location: "default", bucket: env.ARCHIVE },
    { location: "eu", bucket: env.ARCHIVE_EU },
  ];
}

/** The location a Durable Object runs in, from its own id: an EU batcher archives to the EU bucket. */
export const locationOfId = (id: DurableObjectId): AppLocation => (id.jurisdiction === "eu" ? "eu" : "default");
