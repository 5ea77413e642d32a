// Loader and action tests run the route modules against a real local D1 (Miniflare, reached
// asynchronously through test/d1.ts) and a real local ClickHouse (our server over chDB), with
// fixture events inserted through the same materialized views production uses.
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import type { AppLoadContext } from "@remix-run/cloudflare";
import { Miniflare } from "miniflare";
import { startClickHouseServer } from "../../dev/clickhouse/server";
import { migrateClickHouse } from "../../dev/migrate-clickhouse";
import { csrfBinding, csrfMessage } from "../app/auth/csrf.server";
import { issueSessionToken, type SessionClaims } from "../app/auth/session.server";
import { createFirstOwner } from "../app/db/accounts.server";
import { createApp } from "../app/db/apps.server";
import type { RawEnv } from "../app/env.server";
import { deleteApp, type AppsApi } from "../../workers/apps/delete";
import { purgeAppRows } from "../../workers/apps/purge";
import { inOrg } from "../../workers/apps/store";
import type { WebhookMessage } from "../../workers/alerts/notify";
import { alertSends } from "../../workers/alerts/sends";
import { exportsApi } from "../../workers/exports/calls";
import { D1_EXECUTOR_SCRIPT, remoteD1 } from "./d1";

const root = resolve(import.meta.dirname, "../..");
export const SECRET = "dashboard-test-secret-0123456789abcdef";
/** The browser id in every test request's CSRF cookie. */
export const CSRF = "ef".repeat(24);
export const ORIGIN = "http://127.0.0.1:8788";
const READONLY_USER = { user: "dashboard_ro", password: "dashboard-ro-password" };

export interface Harness {
  db: D1Database;
  env: RawEnv;
  context: AppLoadContext;
  clickhouseUrl: string;
  /** The local server's read-write user, for fixtures (the dashboard itself reads as a read-only one). */
  clickhouseWriter: { username: string; password: string };
  insertEvents(rows: Array<Record<string, string | number>>): Promise<void>;
  /** The local R2 bucket the EXPORTS binding writes the app's files to. */
  archive: R2Bucket;
  /** What the ALERTS binding queued for the webhook consumer, oldest first (the consumer itself runs in workerd tests and the stack). */
  webhookMessages: WebhookMessage[];
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "dashboard-test-"));
  const mf = new Miniflare({ modules: true, script: D1_EXECUTOR_SCRIPT, d1Databases: { DB: "dashboard-test" }, r2Buckets: ["ARCHIVE"] });
  const db = remoteD1(mf);
  for (const m of await readD1Migrations(resolve(root, "schemas/sql/d1"))) await db.batch(m.queries.map((q) => db.prepare(q)));
  // The dashboard reads as a user with readonly = 1, as deployments are advised to set it up.
  const ch = await startClickHouseServer({ dataDir: join(dir, "ch"), port: 0, readonlyUser: READONLY_USER });
  await migrateClickHouse({ url: ch.url, username: ch.user, password: ch.password });
  const client = createClient({ url: ch.url, username: ch.user, password: ch.password, clickhouse_settings: { date_time_input_format: "best_effort" } });
  // The edge Worker's AppsService, run here on the same D1 and ClickHouse. There are no Durable
  // Objects in this harness: that deleting retires the app's batchers is tested in workerd
  // (test/tenancy.workerd.test.ts).
  const APPS: AppsApi = {
    deleteApp: (orgId, appId) => deleteApp({ db, retire: async () => {}, purge: (id) => purgeAppRows(client, id) }, inOrg(orgId), appId),
  };
  // The edge Worker's AlertsService, run here on the same D1 and ClickHouse; its queue keeps what was sent.
  const webhookMessages: WebhookMessage[] = [];
  const ALERTS_QUEUE = {
    sendBatch: async (messages: Iterable<MessageSendRequest<WebhookMessage>>) => {
      for (const m of messages) webhookMessages.push(m.body);
    },
  };
  const ALERTS = alertSends({ db, dashboardUrl: ORIGIN, queue: ALERTS_QUEUE, withClickHouse: (fn) => fn(client) });
  // The edge Worker's ExportsService, run here on the same D1 and ClickHouse, writing to a local R2 bucket.
  const archive = (await mf.getR2Bucket("ARCHIVE")) as unknown as R2Bucket;
  const sealSecret = "dashboard-test-seal-secret-0123456789abcdef";
  const EXPORTS = exportsApi({
    db,
    sealSecret,
    localMode: true,
    withExportDeps: (fn) => fn({ db, client, clickhouseReads: { url: ch.url, database: "default", username: ch.user, password: ch.password }, bucketFor: () => archive, sealSecret, localMode: true, dashboardUrl: ORIGIN, queue: ALERTS_QUEUE }),
  });
  const env: RawEnv = {
    DB: db,
    ENVIRONMENT: "development",
    SESSION_SECRET: SECRET,
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_USER: READONLY_USER.user,
    CLICKHOUSE_PASSWORD: READONLY_USER.password,
    APPS,
    ALERTS,
    EXPORTS,
  };
  return {
    db,
    env,
    context: { cloudflare: { env } },
    clickhouseUrl: ch.url,
    clickhouseWriter: { username: ch.user, password: ch.password },
    archive,
    webhookMessages,
    insertEvents: async (rows) => {
      await client.insert({ table: "events", values: rows, format: "JSONEachRow" });
    },
    close: async () => {
      await client.close();
      await ch.close();
      await mf.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Creates the first owner (organisation "Acme") and `apps` in it; returns the owner's session. */
export async function ownerWithApps(h: Harness, apps: ReadonlyArray<{ id: string; name: string }>): Promise<string> {
  const owner = await createFirstOwner(h.db, { email: "o@example.com", name: "O", password: "owner-password-1", orgName: "Acme" });
  if (!owner) throw new Error("no owner");
  const org = await h.db.prepare("SELECT org_id FROM memberships WHERE user_id = ?").bind(owner.id).first<{ org_id: string }>();
  for (const app of apps) await createApp(h.db, org?.org_id ?? "", app);
  return issueSessionToken(SECRET, owner.id, 0);
}

/** The session a token stands for, as verifySessionToken sees it: ours, and within its lifetime. */
function sessionClaims(token: string | undefined): SessionClaims | null {
  const [header, payload, signature] = (token ?? "").split(".");
  if (!header || !payload || !signature) return null;
  if (createHmac("sha256", SECRET).update(`${header}.${payload}`).digest("base64url") !== signature) return null;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string; sv: number; iat: number; exp?: number };
  return (claims.exp ?? 0) > Date.now() / 1000 ? { userId: claims.sub, version: claims.sv, issuedAt: claims.iat } : null;
}

/** The CSRF token the dashboard's pages give this browser (id CSRF) with this session. */
export const csrfTokenFor = (session?: string): string => createHmac("sha256", SECRET).update(csrfMessage(csrfBinding(CSRF, sessionClaims(session)))).digest("hex");

/** A request as a signed-in browser sends it: session, CSRF and any `cookie` given, same origin. */
export function browserRequest(path: string, opts: { session?: string; form?: Record<string, string>; cookie?: string } = {}): Request {
  const headers: Record<string, string> = { cookie: `__csrf=${CSRF}${opts.session ? `; __session=${opts.session}` : ""}${opts.cookie ? `; ${opts.cookie}` : ""}` };
  if (!opts.form) return new Request(`${ORIGIN}${path}`, { headers });
  headers.origin = ORIGIN;
  return new Request(`${ORIGIN}${path}`, { method: "POST", headers, body: new URLSearchParams({ csrf: csrfTokenFor(opts.session), ...opts.form }) });
}

/** Runs a loader or action and returns its Response, thrown (redirect, 403, 404) or returned. */
export async function run(fn: () => Promise<unknown>): Promise<Response> {
  try {
    const out = await fn();
    if (out instanceof Response) return out;
    return new Response(JSON.stringify(out), { headers: { "content-type": "application/json" } });
  } catch (err) {
    if (err instanceof Response) return err;
    throw err;
  }
}
