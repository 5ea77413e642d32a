// The whole dashboard as Pages runs it (Remix's server build, entry.server and the Pages
// Function's handler) for tests, built on demand by Vite from the sources.
import { resolve } from "node:path";
import type { ServerBuild } from "@remix-run/cloudflare";
import { createServer, type ViteDevServer } from "vite";
import { handleDashboardRequest } from "../app/auth/respond.server";
import type { RawEnv } from "../app/env.server";
import type { Harness } from "./harness";

export interface DashboardServer {
  fetch(request: Request): Promise<Response>;
  /** The same request on other bindings, e.g. a deployment's. */
  fetchWith(env: RawEnv, request: Request): Promise<Response>;
  close(): Promise<void>;
}

/** The runtime always passes the Host header; Remix compares it with Origin on form posts. */
function withHost(request: Request): Request {
  if (!request.headers.has("host")) request.headers.set("host", new URL(request.url).host);
  return request;
}

export async function startDashboardServer(h: Harness): Promise<DashboardServer> {
  const vite: ViteDevServer = await createServer({ configFile: resolve(import.meta.dirname, "vite.config.ts") });
  const build = (await vite.ssrLoadModule("virtual:remix/server-build")) as ServerBuild;
  return {
    fetch: (request) => handleDashboardRequest(build, withHost(request), h.env),
    fetchWith: (env, request) => handleDashboardRequest(build, withHost(request), env),
    close: () => vite.close(),
  };
}
