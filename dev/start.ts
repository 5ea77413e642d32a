// `npm start`: the whole system on this machine. Local ClickHouse (unless CLICKHOUSE_URL points
// elsewhere), ClickHouse and D1 migrations, a demo app with a local-only write key, and
// `wrangler dev` serving the edge Worker with its Durable Objects, queues, D1, R2 and cron.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { startClickHouseServer } from "./clickhouse/server";
import { migrateClickHouse } from "./migrate-clickhouse";
import { sendDemoEvents } from "./demo-events";
import { buildDashboard, seedDemoDashboard, seedDemoOwner, serveDashboard, waitForDashboard } from "./dashboard";
import { localClickHouseDataDir, type ClickHouseTarget } from "./clickhouse/target";
import { startLocalCron, wranglerCrons } from "./cron";
import { DEMO_APP_ID, DEMO_OWNER, DEMO_WRITE_KEY, LOCAL_ADMIN_TOKEN, LOCAL_SESSION_SECRET, wranglerEnv } from "./local";
import { freePort } from "./stack";

const root = resolve(import.meta.dirname, "..");
const stateDir = resolve(root, process.env.STATE_DIR ?? ".wrangler/state");
const dataDir = localClickHouseDataDir(root);

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer()
      .once("error", () => done(false))
      .once("listening", () => srv.close(() => done(true)))
      .listen(port, "127.0.0.1");
  });
}

/** The port from `name`, or its default; a taken default (this machine is shared) moves to a free one. */
async function pickPort(name: string, fallback: number): Promise<number> {
  const given = process.env[name];
  if (given) return Number(given);
  if (await portFree(fallback)) return fallback;
  const port = await freePort();
  console.log(`${name}: ${fallback} is taken, using ${port}`);
  return port;
}

function run(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn("npx", ["--no-install", "wrangler", ...args], { cwd: root, env: wranglerEnv(root), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", fail);
    child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`wrangler ${args.join(" ")} failed:\n${output}`))));
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("wrangler dev exited before it was ready");
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the edge Worker did not answer ${url}/health within ${timeoutMs / 1000} s`);
}

/**
 * Creates the demo app and its local key through the Worker's admin API, once: later starts
 * find them there and leave the data as it was. False when the demo app was deleted: its id is
 * never given out again, so there is no demo app until the local state is reset.
 */
async function seedDemoApp(edgeUrl: string, adminToken: string): Promise<boolean> {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const existing = await fetch(`${edgeUrl}/admin/apps/${DEMO_APP_ID}`, { headers });
  await existing.body?.cancel();
  const call = async (path: string, body: object): Promise<number> => {
    const res = await fetch(`${edgeUrl}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    if (!res.ok && res.status !== 409) throw new Error(`seeding the demo app: POST ${path} answered ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    return res.status;
  };
  if (existing.status === 404) {
    // No rate limit on the demo app, so local load tests measure the pipeline, not the limiter.
    if ((await call("/admin/apps", { id: DEMO_APP_ID, name: "Demo app", rateLimit: 0 })) === 409) return false;
  } else if (!existing.ok) {
    throw new Error(`seeding the demo app: GET /admin/apps/${DEMO_APP_ID} answered ${existing.status}`);
  }
  await call(`/admin/apps/${DEMO_APP_ID}/keys`, { name: "local demo key", key: DEMO_WRITE_KEY });
  return true;
}

async function main(): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(resolve(root, ".wrangler/xdg"), { recursive: true });
  const edgePort = await pickPort("EDGE_PORT", 8787);
  // DASHBOARD=off starts the edge alone (benchmarks that want every core for the pipeline).
  const withDashboard = process.env.DASHBOARD !== "off";
  const dashboardPort = withDashboard ? await pickPort("DASHBOARD_PORT", 8788) : 0;
  const stops: Array<() => Promise<void>> = [];
  const adminToken = process.env.ADMIN_TOKEN ?? LOCAL_ADMIN_TOKEN;

  // CLICKHOUSE_URL (with CLICKHOUSE_USER, CLICKHOUSE_PASSWORD) points everything elsewhere;
  // the local server has its own password, made on its first start.
  let clickhouse: ClickHouseTarget = { url: process.env.CLICKHOUSE_URL ?? "", username: process.env.CLICKHOUSE_USER ?? "", password: process.env.CLICKHOUSE_PASSWORD ?? "" };
  const local = !clickhouse.url;
  if (local) {
    mkdirSync(dataDir, { recursive: true });
    const chPort = await pickPort("CLICKHOUSE_PORT", 8123);
    const server = await startClickHouseServer({ dataDir, port: chPort });
    stops.push(() => server.close());
    clickhouse = { url: server.url, username: server.user, password: server.password };
  }
  const clickhouseUrl = clickhouse.url;
  const applied = await migrateClickHouse(clickhouse);
  if (applied.length > 0) console.log(`clickhouse migrations applied: ${applied.join(", ")}`);

  const persist = ["--local", "--persist-to", stateDir];
  await run(["d1", "migrations", "apply", "DB", ...persist]);

  const edge = spawn(
    "npx",
    [
      "--no-install",
      "wrangler",
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(edgePort),
      "--persist-to",
      stateDir,
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      "--var",
      "ENVIRONMENT:development",
      "--var",
      `CLICKHOUSE_URL:${clickhouseUrl}`,
      "--var",
      `ADMIN_TOKEN:${adminToken}`,
      // On a developer's machine a flag change shows at the next request after a second, not five.
      "--var",
      "FLAGS_RECHECK_MS:1000",
      // When a shard counts as busy enough to raise its app's shard count, if set: lower than a
      // deployment's to watch automatic sharding on one machine. The call group's window, if
      // set, to compare a shard's calls stored together and alone.
      ...["SHARD_HOT_EVENTS_PER_S", "SHARD_HOT_CALLS_PER_S", "SHARD_HOT_WINDOW_MS", "CALL_GROUP_MS"].flatMap((name) => (process.env[name] ? ["--var", `${name}:${process.env[name]}`] : [])),
      ...(withDashboard ? ["--var", `DASHBOARD_URL:http://127.0.0.1:${dashboardPort}`] : []),
      ...(clickhouse.username ? ["--var", `CLICKHOUSE_USER:${clickhouse.username}`] : []),
      ...(clickhouse.password ? ["--var", `CLICKHOUSE_PASSWORD:${clickhouse.password}`] : []),
    ],
    { cwd: root, env: wranglerEnv(root), stdio: ["ignore", "inherit", "inherit"], detached: true },
  );
  stops.unshift(
    () =>
      new Promise<void>((done) => {
        if (edge.exitCode !== null || edge.pid === undefined) return done();
        edge.once("exit", () => done());
        process.kill(-edge.pid, "SIGTERM");
      }),
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const s of stops) await s().catch((err: unknown) => console.error(err));
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  edge.on("exit", (code) => void stop(code ?? 1));

  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  let dashboardUrl = "";
  let demoApp = true;
  try {
    // The build runs while wrangler dev starts; a failure is reported once both are done.
    const built = withDashboard ? buildDashboard().then(() => null, (err: unknown) => err) : Promise.resolve(null);
    await waitForHealth(edgeUrl, edge, 90_000);
    demoApp = await seedDemoApp(edgeUrl, adminToken);
    const buildError = await built;
    if (buildError) throw buildError;
    if (withDashboard) {
      const dashboard = serveDashboard({ port: dashboardPort, stateDir, clickhouse, sessionSecret: process.env.SESSION_SECRET ?? LOCAL_SESSION_SECRET });
      stops.unshift(() => dashboard.stop());
      dashboard.child.on("exit", (code) => void stop(code ?? 1));
      await waitForDashboard(dashboard.url, dashboard.child, 90_000);
      if ((await seedDemoOwner(dashboard.url)) && demoApp) {
        console.log(`demo events sent: ${await sendDemoEvents(edgeUrl, DEMO_WRITE_KEY)}`);
        await seedDemoDashboard(dashboard.url, DEMO_APP_ID);
      }
      dashboardUrl = dashboard.url;
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await stop(1);
    return;
  }
  // LOCAL_CRON=off leaves the schedules to be fired by hand (`/__scheduled?cron=…`).
  if (process.env.LOCAL_CRON !== "off") {
    const stopCron = startLocalCron(edgeUrl, wranglerCrons(root));
    stops.unshift(async () => stopCron());
  }
  console.log("");
  console.log(`edge: ${edgeUrl}`);
  console.log(`clickhouse: ${clickhouseUrl}`);
  if (local) console.log(`clickhouse login: ${clickhouse.username} / ${clickhouse.password}`);
  if (dashboardUrl) {
    console.log(`dashboard: ${dashboardUrl}`);
    console.log(`login: ${DEMO_OWNER.email} / ${DEMO_OWNER.password}`);
  } else {
    console.log("dashboard: off (DASHBOARD=off)");
  }
  if (demoApp) {
    console.log(`app: ${DEMO_APP_ID}`);
    console.log(`write key: ${DEMO_WRITE_KEY}`);
  } else {
    console.log(`app: none (${DEMO_APP_ID} was deleted and its id is not reused; remove .wrangler/state for a fresh demo)`);
  }
  console.log(`admin token: ${adminToken}`);
  console.log("ready: press Ctrl-C to stop");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
