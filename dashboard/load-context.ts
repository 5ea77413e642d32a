import type { RawEnv } from "./app/env.server";

declare module "@remix-run/cloudflare" {
  interface AppLoadContext {
    cloudflare: { env: RawEnv };
  }
}
