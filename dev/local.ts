// Local development defaults. They only ever exist on a developer's machine: production write
// keys are created per app and stored hashed, and ADMIN_TOKEN is a `wrangler secret`.
import { resolve } from "node:path";
import { localPassword } from "./clickhouse/password";

/** The demo app `npm start` seeds. */
export const DEMO_APP_ID = "app_demo";
/** The demo app's write key. Local use only. */
export const DEMO_WRITE_KEY = "wk_local_demo_key_not_secret";
/** The admin token `npm start` gives the local Worker. Local use only. */
export const LOCAL_ADMIN_TOKEN = "local-admin-token";

/** Environment for wrangler: no telemetry, no network look-ups, all state inside the repo. */
export function wranglerEnv(root: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    XDG_CONFIG_HOME: `${root}/.wrangler/xdg`,
    CI: "true",
  };
}

/** The dashboard's first owner, seeded by `npm start` when the local D1 has no user. Local use only. */
export const DEMO_OWNER = { email: "demo@example.com", password: "local-demo-password", name: "Demo Owner", orgName: "Demo organisation" } as const;
/** The dashboard's JWT signing secret on this machine; production sets its own as a Pages secret. */
export const LOCAL_SESSION_SECRET = "local-only-session-secret-do-not-deploy-0000";

/** The local ClickHouse's data directory, under the repository (CLICKHOUSE_DATA_DIR overrides it). */
export function localClickHouseDataDir(root: string): string {
  return resolve(root, process.env.CLICKHOUSE_DATA_DIR ?? ".data/clickhouse");
}

/** ClickHouse and its credentials, as a client takes them: `createClient(await clickhouseTarget(root))`. */
export interface ClickHouseTarget {
  url: string;
  username: string;
  password: string;
}

/**
 * The ClickHouse local tools talk to: CLICKHOUSE_URL with CLICKHOUSE_USER and
 * CLICKHOUSE_PASSWORD when set, or else the local server of `npm start` on CLICKHOUSE_PORT
 * (8123) with the password it keeps in its data directory.
 */
export async function clickhouseTarget(root: string): Promise<ClickHouseTarget> {
  const url = process.env.CLICKHOUSE_URL;
  if (url) return { url, username: process.env.CLICKHOUSE_USER || "default", password: process.env.CLICKHOUSE_PASSWORD ?? "" };
  return { url: `http://127.0.0.1:${process.env.CLICKHOUSE_PORT || "8123"}`, username: "default", password: await localPassword(localClickHouseDataDir(root)) };
}
