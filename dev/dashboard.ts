// The dashboard for `npm start`: built with Remix's Vite build, served by `wrangler pages dev`
// on the same D1 state as the edge Worker, and its first owner seeded through the sign-up form
// like a person would (so the password is hashed by the dashboard's own code).
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import type { ClickHouseTarget } from "./clickhouse/target";
import { DEMO_OWNER, wranglerEnv } from "./local";

const root = resolve(import.meta.dirname, "..");
const dashboardDir = resolve(root, "dashboard");

function runQuiet(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: wranglerEnv(root), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", fail);
    child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`${cmd} ${args.join(" ")} failed:\n${output}`))));
  });
}

/** `remix vite:build` into dashboard/build (a few seconds). */
export function buildDashboard(): Promise<void> {
  return runQuiet("npx", ["--no-install", "remix", "vite:build"], dashboardDir);
}

export interface DashboardOptions {
  port: number;
  stateDir: string;
  clickhouse: ClickHouseTarget;
  sessionSecret: string;
}

/** Starts `wrangler pages dev` for dashboard/ in its own process group; stop it with the returned function. */
export function serveDashboard(opts: DashboardOptions): { url: string; child: ChildProcess; stop(): Promise<void> } {
  const { url, username, password } = opts.clickhouse;
  const bindings = ["ENVIRONMENT=development", `CLICKHOUSE_URL=${url}`, `SESSION_SECRET=${opts.sessionSecret}`];
  if (username) bindings.push(`CLICKHOUSE_USER=${username}`);
  if (password) bindings.push(`CLICKHOUSE_PASSWORD=${password}`);
  const child = spawn(
    "npx",
    ["--no-install", "wrangler", "pages", "dev", "build/client", "--ip", "127.0.0.1", "--port", String(opts.port), "--persist-to", opts.stateDir, "--show-interactive-dev-session=false", ...bindings.flatMap((b) => ["--binding", b])],
    { cwd: dashboardDir, env: wranglerEnv(root), stdio: ["ignore", "inherit", "inherit"], detached: true },
  );
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null || child.pid === undefined) return done();
      child.once("exit", () => done());
      process.kill(-child.pid, "SIGTERM");
    });
  return { url: `http://127.0.0.1:${opts.port}`, child, stop };
}

/** Waits until the dashboard answers its sign-in page. */
export async function waitForDashboard(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("wrangler pages dev exited before the dashboard was ready");
    try {
      const res = await fetch(`${url}/login`, { redirect: "manual" });
      await res.body?.cancel();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the dashboard did not answer ${url}/login within ${timeoutMs / 1000} s`);
}

/**
 * Signs up the demo owner while the local D1 has no user; the new organisation adopts the demo
 * app. Returns false when an owner exists already (a later start keeps whatever was changed).
 */
export async function seedDemoOwner(url: string): Promise<boolean> {
  const page = await fetch(`${url}/signup`, { redirect: "manual" });
  const html = await page.text();
  if (page.status !== 200) return false;
  const cookie = /__csrf=([0-9a-f]+)/.exec(page.headers.get("set-cookie") ?? "")?.[1];
  const token = /name="csrf" value="([0-9a-f]+)"/.exec(html)?.[1];
  if (!cookie || !token) throw new Error("the dashboard's sign-up page set no CSRF cookie or token");
  const res = await fetch(`${url}/signup`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: `__csrf=${cookie}`, origin: url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: token, ...DEMO_OWNER }),
  });
  await res.body?.cancel();
  if (res.status !== 302) throw new Error(`seeding the demo owner: POST /signup answered ${res.status}`);
  return true;
}
