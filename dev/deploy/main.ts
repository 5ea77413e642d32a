// `npm run deploy [-- --env staging] [--dry-run] [--secrets-file <file>]`: one environment of the
// edge Worker and the dashboard on Cloudflare, with ClickHouse migrated, from nothing or from a
// half-finished earlier run. Every step is safe to repeat.
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify, type TomlTable } from "smol-toml";
import { isRecord } from "../../workers/lib/json";
import { randomHex } from "../../workers/apps/keys";
import { LOCAL_ADMIN_TOKEN, LOCAL_OAUTH_KEY_SECRET, LOCAL_SESSION_SECRET } from "../local";
import { migrateClickHouse } from "../migrate-clickhouse";
import { applyClickHouseUsers, clickhouseUsersSql } from "./clickhouse-users";
import { clickhouseUrlProblem, dashboardConfig, type EnvironmentFile, formatEnvironmentFile, parseEnvironmentFile, resourceNames, workerConfig } from "./environment";
import { deployedUrl, type Existing, parseD1List, parsePagesProjects, parsePagesSecretList, parseQueueList, parseR2BucketList, parseSecretList, planResources, planSecrets, type Step } from "./plan";
import { type Wrangler, wranglerRunner } from "./runner";

export interface DeployOptions {
  root: string;
  env: string;
  dryRun: boolean;
  /** Where deploy/<env>.json lives (default: <root>/deploy). */
  deployDir?: string;
  /** Process environment the inputs are read from (CLOUDFLARE_API_TOKEN, CLICKHOUSE_*, secrets). */
  vars: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  wrangler?: Wrangler;
  /** How long to wait for the deployed Worker's /ready. */
  readyTimeoutMs?: number;
}

export interface DeployResult {
  steps: Step[];
  /** The wrangler config used (the repository's, or a dry run's copy under .wrangler/deploy/<env>/). */
  workerConfigPath: string;
  dashboardConfigPath: string;
  /** A dry run's bundle of the Worker (wrangler deploy --dry-run --outdir). */
  outdir: string;
}

/** The Worker's and the dashboard's own ClickHouse users, when both are given with their passwords. */
function clickhouseUsers(vars: DeployOptions["vars"]): { worker: { name: string; password: string }; dashboard: { name: string; password: string } } | undefined {
  const { WORKER_CLICKHOUSE_USER: w, WORKER_CLICKHOUSE_PASSWORD: wp, DASHBOARD_CLICKHOUSE_USER: d, DASHBOARD_CLICKHOUSE_PASSWORD: dp } = vars;
  return w && wp && d && dp ? { worker: { name: w, password: wp }, dashboard: { name: d, password: dp } } : undefined;
}

const LOCAL_DEFAULTS = [LOCAL_ADMIN_TOKEN, LOCAL_OAUTH_KEY_SECRET, LOCAL_SESSION_SECRET];

const KIND_LABEL: Record<Step["kind"], string> = { d1: "D1 database", queue: "queue", r2: "R2 bucket", pages: "Pages project" };

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const { root, env, dryRun, log, vars } = opts;
  const deployDir = opts.deployDir ?? join(root, "deploy");
  const workDir = join(root, ".wrangler", "deploy", env);
  const token = vars.CLOUDFLARE_API_TOKEN;
  const wrangler = opts.wrangler ?? wranglerRunner(root, dryRun, log, token === undefined ? {} : { CLOUDFLARE_API_TOKEN: token });
  const phase = (n: number, text: string): void => log(`[${n}/8] ${text}`);
  log(`Deploying environment "${env}"${dryRun ? " (dry run: nothing on Cloudflare or in ClickHouse changes)" : ""}`);

  // 1. Inputs: refuse what a deployed Worker would refuse, before touching anything.
  phase(1, "inputs");
  const filePath = join(deployDir, `${env}.json`);
  const recorded = await readFile(filePath, "utf8").then(
    (text) => parseEnvironmentFile(text, filePath),
    (err: unknown) => {
      if (isRecord(err) && err.code === "ENOENT") return undefined;
      throw err;
    },
  );
  const clickhouseUrl = vars.CLICKHOUSE_URL || recorded?.clickhouse?.url;
  const problems: string[] = [];
  if (!dryRun && !token) problems.push("CLOUDFLARE_API_TOKEN is not set (a token with the permissions README.md lists)");
  if (clickhouseUrl === undefined) problems.push(`CLICKHOUSE_URL is not set and ${filePath} does not record one`);
  else {
    const p = clickhouseUrlProblem(clickhouseUrl);
    if (p !== undefined) problems.push(p);
  }
  const chUser = vars.CLICKHOUSE_USER || "default";
  const chPassword = vars.CLICKHOUSE_PASSWORD ?? "";
  if (!dryRun && chPassword === "") problems.push("CLICKHOUSE_PASSWORD is not set");
  if (problems.length > 0 || clickhouseUrl === undefined) throw new Error(`cannot deploy ${env}:\n  - ${problems.join("\n  - ")}`);
  const database = vars.CLICKHOUSE_DATABASE || recorded?.clickhouse?.database || "default";
  const file: EnvironmentFile = { ...recorded, clickhouse: { url: clickhouseUrl, database } };
  const workerToml = await readFile(join(root, "wrangler.toml"), "utf8");
  const dashboardToml = await readFile(join(root, "dashboard", "wrangler.toml"), "utf8");
  const names = resourceNames(env, workerToml, dashboardToml);
  log(`  Worker ${names.worker}, dashboard ${names.pagesProject}, ClickHouse ${clickhouseUrl} (database ${database})`);

  // 2. What exists, by name.
  phase(2, "resources");
  const existing: Existing = {};
  if (token) {
    existing.d1 = parseD1List((await wrangler(["d1", "list", "--json"], { readOnly: true })).stdout);
    existing.queues = parseQueueList((await wrangler(["queues", "list"], { readOnly: true })).stdout);
    existing.buckets = {};
    for (const j of new Set(names.buckets.map((b) => b.jurisdiction ?? ""))) {
      existing.buckets[j] = parseR2BucketList((await wrangler(["r2", "bucket", "list", ...(j === "" ? [] : ["--jurisdiction", j])], { readOnly: true })).stdout);
    }
    existing.pages = parsePagesProjects((await wrangler(["pages", "project", "list", "--json"], { readOnly: true })).stdout);
  } else {
    log("  (not checked against the account: no CLOUDFLARE_API_TOKEN; each is created unless it exists)");
  }
  const steps = planResources(names, existing, recorded?.d1DatabaseId);
  for (const s of steps) {
    const what = s.action === "reuse" ? "exists, reused" : s.action === "create" ? "missing, created" : "created unless it exists";
    log(`  ${KIND_LABEL[s.kind]} ${s.name}: ${what}${s.detail === undefined ? "" : ` (${s.detail})`}`);
    if (s.action !== "reuse") await wrangler(s.create);
  }
  const d1Step = steps.find((s) => s.kind === "d1");
  const pagesStep = steps.find((s) => s.kind === "pages");
  if (!dryRun && d1Step?.action !== "reuse") {
    const db = parseD1List((await wrangler(["d1", "list", "--json"], { readOnly: true })).stdout).find((d) => d.name === names.d1.name);
    if (db === undefined) throw new Error(`D1 database ${names.d1.name} was created but is not listed`);
    file.d1DatabaseId = db.id;
  } else if (d1Step?.detail !== undefined) file.d1DatabaseId = d1Step.detail;
  let domain = pagesStep?.detail;
  if (!dryRun && domain === undefined) {
    domain = parsePagesProjects((await wrangler(["pages", "project", "list", "--json"], { readOnly: true })).stdout).find((p) => p.name === names.pagesProject)?.domains[0];
  }
  if (file.dashboardUrl === undefined) file.dashboardUrl = vars.DASHBOARD_URL || (domain === undefined ? `https://${names.pagesProject}.pages.dev` : `https://${domain}`);

  // 3. Configuration: deploy/<env>.json and the generated [env.<env>] sections.
  phase(3, "configuration");
  await mkdir(workDir, { recursive: true });
  const workerWithEnv = workerConfig(workerToml, env, file);
  let workerConfigPath = join(root, "wrangler.toml");
  if (dryRun) {
    workerConfigPath = join(workDir, "wrangler.toml");
    await writeFile(workerConfigPath, relocated(workerWithEnv, root));
    await writeFile(join(workDir, `${env}.json`), formatEnvironmentFile(file));
    log(`  would write ${filePath} and [env.${env}] in wrangler.toml: written to ${workDir} instead`);
  } else {
    await mkdir(deployDir, { recursive: true });
    await writeFile(filePath, formatEnvironmentFile(file));
    await writeFile(workerConfigPath, workerWithEnv);
    log(`  wrote ${filePath} and [env.${env}] in wrangler.toml (commit both: they hold no secret)`);
  }
  const dashboardDir = join(workDir, "dashboard");
  await prepareDashboardDir(root, dashboardDir, dashboardConfig(dashboardToml, env, file));
  const dashboardConfigPath = join(dashboardDir, "wrangler.toml");

  // 4. D1 migrations (wrangler records each in d1_migrations and skips it next time).
  phase(4, "D1 migrations");
  await wrangler(["d1", "migrations", "apply", names.d1.binding, "--remote", "--env", env, "-c", workerConfigPath]);

  // 5. ClickHouse migrations (recorded in schema_migrations; a run cut short resumes at its statement).
  phase(5, "ClickHouse migrations");
  if (dryRun) {
    const files = (await readdir(join(root, "schemas", "sql", "clickhouse"))).filter((f) => /^\d+.*\.sql$/.test(f));
    log(`  would apply those of the ${files.length} migrations in schemas/sql/clickhouse not yet recorded in ${clickhouseUrl}`);
  } else {
    const applied = await migrateClickHouse({ url: clickhouseUrl, username: chUser, password: chPassword, database, log: (l) => log(`  ${l}`) });
    log(applied.length === 0 ? "  schema is up to date" : `  ${applied.length} migration(s) applied`);
  }
  const users = clickhouseUsers(vars);
  if (users === undefined) log("  ClickHouse users: not managed (set WORKER_CLICKHOUSE_USER/PASSWORD and DASHBOARD_CLICKHOUSE_USER/PASSWORD to have their grants kept current)");
  else if (dryRun) log(`  would set the grants of ${users.worker.name} and ${users.dashboard.name} (npm run clickhouse:users)`);
  else {
    await applyClickHouseUsers({ url: clickhouseUrl, username: chUser, password: chPassword }, await clickhouseUsersSql({ database, ...users }));
    log(`  users ${users.worker.name} and ${users.dashboard.name}: grants set for every table`);
  }

  // 6. Secrets: given ones win; missing ones are generated once.
  phase(6, "secrets");
  const workerHas = token ? await secretNames(wrangler, ["secret", "list", "--env", env, "-c", workerConfigPath], parseSecretList) : undefined;
  const dashboardHas = token ? await secretNames(wrangler, ["pages", "secret", "list", "--project-name", names.pagesProject], parsePagesSecretList) : undefined;
  const given = { ADMIN_TOKEN: vars.ADMIN_TOKEN, OAUTH_KEY_SECRET: vars.OAUTH_KEY_SECRET, SESSION_SECRET: vars.SESSION_SECRET, SETUP_TOKEN: vars.SETUP_TOKEN };
  const secrets = planSecrets(
    {
      clickhouseUser: chUser,
      clickhousePassword: chPassword,
      workerClickhouseUser: vars.WORKER_CLICKHOUSE_USER,
      workerClickhousePassword: vars.WORKER_CLICKHOUSE_PASSWORD,
      dashboardClickhouseUser: vars.DASHBOARD_CLICKHOUSE_USER,
      dashboardClickhousePassword: vars.DASHBOARD_CLICKHOUSE_PASSWORD,
      given: Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined && v !== "")),
      workerHas,
      dashboardHas,
    },
    () => randomHex(32),
    LOCAL_DEFAULTS,
  );
  log(`  Worker: ${Object.keys(secrets.worker).join(", ")}; dashboard: ${Object.keys(secrets.dashboard).join(", ")}`);
  const workerSecrets = join(workDir, "worker-secrets.json");
  const dashboardSecrets = join(workDir, "dashboard-secrets.json");
  try {
    if (!dryRun) {
      await writeSecretFile(workerSecrets, secrets.worker);
      await writeSecretFile(dashboardSecrets, secrets.dashboard);
    }

    // 7. The Worker, its secrets in the same upload, so it never runs without them.
    phase(7, "Worker");
    const outdir = join(workDir, "worker");
    if (dryRun) {
      log(`  would run: wrangler deploy --env ${env} --secrets-file <${Object.keys(secrets.worker).length} secrets>`);
      const out = await wrangler(["deploy", "--dry-run", "--env", env, "-c", workerConfigPath, "--outdir", outdir], { readOnly: true });
      for (const line of out.stdout.trim().split("\n")) log(`    ${line}`);
      log(`  wrangler's own dry run bundled the Worker into ${outdir}`);
    } else {
      const out = await wrangler(["deploy", "--env", env, "-c", workerConfigPath, "--secrets-file", workerSecrets]);
      const url = deployedUrl(out.stdout);
      if (url !== undefined && url !== file.workerUrl) {
        file.workerUrl = url;
        await writeFile(filePath, formatEnvironmentFile(file));
      }
    }

    // 8. The dashboard: secrets first (a Pages deployment reads them when it is made), then the build.
    phase(8, "dashboard");
    await wrangler(["pages", "secret", "bulk", dryRun ? "<secrets file>" : dashboardSecrets, "--project-name", names.pagesProject]);
    if (dryRun) log("  would run: npm run build:dashboard");
    else await runNpm(root, ["run", "build:dashboard"], log);
    await wrangler(["pages", "deploy", join(root, "dashboard", "build", "client"), "--project-name", names.pagesProject, "--branch", "main", "--commit-dirty=true"], { cwd: dashboardDir });
    if (secrets.generated.length > 0 && !dryRun) {
      log("  generated secrets (shown once; keep them in your password manager):");
      for (const name of secrets.generated) log(`    ${name}=${secrets.worker[name] ?? secrets.dashboard[name] ?? ""}`);
    }

    if (!dryRun) await waitForReady(file.workerUrl, opts.readyTimeoutMs ?? 120_000, log);
    log(dryRun ? `Dry run of ${env} done: nothing was changed.` : `Deployed ${env}: Worker ${file.workerUrl ?? names.worker}, dashboard ${file.dashboardUrl}`);
    return { steps, workerConfigPath, dashboardConfigPath, outdir };
  } finally {
    await rm(workerSecrets, { force: true });
    await rm(dashboardSecrets, { force: true });
  }
}

/** Names of the secrets set, or none when the Worker or project does not exist yet. */
async function secretNames(wrangler: Wrangler, args: string[], parse: (stdout: string) => string[]): Promise<string[]> {
  const out = await wrangler(args, { readOnly: true, allowFailure: true });
  if (out.code !== 0) return [];
  return parse(out.stdout);
}

async function writeSecretFile(path: string, values: Record<string, string>): Promise<void> {
  await writeFile(path, JSON.stringify(values), { mode: 0o600 });
  await chmod(path, 0o600);
}

/** A copy of a generated config that works from another folder: its paths made absolute. */
function relocated(toml: string, root: string): string {
  const config = parse(toml);
  const fix = (t: TomlTable): void => {
    if (typeof t.main === "string" && !isAbsolute(t.main)) t.main = resolve(root, t.main);
    if (Array.isArray(t.d1_databases)) {
      for (const d of t.d1_databases) if (isRecord(d) && typeof d.migrations_dir === "string" && !isAbsolute(d.migrations_dir)) d.migrations_dir = resolve(root, d.migrations_dir);
    }
  };
  fix(config);
  if (isRecord(config.env)) for (const e of Object.values(config.env)) if (isRecord(e)) fix(e as TomlTable);
  return stringify(config);
}

/** The folder `wrangler pages deploy` runs in: the generated config beside the dashboard's Functions. */
async function prepareDashboardDir(root: string, dir: string, toml: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "wrangler.toml"), toml);
  const link = join(dir, "functions");
  await rm(link, { force: true, recursive: true });
  await symlink(join(root, "dashboard", "functions"), link, "dir");
}

async function runNpm(root: string, args: string[], log: (line: string) => void): Promise<void> {
  log(`  $ npm ${args.join(" ")}`);
  await new Promise<void>((done, fail) => {
    const child = spawn("npm", args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? done() : fail(new Error(`npm ${args.join(" ")} failed (exit ${code ?? "signal"})`))));
  });
}

/** Polls /ready until it answers 200: the Worker reaches ClickHouse and D1 with its secrets. */
async function waitForReady(workerUrl: string | undefined, timeoutMs: number, log: (line: string) => void): Promise<void> {
  if (workerUrl === undefined) {
    log("  /ready not checked: wrangler printed no workers.dev URL (set workerUrl in the environment's file to check a route)");
    return;
  }
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const res = await fetch(`${workerUrl}/ready`);
      last = `${res.status} ${(await res.text()).slice(0, 500)}`;
      if (res.ok) {
        log(`  ${workerUrl}/ready: ${last}`);
        return;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${workerUrl}/ready did not answer 200: ${last}`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

/** `KEY=value` lines (a .env file): a place for the inputs other than the process environment. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const v = m[2];
    out[m[1]] = /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
  }
  return out;
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const secretsFile = argValue(args, "--secrets-file");
  const deployDir = argValue(args, "--deploy-dir");
  (secretsFile === undefined ? Promise.resolve({}) : readFile(secretsFile, "utf8").then(parseEnvFile))
    .then((fromFile) =>
      deploy({
        root,
        env: argValue(args, "--env") ?? "production",
        dryRun: args.includes("--dry-run"),
        ...(deployDir === undefined ? {} : { deployDir: resolve(deployDir) }),
        // The process environment wins over the file, as wrangler's own --env-file does.
        vars: { ...fromFile, ...process.env },
        log: (line) => console.log(line),
      }),
    )
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    });
}
