// Pages Functions entry: every request that is not a static asset goes to Remix. Session
// cookies older than an hour are reissued here, once, for every route.
import { createPagesFunctionHandler } from "@remix-run/cloudflare-pages";
import type { ServerBuild } from "@remix-run/cloudflare";
import { rotateSession } from "../app/auth/session.server";
import { dashboardEnv, type RawEnv } from "../app/env.server";
// @ts-ignore - the server build exists only after `remix vite:build`
import * as serverBuild from "../build/server";

const handleRemix = createPagesFunctionHandler<RawEnv>({ build: serverBuild as unknown as ServerBuild });

export const onRequest: PagesFunction<RawEnv> = async (ctx) => {
  const response = await handleRemix(ctx);
  return rotateSession(ctx.request, response, dashboardEnv(ctx.env).sessionSecret);
};
