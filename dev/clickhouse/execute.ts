// Turns one HTTP request (query text, data, parameters, settings) into chDB calls, following
// the rules of ClickHouse's HTTP interface.
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RawInsertFormat, Session } from "chdb";
import { ClickHouseHttpError } from "./errors";
import { bindParams } from "./params";
import { PoisonedSession, type SessionPool } from "./pool";
import type { RequestParams } from "./request";
import { analyze, checkSettingName, formatSettings, parseInsert, quoteString, refuseOutsideAccess, tokens, type InsertStatement } from "./sql";

export interface Outcome {
  body: Uint8Array;
  format: string;
  readRows: number;
  readBytes: number;
  writtenRows: number;
  writtenBytes: number;
  elapsedSeconds: number;
}

// Formats chDB's raw insert takes as bytes, parsed by the engine's parallel parser.
const RAW_INSERT_FORMATS = new Set<string>([
  "JSONEachRow",
  "JSONCompactEachRow",
  "CSV",
  "CSVWithNames",
  "TSV",
  "TabSeparated",
  "TSVWithNames",
  "TabSeparatedWithNames",
]);

function isRawInsertFormat(format: string): format is RawInsertFormat {
  return RAW_INSERT_FORMATS.has(format);
}

// Binary formats chDB's raw insert refuses and SQL text cannot carry: the engine reads them from a
// file of the server's own, so `INSERT … FORMAT Parquet` behaves here as on ClickHouse (columns
// matched by name, the same dedup token rules).
const FILE_INSERT_FORMATS = new Set<string>(["Parquet"]);

const DEFAULT_FORMAT = "TabSeparated";

function empty(format: string): Outcome {
  return { body: new Uint8Array(0), format, readRows: 0, readBytes: 0, writtenRows: 0, writtenBytes: 0, elapsedSeconds: 0 };
}

function readonly(userIsReadonly: boolean): ClickHouseHttpError {
  if (userIsReadonly) return new ClickHouseHttpError(164, "Cannot execute query in readonly mode", "READONLY");
  return new ClickHouseHttpError(164, "Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries", "READONLY");
}

// Statements GET may not run (ClickHouse makes GET requests readonly); anything else goes to
// the engine, which gives unknown or malformed statements their proper syntax error.
const WRITES = new Set(
  "CREATE ALTER DROP TRUNCATE RENAME OPTIMIZE DELETE UPDATE ATTACH DETACH EXCHANGE UNDROP GRANT REVOKE SYSTEM KILL BACKUP RESTORE MOVE".split(" "),
);

export interface ExecuteRequest {
  method: string;
  params: RequestParams;
  body: Buffer;
  /**
   * The user has readonly = 1, and `pool` holds Sessions with that setting, so the engine
   * itself refuses what ClickHouse refuses such a user: writes, DDL and changed settings.
   */
  readonlyUser?: boolean;
}

/** Runs the request's statement on a pooled Session; the result is buffered whole. */
export async function execute(pool: SessionPool, req: ExecuteRequest): Promise<Outcome> {
  const { params, body } = req;
  const format = params.defaultFormat ?? DEFAULT_FORMAT;
  const work = plan(req, format);
  const database = params.database;
  if (database === undefined || database === "" || database === "default") return pool.use(work);
  return pool.use(async (session) => {
    await session.queryAsync(`USE ${quoteIdentifier(database)}`);
    try {
      return await work(session);
    } finally {
      await session.queryAsync("USE default").catch((err: unknown) => {
        throw new PoisonedSession(err);
      });
    }
  });

  // Decided before a Session is taken, so bad requests never wait for one.
  function plan({ method, params: p, readonlyUser = false }: ExecuteRequest, fmt: string): (session: Session) => Promise<Outcome> {
    const refuseWrites = (): void => {
      if (readonlyUser || method === "GET") throw readonly(readonlyUser);
    };
    // The usual client INSERT: statement in the URL, rows in the body, which stays bytes.
    if (p.query !== undefined) {
      const ins = parseInsert(p.query);
      const format = ins?.format;
      if (ins !== undefined && format !== undefined && ins.restStart >= p.query.trimEnd().length) {
        refuseWrites();
        refuseOutsideAccess(p.query);
        return (s) => insertData(s, ins, format, body, p);
      }
    }
    // ClickHouse reads the statement from the `query` parameter, a line break, then the body.
    const text = p.query === undefined ? body.toString("utf8") : body.length > 0 ? `${p.query}\n${body.toString("utf8")}` : p.query;
    const stmt = analyze(text);
    if (stmt.kind === "empty") throw new ClickHouseHttpError(62, "Empty query", "SYNTAX_ERROR");
    if (stmt.kind === "insert") {
      refuseWrites();
      const ins = parseInsert(text);
      const format = ins?.format;
      if (ins !== undefined && format !== undefined) {
        // Only the statement: the rows after FORMAT are data, never SQL.
        refuseOutsideAccess(text.slice(0, ins.restStart));
        return (s) => insertData(s, ins, format, Buffer.from(text.slice(ins.restStart), "utf8"), p);
      }
      if (ins !== undefined) {
        const settings = insertSettingsClause(p, ins);
        const sql = `INSERT INTO ${ins.target}${settings === "" ? "" : ` SETTINGS ${settings}`} ${text.slice(ins.restStart)}`;
        return runChecked(bindParams(sql, p.params), fmt);
      }
      return runChecked(bindParams(text, p.params), fmt);
    }
    if (stmt.kind === "read") {
      // The engine checks these against the user's constraints like any SETTINGS clause.
      const sql = bindParams(p.settings.length === 0 ? stmt.text : `${stmt.text}\nSETTINGS ${formatSettings(p.settings)}`, p.params);
      return runChecked(sql, stmt.format ?? fmt);
    }
    // A read-only user's URL settings are checked before the statement runs, as ClickHouse does.
    const checked =
      (work: (s: Session) => Promise<Outcome>) =>
      async (s: Session): Promise<Outcome> => {
        if (readonlyUser && p.settings.length > 0) await run(s, `SELECT 1 SETTINGS ${formatSettings(p.settings)}`, fmt);
        return work(s);
      };
    // Over HTTP without a session a SET or USE lasts for its own request only, i.e. does
    // nothing; here it would leak into whichever request borrows the Session next. A read-only
    // user's SET is still refused when it would change a setting, so it runs as a check.
    if (stmt.kind === "set" && readonlyUser) {
      const check = `SELECT 1 SETTINGS ${stmt.text.slice(afterFirstToken(stmt.text))}`;
      refuseOutsideAccess(check);
      return checked(async (s) => {
        await run(s, check, fmt);
        return empty(fmt);
      });
    }
    if (stmt.kind === "set" || stmt.kind === "use") return checked(() => Promise.resolve(empty(fmt)));
    if (method === "GET" && WRITES.has(stmt.head)) throw readonly(false);
    // DDL takes no per-request settings: a trailing SETTINGS on CREATE TABLE would become
    // table settings, and the client sends its query settings with every command.
    return checked(runChecked(bindParams(stmt.text, p.params), fmt));
  }
}

/** Runs `sql` as the engine gets it, once it is known to stay inside the server's own tables. */
function runChecked(sql: string, format: string): (session: Session) => Promise<Outcome> {
  refuseOutsideAccess(sql);
  return (s) => run(s, sql, format);
}

function afterFirstToken(sql: string): number {
  for (const t of tokens(sql)) return t.end;
  return sql.length;
}

async function run(session: Session, sql: string, format: string): Promise<Outcome> {
  const r = await session.queryAsync(sql, { format });
  return {
    body: r.bytes(),
    format,
    readRows: r.rowsRead,
    readBytes: r.bytesRead,
    writtenRows: 0,
    writtenBytes: 0,
    elapsedSeconds: r.elapsed,
  };
}

// The statement's own SETTINGS win over the URL's, as in ClickHouse: later ones in a clause override.
function insertSettingsClause(p: RequestParams, ins: InsertStatement): string {
  const url = p.settings.length > 0 ? formatSettings(p.settings) : "";
  return [url, ins.settingsText ?? ""].filter((s) => s !== "").join(", ");
}

async function insertData(session: Session, ins: InsertStatement, format: string, data: Buffer, p: RequestParams): Promise<Outcome> {
  const ownSettings = ins.settingsText === undefined ? {} : ins.settings;
  if (ins.plain && ownSettings && isRawInsertFormat(format)) {
    const settings: Record<string, string> = {};
    for (const [k, v] of [...p.settings, ...Object.entries(ownSettings)]) settings[checkSettingName(k)] = v;
    const r = await session.insert({
      table: ins.plain.table,
      values: data,
      format,
      settings,
      ...(ins.plain.columns ? { columns: ins.plain.columns } : {}),
    });
    return { ...empty(DEFAULT_FORMAT), writtenRows: r.rowsWritten, writtenBytes: r.bytesWritten, elapsedSeconds: r.elapsed };
  }
  if (data.length === 0) return empty(DEFAULT_FORMAT);
  if (FILE_INSERT_FORMATS.has(format)) return insertFromFile(session, ins, format, data, p);
  // Other formats and targets go through the SQL text, which has to be UTF-8.
  if (!isUtf8(data)) throw new ClickHouseHttpError(48, `Binary input format ${format} is not supported by the local server`, "NOT_IMPLEMENTED");
  const rows = data.toString("utf8");
  const settings = insertSettingsClause(p, ins);
  const sql = `INSERT INTO ${ins.target}${settings === "" ? "" : ` SETTINGS ${settings}`} FORMAT ${format}\n${rows}`;
  const r = await session.queryAsync(sql, { format: DEFAULT_FORMAT });
  return { ...empty(DEFAULT_FORMAT), elapsedSeconds: r.elapsed };
}

async function insertFromFile(session: Session, ins: InsertStatement, format: string, data: Buffer, p: RequestParams): Promise<Outcome> {
  const path = join(tmpdir(), `chdb-insert-${randomUUID()}.${format.toLowerCase()}`);
  await writeFile(path, data, { mode: 0o600 });
  try {
    const settings = insertSettingsClause(p, ins);
    const sql = `INSERT INTO ${ins.target}${settings === "" ? "" : ` SETTINGS ${settings}`} SELECT * FROM file(${quoteString(path)}, ${quoteString(format)})`;
    const r = await session.queryAsync(sql, { format: DEFAULT_FORMAT });
    return { ...empty(DEFAULT_FORMAT), writtenRows: r.rowsRead, writtenBytes: r.bytesRead, elapsedSeconds: r.elapsed };
  } finally {
    await rm(path, { force: true });
  }
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;
}
