// Applies schemas/sql/clickhouse/NNNN_*.sql in order, once each, to the local server or to
// ClickHouse Cloud alike (it only speaks HTTP through @clickhouse/client-web).
//   node --import tsx dev/migrate-clickhouse.ts    (CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE;
//   without CLICKHOUSE_URL, the local server of `npm start` with its stored password)
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@clickhouse/client-web";
import { READ_OWN_WRITES } from "../workers/lib/clickhouse";
import { skipQuoted } from "./clickhouse/sql";
import { clickhouseTarget } from "./clickhouse/target";

export interface MigrateOptions {
  url: string;
  username?: string;
  password?: string;
  database?: string;
  /** Default: schemas/sql/clickhouse in this repository. */
  dir?: string;
  log?: (line: string) => void;
}

const DEFAULT_DIR = resolve(import.meta.dirname, "../schemas/sql/clickhouse");

/** Applies every migration not yet recorded; returns the names applied by this call. */
export async function migrateClickHouse(opts: MigrateOptions): Promise<string[]> {
  const dir = opts.dir ?? DEFAULT_DIR;
  const log = opts.log ?? (() => undefined);
  const files = (await readdir(dir)).filter((f) => /^\d+.*\.sql$/.test(f)).sort(byNumberThenName);
  const client = createClient({
    url: opts.url,
    username: opts.username,
    password: opts.password,
    database: opts.database,
  });
  try {
    await client.command({
      query: "CREATE TABLE IF NOT EXISTS schema_migrations (name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY name",
    });
    // Each statement of a migration not yet finished, by its text's sha256: a run cut short
    // resumes after the last statement that went through instead of repeating a backfill
    // (INSERT … SELECT into a summing rollup would count twice).
    await client.command({
      query: "CREATE TABLE IF NOT EXISTS schema_migration_statements (name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY name",
    });
    // A run that resumes right after a cut-short one must see what that run recorded, whichever
    // replica answers (ClickHouse Cloud); a server that is not replicated ignores the setting.
    const rs = await client.query({ query: "SELECT name, checksum FROM schema_migrations", format: "JSONEachRow", clickhouse_settings: READ_OWN_WRITES });
    const recorded = new Map((await rs.json<{ name: string; checksum: string }>()).map((r) => [r.name, r.checksum]));

    const pending: Array<{ name: string; sql: string; checksum: string }> = [];
    for (const name of files) {
      const sql = await readFile(resolve(dir, name), "utf8");
      const checksum = sha256(sql);
      const applied = recorded.get(name);
      if (applied === undefined) pending.push({ name, sql, checksum });
      else if (applied !== checksum) {
        // Editing an applied migration would leave databases that ran the old text silently different.
        throw new Error(
          `ClickHouse migration ${name} was changed after it was applied (recorded sha256 ${applied}, file ${checksum}). ` +
            "Restore the file and put the change in a new numbered migration.",
        );
      }
    }
    for (const name of recorded.keys()) if (!files.includes(name)) log(`clickhouse: applied migration ${name} has no file in ${dir}`);

    const done: string[] = [];
    for (const m of pending) {
      const statements = splitStatements(m.sql);
      const rs = await client.query({ query: "SELECT checksum FROM schema_migration_statements WHERE name = {name:String}", query_params: { name: m.name }, format: "JSONEachRow", clickhouse_settings: READ_OWN_WRITES });
      const ran = new Set((await rs.json<{ checksum: string }>()).map((r) => r.checksum));
      for (const [i, statement] of statements.entries()) {
        const checksum = sha256(statement);
        if (ran.has(checksum)) {
          log(`clickhouse: ${m.name} statement ${i + 1} ran in an earlier run, skipped`);
          continue;
        }
        try {
          await client.command({ query: statement });
          await client.insert({ table: "schema_migration_statements", values: [{ name: m.name, checksum, applied_at: Math.floor(Date.now() / 1000) }], format: "JSONEachRow" });
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          throw new Error(`ClickHouse migration ${m.name} failed at statement ${i + 1} of ${statements.length}: ${reason}`, { cause: err });
        }
      }
      await client.insert({
        table: "schema_migrations",
        values: [{ name: m.name, checksum: m.checksum, applied_at: Math.floor(Date.now() / 1000) }],
        format: "JSONEachRow",
      });
      log(`clickhouse: applied ${m.name} (${statements.length} statement${statements.length === 1 ? "" : "s"})`);
      done.push(m.name);
    }
    return done;
  } finally {
    await client.close();
  }
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

function byNumberThenName(a: string, b: string): number {
  const na = Number(/^\d+/.exec(a)?.[0] ?? 0);
  const nb = Number(/^\d+/.exec(b)?.[0] ?? 0);
  return na - nb || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Statements end with `;` at the end of a line. `--` comments are dropped; quotes (strings,
 * quoted identifiers) are copied whole, so a `;` or `--` inside them is just text.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = "";
  let i = 0;
  const flush = (): void => {
    const s = current.trim();
    if (s !== "") out.push(s);
    current = "";
  };
  while (i < sql.length) {
    const c = sql.charAt(i);
    if (c === "-" && sql.charAt(i + 1) === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? sql.length : eol;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") {
      const end = skipQuoted(sql, i, c);
      current += sql.slice(i, end);
      i = end;
      continue;
    }
    if (c === ";" && restOfLineIsBlank(sql, i + 1)) {
      flush();
      i++;
      continue;
    }
    current += c;
    i++;
  }
  flush();
  return out;
}

function restOfLineIsBlank(sql: string, from: number): boolean {
  const eol = sql.indexOf("\n", from);
  const rest = sql.slice(from, eol < 0 ? sql.length : eol);
  return /^\s*(--.*)?$/.test(rest);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  clickhouseTarget(resolve(import.meta.dirname, ".."))
    .then((target) => migrateClickHouse({ ...target, database: process.env.CLICKHOUSE_DATABASE, log: (line) => console.log(line) }))
    .then(
      (applied) => console.log(applied.length === 0 ? "clickhouse: schema is up to date" : `clickhouse: ${applied.length} migration(s) applied`),
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exitCode = 1;
      },
    );
}
