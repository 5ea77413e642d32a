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

/**
 * Reads a response to its end. Cancelling the body instead closes the connection while the
 * dashboard may still be writing, which workerd reports as a broken pipe in `npm start`'s output.
 */
async function drain(res: Response): Promise<void> {
  await res.arrayBuffer();
}

/** Waits until the dashboard answers its sign-in page. */
export async function waitForDashboard(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("wrangler pages dev exited before the dashboard was ready");
    try {
      const res = await fetch(`${url}/login`, { redirect: "manual" });
      await drain(res);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the dashboard did not answer ${url}/login within ${timeoutMs / 1000} s`);
}

const CSRF_TOKEN = /name="csrf" value="([0-9a-f]+)"/;

/** The CSRF token of the form an answered page holds. */
async function formToken(page: Response, what: string): Promise<string> {
  const token = CSRF_TOKEN.exec(await page.text())?.[1];
  if (!token) throw new Error(`${what} gave no CSRF token`);
  return token;
}

/** The `__csrf` cookie a page set. */
function csrfCookie(page: Response, what: string): string {
  const cookie = /__csrf=([0-9a-f]+)/.exec(page.headers.get("set-cookie") ?? "")?.[1];
  if (!cookie) throw new Error(`${what} set no CSRF cookie`);
  return `__csrf=${cookie}`;
}

/** POSTs `form` to `path` as the browser's form would (same origin, with `cookie`), redirects not followed. */
const postForm = (url: string, path: string, cookie: string, form: Record<string, string>): Promise<Response> =>
  fetch(`${url}${path}`, { method: "POST", redirect: "manual", headers: { cookie, origin: url, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });

/**
 * Signs up the demo owner while the local D1 has no user; the new organisation adopts the demo
 * app. Returns false when an owner exists already (a later start keeps whatever was changed).
 */
export async function seedDemoOwner(url: string): Promise<boolean> {
  const page = await fetch(`${url}/signup`, { redirect: "manual" });
  if (page.status !== 200) {
    await drain(page);
    return false;
  }
  const cookie = csrfCookie(page, "the dashboard's sign-up page");
  const res = await postForm(url, "/signup", cookie, { csrf: await formToken(page, "the dashboard's sign-up page"), ...DEMO_OWNER });
  await drain(res);
  if (res.status !== 302) throw new Error(`seeding the demo owner: POST /signup answered ${res.status}`);
  return true;
}

/** The demo dashboard's cards: the demo app's insights as a growth team would save them. */
const DEMO_INSIGHTS = [
  { type: "trends", name: "Daily visitors", description: "People who viewed a page, per day", query: "range=7d&type0=page&measure0=users&interval=day" },
  { type: "funnels", name: "Checkout funnel", description: "From a product to checkout within a day", query: "range=7d&step=Product+Viewed&step=Added+to+Cart&step=Checkout+Started&window=1d" },
  { type: "retention", name: "Daily retention", description: "", query: "range=7d&period=day" },
  { type: "paths", name: "Pages after the start", description: "", query: "range=7d&kind=pages&depth=3" },
  { type: "stickiness", name: "Days active a week", description: "", query: "range=30d" },
] as const;

/**
 * Signs in as the demo owner and saves the demo app's insights on a "Growth" dashboard, through
 * the dashboard's own forms, so a fresh `npm start` opens with a dashboard to look at.
 */
export async function seedDemoDashboard(url: string, appId: string): Promise<void> {
  const login = await fetch(`${url}/login`);
  const csrf = csrfCookie(login, "the dashboard's sign-in page");
  const signedIn = await postForm(url, "/login", csrf, { csrf: await formToken(login, "the dashboard's sign-in page"), email: DEMO_OWNER.email, password: DEMO_OWNER.password, next: "/dashboards" });
  await drain(signedIn);
  const session = /__session=([^;]+)/.exec(signedIn.headers.get("set-cookie") ?? "")?.[1];
  if (signedIn.status !== 302 || !session) throw new Error(`signing in as the demo owner: POST /login answered ${signedIn.status}`);
  const cookie = `${csrf}; __session=${session}`;
  // The CSRF token a signed-in page gives is bound to the session.
  const token = await formToken(await fetch(`${url}/dashboards`, { headers: { cookie } }), "the dashboards page");
  const post = async (path: string, form: Record<string, string>): Promise<Response> => {
    const res = await postForm(url, path, cookie, { csrf: token, ...form });
    if (res.status >= 400) throw new Error(`seeding the demo dashboard: POST ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return res;
  };
  const made = await post("/dashboards", { intent: "create", name: "Growth", description: "The demo app's visitors, checkout, retention, paths and stickiness" });
  await drain(made);
  const board = made.headers.get("location") ?? "";
  if (!/^\/dashboards\/dsh_[0-9a-f]+$/.test(board)) throw new Error(`creating the demo dashboard led to "${board}"`);
  for (const insight of DEMO_INSIGHTS) {
    const saved = (await (await post("/insights/save", { intent: "save", appId, ...insight })).json()) as { ok: boolean; id?: string };
    if (!saved.ok || !saved.id) throw new Error(`saving the demo insight "${insight.name}" failed`);
    await drain(await post(board, { intent: "add", insightId: saved.id }));
  }
}
