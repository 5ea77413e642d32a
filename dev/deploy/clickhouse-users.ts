// `npm run clickhouse:users -- --print | --apply`: the ClickHouse users a deployment runs as, with
// exactly the grants the code needs (docs/decisions/0028-clickhouse-cloud.md). Run it as an
// administrator (CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE), after
// the migrations; the users' passwords come from WORKER_CLICKHOUSE_PASSWORD and
// DASHBOARD_CLICKHOUSE_PASSWORD, or are generated and printed once.
import { readdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "@clickhouse/client-web";
import { randomHex } from "../../workers/apps/keys";
import { sha256Hex } from "../../workers/lib/hash";
import { SCRATCH_TABLE_PREFIXES } from "../../workers/lib/scratch";
import { splitStatements } from "../migrate-clickhouse";

export const WORKER_USER = "telemetry_worker";
export const DASHBOARD_USER = "telemetry_dashboard";
export const DASHBOARD_PROFILE = "telemetry_dashboard_readonly";


/** Tables only the pipeline reads: batch ids and message ids, never shown on a page. */
const PIPELINE_ONLY = new Set(["ingest_batches", "event_ids"]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A user as ClickHouse stores it: the SHA-256 of password + salt, so the SQL never holds the password. */
export interface HashedUser {
  name: string;
  sha256: string;
  salt: string;
}

export async function hashedUser(name: string, password: string, salt = randomHex(16)): Promise<HashedUser> {
  return { name, sha256: await sha256Hex(password + salt), salt };
}

function identifier(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a plain ClickHouse name: ${JSON.stringify(name)}`);
  return name;
}

function hex(value: string): string {
  if (!/^[0-9a-f]+$/.test(value)) throw new Error("a password hash and its salt are lowercase hex");
  return value;
}

function userStatements(u: HashedUser, profile: string): string[] {
  const auth = `IDENTIFIED WITH sha256_hash BY '${hex(u.sha256)}' SALT '${hex(u.salt)}' SETTINGS PROFILE '${identifier(profile)}'`;
  // CREATE … IF NOT EXISTS leaves an existing user as it is; the ALTER then gives it this
  // password and profile, so a second run with the same passwords changes nothing.
  return [`CREATE USER IF NOT EXISTS ${identifier(u.name)} ${auth}`, `ALTER USER ${identifier(u.name)} ${auth}`];
}

/**
 * The SQL that creates (or brings up to date) both users in `database`:
 * - the Worker's: it inserts (the sink, a lake replay), reads (the "already stored" checks, alert
 *   rules, the lake and exports, the purge's list of tables) and deletes rows (retention, a
 *   person's or an app's deletion) in every table of the database, and creates and drops its
 *   scratch tables; it changes no schema and no user.
 * - the dashboard's: SELECT on `dashboardTables` under a profile with `readonly = 1`, so it can
 *   neither write nor change a setting; a read whose page was closed is cancelled.
 * Each first GRANT replaces whatever the user held before (WITH REPLACE OPTION).
 */
export function usersSql(input: { database: string; worker: HashedUser; dashboard: HashedUser; dashboardTables: readonly string[] }): string[] {
  const db = identifier(input.database);
  const worker = identifier(input.worker.name);
  const dashboard = identifier(input.dashboard.name);
  if (input.dashboardTables.length === 0) throw new Error("no tables for the dashboard to read");
  return [
    `CREATE SETTINGS PROFILE OR REPLACE ${DASHBOARD_PROFILE} SETTINGS readonly = 1, cancel_http_readonly_queries_on_client_close = 1`,
    ...userStatements(input.worker, "default"),
    `GRANT SELECT, INSERT, ALTER DELETE ON ${db}.* TO ${worker} WITH REPLACE OPTION`,
    ...SCRATCH_TABLE_PREFIXES.map((prefix) => `GRANT CREATE TABLE, DROP TABLE ON ${db}.${prefix}* TO ${worker}`),
    `GRANT TABLE ENGINE ON MergeTree TO ${worker}`,
    ...userStatements(input.dashboard, DASHBOARD_PROFILE),
    `GRANT SELECT ON ${db}.${identifier(input.dashboardTables[0] ?? "")} TO ${dashboard} WITH REPLACE OPTION`,
    ...input.dashboardTables.slice(1).map((t) => `GRANT SELECT ON ${db}.${identifier(t)} TO ${dashboard}`),
  ];
}

const MIGRATIONS = resolve(import.meta.dirname, "../../schemas/sql/clickhouse");

/** The tables the migrations create, in order, without those only the pipeline reads. */
export async function dashboardTables(dir = MIGRATIONS): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+.*\.sql$/.test(f)).sort();
  const tables: string[] = [];
  for (const f of files) {
    for (const statement of splitStatements(await readFile(resolve(dir, f), "utf8"))) {
      const name = /^CREATE TABLE IF NOT EXISTS ([A-Za-z_][A-Za-z0-9_]*)/i.exec(statement)?.[1];
      if (name !== undefined && !PIPELINE_ONLY.has(name) && !tables.includes(name)) tables.push(name);
    }
  }
  return tables;
}

/** Both users' SQL for `database`, their passwords hashed with a fresh salt each. */
export async function clickhouseUsersSql(opts: { database: string; worker: { name: string; password: string }; dashboard: { name: string; password: string } }): Promise<string[]> {
  return usersSql({
    database: opts.database,
    worker: await hashedUser(opts.worker.name, opts.worker.password),
    dashboard: await hashedUser(opts.dashboard.name, opts.dashboard.password),
    dashboardTables: await dashboardTables(),
  });
}

/** Runs `sql` as an administrator of the service at `url`. */
export async function applyClickHouseUsers(target: { url: string; username: string; password: string }, sql: readonly string[]): Promise<void> {
  const client = createClient({ url: target.url, username: target.username, password: target.password });
  try {
    for (const query of sql) await client.command({ query });
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { print: { type: "boolean" }, apply: { type: "boolean" } } });
  if (values.print === values.apply) throw new Error("say --print (the SQL, with password hashes only) or --apply (run it as CLICKHOUSE_USER)");
  const env = process.env;
  const generated: string[] = [];
  const password = (variable: string): string => {
    const given = env[variable];
    if (given) return given;
    const made = randomHex(24);
    generated.push(`${variable}=${made}`);
    return made;
  };
  const database = env.CLICKHOUSE_DATABASE || "default";
  const worker = { name: env.WORKER_CLICKHOUSE_USER || WORKER_USER, password: password("WORKER_CLICKHOUSE_PASSWORD") };
  const dashboard = { name: env.DASHBOARD_CLICKHOUSE_USER || DASHBOARD_USER, password: password("DASHBOARD_CLICKHOUSE_PASSWORD") };
  const sql = await clickhouseUsersSql({ database, worker, dashboard });
  if (values.print) console.log(sql.map((s) => `${s};`).join("\n"));
  else {
    const url = env.CLICKHOUSE_URL;
    if (!url) throw new Error("CLICKHOUSE_URL is not set (the service to create the users in)");
    await applyClickHouseUsers({ url, username: env.CLICKHOUSE_USER || "default", password: env.CLICKHOUSE_PASSWORD ?? "" }, sql);
    console.log(`clickhouse: users ${worker.name} and ${dashboard.name} are set in ${url} (database ${database})`);
  }
  if (generated.length > 0) {
    console.error("Generated passwords (shown once; the users have them once this SQL is applied):");
    for (const line of generated) console.error(`  ${line}`);
  }
  console.error(`Deploy with WORKER_CLICKHOUSE_USER=${worker.name}, DASHBOARD_CLICKHOUSE_USER=${dashboard.name} and their passwords (README.md, ClickHouse Cloud).`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
