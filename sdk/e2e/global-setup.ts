// The SDK's end-to-end tests run against the whole local stack, started the way `npm start`
// starts it but on free ports with a fresh state: the local ClickHouse, the edge Worker under
// `wrangler dev`, and the demo app with its write key. The SDK is built first.
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { buildSdk } from "../../dev/build-sdk";
import { startLocalStack } from "../../dev/stack";

const shots = resolve(import.meta.dirname, "../../test-results");

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * The local stack the SDK's end-to-end tests send to. `clickhouse` carries the local
     * server's credentials as ClickHouse's `user` and `password` URL parameters.
     */
    sdkStack: { edge: string; clickhouse: string; writeKey: string; appId: string };
    /** The same stack's dashboard (dashboard/e2e): its URL and the seeded owner's login. */
    dashboardStack: { edge: string; url: string; email: string; password: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildSdk();
  const dir = await mkdtemp(join(tmpdir(), "sdk-e2e-"));
  const stack = await startLocalStack(dir);
  const clickhouse = new URL(stack.clickhouse.url);
  clickhouse.searchParams.set("user", stack.clickhouse.username);
  clickhouse.searchParams.set("password", stack.clickhouse.password);
  project.provide("sdkStack", { edge: stack.edge, clickhouse: clickhouse.href, writeKey: stack.writeKey, appId: stack.appId });
  if (!stack.dashboard) throw new Error("the local stack printed no dashboard URL and login");
  project.provide("dashboardStack", { edge: stack.edge, ...stack.dashboard });
  return async () => {
    await stack.stop();
    // The stack's output outlives it, for reading after a failed browser test.
    await mkdir(shots, { recursive: true });
    await copyFile(join(dir, "stack.log"), join(shots, "e2e-stack.log")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
}
