// Pages Functions entry: a request for a file of the client build is that file; every other
// request goes to Remix through handleDashboardRequest (configuration check, session rotation,
// security headers).
import type { ServerBuild } from "@remix-run/cloudflare";
import { handleDashboardRequest } from "../app/auth/respond.server";
import type { RawEnv } from "../app/env.server";
// @ts-ignore - the server build exists only after `remix vite:build`
import * as serverBuild from "../build/server";

const build = serverBuild as unknown as ServerBuild;

export const onRequest: PagesFunction<RawEnv & { ASSETS: Fetcher }> = async (ctx) => {
  if (ctx.request.method === "GET" || ctx.request.method === "HEAD") {
    const asset = await ctx.env.ASSETS.fetch(ctx.request.url, { method: ctx.request.method, headers: ctx.request.headers });
    if (asset.status >= 200 && asset.status < 400) return asset;
  }
  return handleDashboardRequest(build, ctx.request, ctx.env, (work) => ctx.waitUntil(work));
};
