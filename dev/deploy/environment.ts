// A deployed environment (staging, production, …): the names of its Cloudflare resources, derived
// from the top-level wrangler.toml, and what is only known once they exist (ids, URLs), kept in
// deploy/<env>.json. The `[env.<env>]` sections of the wrangler configs are generated from those
// two, so a later hand-run `wrangler deploy --env <env>` deploys exactly what `npm run deploy` did.
// Pure: no file or process access here.
import { parse, stringify, type TomlTable } from "smol-toml";
import { isRecord } from "../../workers/lib/json";
import { isLoopbackUrl } from "../../schemas/config";

/** deploy/<env>.json: the values of one environment that are not derived from a name. */
export interface EnvironmentFile {
  /** Absent until the first `npm run deploy` of the environment records CLICKHOUSE_URL. */
  clickhouse?: { url: string; database: string };
  /** The D1 database's id, once created or found. */
  d1DatabaseId?: string;
  /** Where the dashboard answers, e.g. https://edge-telemetry-dashboard-staging.pages.dev. */
  dashboardUrl?: string;
  /** Where the Worker answers, as `wrangler deploy` printed it. */
  workerUrl?: string;
}

export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Reads a deploy/<env>.json, naming what is wrong. */
export function parseEnvironmentFile(text: string, path: string): EnvironmentFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(raw)) throw new Error(`${path} must hold a JSON object`);
  const ch = raw.clickhouse;
  if (ch !== undefined && (!isRecord(ch) || typeof ch.url !== "string")) throw new Error(`${path}: clickhouse must be {"url": "https://…", "database": "…"}`);
  const optional = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new Error(`${path}: ${key} must be a string`);
    return v;
  };
  const file: EnvironmentFile = {};
  if (isRecord(ch) && typeof ch.url === "string") file.clickhouse = { url: ch.url, database: typeof ch.database === "string" && ch.database !== "" ? ch.database : "default" };
  const id = optional("d1DatabaseId");
  if (id !== undefined) file.d1DatabaseId = id;
  const dashboardUrl = optional("dashboardUrl");
  if (dashboardUrl !== undefined) file.dashboardUrl = dashboardUrl;
  const workerUrl = optional("workerUrl");
  if (workerUrl !== undefined) file.workerUrl = workerUrl;
  return file;
}

export const formatEnvironmentFile = (file: EnvironmentFile): string => `${JSON.stringify(file, null, 2)}\n`;

/** A ClickHouse URL a deployed Worker can reach, or the reason it cannot. */
export function clickhouseUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `CLICKHOUSE_URL ${JSON.stringify(url)} is not a URL`;
  }
  if (isLoopbackUrl(url)) return `CLICKHOUSE_URL ${url} is on loopback, where no ClickHouse runs once deployed`;
  // Credentials travel in each request's headers: plain http would send them in the clear.
  if (parsed.protocol !== "https:") return `CLICKHOUSE_URL ${url} must use https`;
  return undefined;
}

export interface Bucket {
  binding: string;
  name: string;
  jurisdiction?: string;
}

/** What exists per environment on Cloudflare, by name. */
export interface ResourceNames {
  env: string;
  worker: string;
  d1: { binding: string; name: string };
  queues: string[];
  buckets: Bucket[];
  pagesProject: string;
}

/** A top-level name made an environment's: `telemetry-events` → `telemetry-events-staging`. */
export const envName = (base: string, env: string): string => `${base}-${env}`;

const str = (v: unknown, what: string): string => {
  if (typeof v !== "string" || v === "") throw new Error(`wrangler config: ${what} must be a non-empty string`);
  return v;
};
const tables = (v: unknown): TomlTable[] => (Array.isArray(v) ? v.filter((t): t is TomlTable => isRecord(t)) : []);

/** Every queue the top-level config names (producers, consumers, their dead-letter queues), once each, in order. */
function topLevelQueues(top: TomlTable): string[] {
  const queues = isRecord(top.queues) ? top.queues : {};
  const names: string[] = [];
  const add = (n: unknown): void => {
    if (typeof n === "string" && n !== "" && !names.includes(n)) names.push(n);
  };
  for (const p of tables(queues.producers)) add(p.queue);
  for (const c of tables(queues.consumers)) {
    add(c.queue);
    add(c.dead_letter_queue);
  }
  return names;
}

/** The environment's resource names from the top-level Worker and dashboard configs. */
export function resourceNames(env: string, workerToml: string, dashboardToml: string): ResourceNames {
  if (!ENVIRONMENT_NAME.test(env) || env === "development") throw new Error(`environment ${JSON.stringify(env)}: use lowercase letters, digits and dashes, not "development" (that is npm start's)`);
  const top = parse(workerToml);
  const dash = parse(dashboardToml);
  const d1 = tables(top.d1_databases)[0];
  if (d1 === undefined) throw new Error("wrangler.toml has no [[d1_databases]]");
  return {
    env,
    worker: envName(str(top.name, "name"), env),
    d1: { binding: str(d1.binding, "d1 binding"), name: envName(str(d1.database_name, "database_name"), env) },
    queues: topLevelQueues(top).map((q) => envName(q, env)),
    buckets: tables(top.r2_buckets).map((b) => {
      const bucket: Bucket = { binding: str(b.binding, "r2 binding"), name: envName(str(b.bucket_name, "bucket_name"), env) };
      if (typeof b.jurisdiction === "string") bucket.jurisdiction = b.jurisdiction;
      return bucket;
    }),
    pagesProject: envName(str(dash.name, "dashboard name"), env),
  };
}

// Keys an [env.*] section inherits from the top level; every other top-level key is restated.
const INHERITED = new Set(["name", "main", "compatibility_date", "compatibility_flags", "account_id", "workers_dev", "routes", "route", "minify", "keep_names", "env", "pages_build_output_dir"]);

/** The top-level key values an environment's section repeats, with its names and ids in place of the top-level ones. */
function environmentSection(top: TomlTable, env: string, vars: Record<string, string>, d1Id: string | undefined): TomlTable {
  const section: TomlTable = { name: envName(str(top.name, "name"), env) };
  for (const [key, value] of Object.entries(top)) {
    if (INHERITED.has(key)) continue;
    section[key] = structuredClone(value);
  }
  section.vars = { ...(isRecord(top.vars) ? top.vars : {}), ...vars };
  const queues = section.queues;
  if (isRecord(queues)) {
    for (const p of tables(queues.producers)) p.queue = envName(str(p.queue, "producer queue"), env);
    for (const c of tables(queues.consumers)) {
      c.queue = envName(str(c.queue, "consumer queue"), env);
      if (typeof c.dead_letter_queue === "string") c.dead_letter_queue = envName(c.dead_letter_queue, env);
    }
  }
  for (const d of tables(section.d1_databases)) {
    d.database_name = envName(str(d.database_name, "database_name"), env);
    if (d1Id === undefined) delete d.database_id;
    else d.database_id = d1Id;
  }
  for (const b of tables(section.r2_buckets)) b.bucket_name = envName(str(b.bucket_name, "bucket_name"), env);
  for (const s of tables(section.services)) s.service = envName(str(s.service, "service"), env);
  // A dataset name is a table name in the SQL API, so underscores; staging's counters never mix with production's.
  for (const a of tables(section.analytics_engine_datasets)) a.dataset = `${str(a.dataset, "analytics engine dataset")}_${env.replace(/-/g, "_")}`;
  return section;
}

const BEGIN = (env: string) => `# --- [env.${env}]: generated by \`npm run deploy -- --env ${env}\` from the top level and deploy/${env}.json; edit those, not this section ---`;
const END = (env: string) => `# --- end of [env.${env}] ---`;

/** `toml` with the environment's generated section replaced (or appended), leaving every other line as it was. */
export function withSection(toml: string, env: string, section: TomlTable): string {
  const body = stringify({ env: { [env]: section } }).trim();
  const block = `${BEGIN(env)}\n${body}\n${END(env)}\n`;
  const start = toml.indexOf(BEGIN(env));
  if (start < 0) return `${toml.replace(/\n*$/, "\n")}\n${block}`;
  const endMark = toml.indexOf(END(env), start);
  if (endMark < 0) throw new Error(`the generated [env.${env}] section has no end line (${END(env)})`);
  const end = toml.indexOf("\n", endMark);
  return toml.slice(0, start) + block + (end < 0 ? "" : toml.slice(end + 1));
}

/** Drops every generated section: what the top-level tables are, without environments. */
function topLevelOnly(toml: string): TomlTable {
  const top = parse(toml);
  delete top.env;
  return top;
}

/** wrangler.toml with `[env.<env>]` for the edge Worker. */
export function workerConfig(workerToml: string, env: string, file: EnvironmentFile): string {
  const vars = environmentVars(env, file);
  if (file.dashboardUrl !== undefined) vars.DASHBOARD_URL = file.dashboardUrl;
  return withSection(workerToml, env, environmentSection(topLevelOnly(workerToml), env, vars, file.d1DatabaseId));
}

// Without a recorded CLICKHOUSE_URL the section has none: a deployed Worker or dashboard refuses to run without it.
function environmentVars(env: string, file: EnvironmentFile): Record<string, string> {
  const vars: Record<string, string> = { ENVIRONMENT: env };
  if (file.clickhouse !== undefined) Object.assign(vars, { CLICKHOUSE_URL: file.clickhouse.url, CLICKHOUSE_DATABASE: file.clickhouse.database });
  return vars;
}

/**
 * The dashboard's Pages config for one environment. Pages knows only `production` and `preview`
 * inside a project, so each environment's dashboard is its own project, configured at the top
 * level of a generated file: the repository's top level with the environment's names and ids.
 */
export function dashboardConfig(dashboardToml: string, env: string, file: EnvironmentFile): string {
  const top = topLevelOnly(dashboardToml);
  const section = environmentSection(top, env, environmentVars(env, file), file.d1DatabaseId);
  for (const d of tables(section.d1_databases)) delete d.migrations_dir;
  const generated: TomlTable = { name: str(section.name, "name"), pages_build_output_dir: top.pages_build_output_dir ?? "./build/client", compatibility_date: top.compatibility_date ?? "", ...section };
  if (Array.isArray(top.compatibility_flags)) generated.compatibility_flags = top.compatibility_flags;
  return `# Generated by \`npm run deploy -- --env ${env}\` from dashboard/wrangler.toml and deploy/${env}.json.\n${stringify(generated)}\n`;
}
