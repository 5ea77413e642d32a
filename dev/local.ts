// Local development defaults. They only ever exist on a developer's machine: production write
// keys are created per app and stored hashed, and ADMIN_TOKEN is a `wrangler secret`.
// The Worker and the dashboard import this file: it must stay free of Node built-ins.

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
/** Where `npm start` serves the dashboard unless DASHBOARD_PORT says otherwise: the Worker's webhooks link there. */
export const LOCAL_DASHBOARD_URL = "http://127.0.0.1:8788";
/** What seals the Worker's OAuth signing keys in D1 on this machine; a deployed Worker refuses it. Local use only. */
export const LOCAL_OAUTH_KEY_SECRET = "local-only-oauth-key-secret-do-not-deploy-00";
