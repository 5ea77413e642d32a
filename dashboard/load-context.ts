import type { RawEnv } from "./app/env.server";

declare module "@remix-run/cloudflare" {
  interface AppLoadContext {
    cloudflare: {
      env: RawEnv;
      /** Keeps work alive after the response is sent (the request's waitUntil); absent where nothing outlives a request. */
      waitUntil?: (work: Promise<unknown>) => void;
    };
  }
}
