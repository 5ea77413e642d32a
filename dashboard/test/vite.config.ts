// The dashboard's Vite config without the Cloudflare dev proxy, for tests that load the whole
// Remix server build in Node (test/server.ts) on the harness's own D1 and ClickHouse.
import { resolve } from "node:path";
import { defineConfig, type PluginOption } from "vite";
import dashboard from "../vite.config";

const isDevProxy = (p: PluginOption): boolean => typeof p === "object" && p !== null && "name" in p && p.name === "vite-plugin-remix-cloudflare-proxy";

export default defineConfig({
  ...dashboard,
  root: resolve(import.meta.dirname, ".."),
  plugins: (dashboard.plugins ?? []).filter((p) => !isDevProxy(p)),
  logLevel: "error",
  server: { middlewareMode: true, hmr: false, watch: null },
  appType: "custom",
});
