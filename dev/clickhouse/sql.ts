// Just enough of ClickHouse's lexer to route an HTTP request: which kind of statement it is,
// its output format, where INSERT data begins, and where per-request settings can go. The
// engine parses everything for real; a mistake here must only ever cost a clear engine error.
import { ClickHouseHttpError } from "./errors";

export type TokenKind = "word" | "quoted" | "string" | "number" | "punct";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Parenthesis depth the token sits at, so clauses inside subqueries are not mistaken for the outer ones. */
  depth: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

/** Lazily yields tokens, skipping whitespace and comments, so INSERT data after FORMAT is never scanned. */
export function* tokens(sql: string): Generator<Token> {
  let i = 0;
  let depth = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charAt(i);
    const next = sql.charAt(i + 1);
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if ((c === "-" && next === "-") || (c === "#" && (next === " " || next === "!"))) {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (c === "/" && next === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    const start = i;
    let kind: TokenKind;
    if (c === "'" || c === '"' || c === "`") {
      i = skipQuoted(sql, i, c);
      kind = c === "'" ? "string" : "quoted";
    } else if (c === "$" && /^\$[A-Za-z0-9_]*\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$[A-Za-z0-9_]*\$/.exec(sql.slice(i, i + 64))?.[0] ?? "$$";
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? n : close + tag.length;
      kind = "string";
    } else if (DIGIT.test(c) || (c === "." && DIGIT.test(next))) {
      i++;
      while (i < n && (WORD_PART.test(sql.charAt(i)) || sql.charAt(i) === ".")) {
        const prev = sql.charAt(i - 1).toLowerCase();
        i++;
        if (prev === "e" && (sql.charAt(i - 1) === "+" || sql.charAt(i - 1) === "-")) i++;
      }
      kind = "number";
    } else if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql.charAt(i))) i++;
      kind = "word";
    } else {
      i++;
      kind = "punct";
    }
    if (c === ")") depth = Math.max(0, depth - 1);
    yield { kind, text: sql.slice(start, i), start, end: i, depth };
    if (c === "(") depth++;
  }
}

/** The index just past the quoted text that starts at `from` (a backslash or a doubled quote escapes). */
export function skipQuoted(sql: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql.charAt(i);
    if (c === "\\") i += 2;
    else if (c === quote && sql.charAt(i + 1) === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

const isWord = (t: Token | undefined, word: string): boolean => t?.kind === "word" && t.text.toUpperCase() === word;

export type StatementKind = "read" | "insert" | "set" | "use" | "other" | "empty";

export interface Statement {
  kind: StatementKind;
  /** The statement without trailing semicolons, so settings can be appended after it. */
  text: string;
  /** The first keyword, upper case. */
  head: string;
  /** The `FORMAT x` the statement ends with, if any. */
  format?: string;
}

const READ_KEYWORDS = new Set(["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"]);

/** Classifies a whole statement (not an INSERT with inline data: see {@link parseInsert}). */
export function analyze(sql: string): Statement {
  const list: Token[] = [];
  let endOfStatement = -1;
  for (const t of tokens(sql)) {
    if (list.length === 0 && isWord(t, "INSERT")) return { kind: "insert", text: sql, head: "INSERT" };
    if (t.kind === "punct" && t.text === ";" && t.depth === 0) {
      if (endOfStatement < 0) endOfStatement = t.start;
      continue;
    }
    // ClickHouse's HTTP interface refuses several statements in one request; chDB would run them all.
    if (endOfStatement >= 0) throw new ClickHouseHttpError(62, "Multi-statements are not allowed", "SYNTAX_ERROR");
    list.push(t);
  }
  const first = list[0];
  if (!first) return { kind: "empty", text: "", head: "" };
  const text = endOfStatement < 0 ? sql : sql.slice(0, endOfStatement);
  const head = first.text.toUpperCase();
  let kind: StatementKind = "other";
  if (first.text === "(" || (first.kind === "word" && READ_KEYWORDS.has(head))) kind = "read";
  else if (head === "SET") kind = "set";
  else if (head === "USE") kind = "use";
  const format = kind === "read" ? trailingFormat(list) : undefined;
  return format === undefined ? { kind, text, head } : { kind, text, head, format };
}

/** `FORMAT x` at the outer level followed only by the end or a SETTINGS clause. */
function trailingFormat(list: readonly Token[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i + 1 < list.length; i++) {
    const t = list[i];
    const name = list[i + 1];
    if (t === undefined || name === undefined || t.depth !== 0 || !isWord(t, "FORMAT") || name.kind !== "word") continue;
    const after = list[i + 2];
    if (after === undefined || isWord(after, "SETTINGS")) found = name.text;
  }
  return found;
}

export interface InsertStatement {
  /** Source text of the target: table name and optional column list. */
  target: string;
  /** Set when the target is plain enough for chDB's raw insert: `[db.]table [(col, ...)]`, unquoted. */
  plain?: { table: string; columns?: string[] };
  /** Raw `k = v, ...` text of the statement's own SETTINGS clause. */
  settingsText?: string;
  /** Those settings parsed, or undefined when they are not simple literals. */
  settings?: Record<string, string>;
  /** Input format when the statement ends in `FORMAT x` (data follows); undefined for VALUES / SELECT. */
  format?: string;
  /** Offset in the text where inline data begins (FORMAT) or where VALUES / SELECT begins. */
  restStart: number;
}

const PLAIN_IDENT = /^[A-Za-z0-9_]+$/;

/** Splits `INSERT INTO t [(cols)] [SETTINGS ...] {FORMAT x | VALUES ... | SELECT ...}`; undefined if not an INSERT. */
export function parseInsert(sql: string): InsertStatement | undefined {
  const it = tokens(sql);
  const take = (): Token | undefined => {
    const r = it.next();
    return r.done === true ? undefined : r.value;
  };
  if (!isWord(take(), "INSERT")) return undefined;
  let t = take();
  if (!isWord(t, "INTO")) return undefined;
  t = take();
  if (isWord(t, "TABLE")) t = take();
  if (t === undefined) return undefined;
  const targetStart = t.start;
  const nameParts: Token[] = [];
  const columns: Token[] = [];
  let inColumns = false;
  let targetEnd = t.start;
  let settingsStart = -1;
  let settingsEnd = -1;
  while (t !== undefined) {
    const upper = t.kind === "word" ? t.text.toUpperCase() : "";
    if (t.depth === 0 && (upper === "FORMAT" || upper === "VALUES" || upper === "SELECT" || upper === "WITH")) break;
    if (t.depth === 0 && upper === "SETTINGS" && !inColumns) {
      settingsStart = t.end;
    } else if (settingsStart >= 0) {
      settingsEnd = t.end;
    } else {
      if (t.text === "(" && t.depth === 0) inColumns = true;
      else if (t.text === ")" && t.depth === 0) inColumns = false;
      else if (inColumns) columns.push(t);
      else nameParts.push(t);
      targetEnd = t.end;
    }
    t = take();
  }
  if (t === undefined) return undefined;
  const stmt: InsertStatement = { target: sql.slice(targetStart, targetEnd), restStart: t.start };
  const plainName = nameParts.every((p, i) => (i % 2 === 0 ? p.kind === "word" && PLAIN_IDENT.test(p.text) : p.text === "."));
  const cols = plainColumns(columns);
  if (plainName && (nameParts.length === 1 || nameParts.length === 3) && !isWord(nameParts[0], "FUNCTION") && (cols || columns.length === 0)) {
    const table = nameParts.map((p) => p.text).join("");
    stmt.plain = cols ? { table, columns: cols } : { table };
  }
  if (settingsStart >= 0 && settingsEnd > settingsStart) {
    stmt.settingsText = sql.slice(settingsStart, settingsEnd).trim();
    const parsed = parseSettings(stmt.settingsText);
    if (parsed) stmt.settings = parsed;
  }
  if (isWord(t, "FORMAT")) {
    const fmt = take();
    if (fmt === undefined || fmt.kind !== "word") return undefined;
    stmt.format = fmt.text;
    stmt.restStart = dataStart(sql, fmt.end);
  }
  return stmt;
}

function plainColumns(list: readonly Token[]): string[] | undefined {
  if (list.length === 0) return undefined;
  const names: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (t === undefined) return undefined;
    if (i % 2 === 1) {
      if (t.text !== ",") return undefined;
    } else if (t.kind !== "word" || !PLAIN_IDENT.test(t.text)) return undefined;
    else names.push(t.text);
  }
  return list.length % 2 === 1 ? names : undefined;
}

/** `k = literal, ...` as a map, or undefined when anything is not that simple. */
function parseSettings(text: string): Record<string, string> | undefined {
  const list = [...tokens(text)];
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 4) {
    const [k, eq, v, comma] = [list[i], list[i + 1], list[i + 2], list[i + 3]];
    if (k?.kind !== "word" || eq?.text !== "=" || v === undefined) return undefined;
    if (comma !== undefined && comma.text !== ",") return undefined;
    if (v.kind === "string") out[k.text] = unquote(v.text);
    else if (v.kind === "number" || v.kind === "word") out[k.text] = v.text;
    else return undefined;
  }
  return out;
}

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, "$1");
}

// ClickHouse skips blanks and then one line break after the format name; the data starts there.
function dataStart(sql: string, from: number): number {
  let i = from;
  while (i < sql.length && (sql[i] === " " || sql[i] === "\t" || sql[i] === "\f")) i++;
  if (sql[i] === "\r") i++;
  if (sql[i] === "\n") i++;
  return i;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Setting names go into SQL text, so anything but a plain name is refused before it gets there. */
export function checkSettingName(name: string): string {
  if (!SETTING_NAME.test(name)) throw new ClickHouseHttpError(115, `Unknown setting '${name.slice(0, 100)}'`, "UNKNOWN_SETTING");
  return name;
}

/** `k = v, ...` for a SETTINGS clause: numbers bare, everything else a quoted literal. */
export function formatSettings(settings: ReadonlyArray<readonly [string, string]>): string {
  return settings
    .map(([k, v]) => {
      checkSettingName(k);
      const value = /^-?\d+(\.\d+)?$/.test(v) ? v : quoteString(v);
      return `${k} = ${value}`;
    })
    .join(", ");
}

/** A string literal for SQL text. */
export function quoteString(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

// What the local server never lets a query reach: table functions, table and database engines
// and dictionary sources that read or write files, fetch URLs, run programs or connect to other
// servers. Compared case-insensitively, which is stricter than ClickHouse.
const OUTSIDE = new Set(
  [
    "file", "fileCluster", "url", "urlCluster", "remote", "remoteSecure", "cluster", "clusterAllReplicas",
    "s3", "s3Cluster", "s3Queue", "gcs", "oss", "cosn", "hdfs", "hdfsCluster", "azureBlobStorage", "azureBlobStorageCluster", "azureQueue",
    "mysql", "postgresql", "materializedPostgreSQL", "materializedMySQL", "sqlite", "odbc", "jdbc", "mongodb", "redis", "cassandra", "http",
    "executable", "executablePool", "executable_pool", "kafka", "rabbitMQ", "nats", "fileLog", "hive", "arrowFlight", "ytsaurus",
    "distributed", "filesystem", "dataLakeCatalog", "backup",
  ].map((n) => n.toLowerCase()),
);
// Data lake readers come in many spellings (icebergS3, deltaLakeAzure, hudiCluster, …).
const OUTSIDE_PREFIX = /^(iceberg|deltalake|hudi|paimon)/;

const isOutside = (name: string): boolean => {
  const n = name.toLowerCase();
  return OUTSIDE.has(n) || OUTSIDE_PREFIX.test(n) || (n.endsWith("cluster") && n !== "cluster" && OUTSIDE.has(n.slice(0, -"cluster".length)));
};

/** A name as ClickHouse reads it: a word, or a `quoted` or "quoted" identifier without its quotes. */
function nameOf(t: Token): string | undefined {
  if (t.kind === "word") return t.text;
  if (t.kind === "quoted") return t.text.slice(1, -1);
  return undefined;
}

const refuse = (what: string): ClickHouseHttpError =>
  new ClickHouseHttpError(497, `${what} is not allowed on the local ClickHouse server: it would reach outside its own tables`, "ACCESS_DENIED");

/**
 * Throws ACCESS_DENIED when the statement calls a table function (or function) or names an
 * engine or dictionary source from the list above, writes INTO OUTFILE, reads FROM INFILE or
 * attaches data FROM a path, or makes a dictionary or a backup. Runs on the SQL exactly as the engine would get it, after
 * query parameters are bound; strings and comments are skipped by the tokenizer, so quoting
 * cannot hide a name and a name inside a string is no call.
 */
export function refuseOutsideAccess(sql: string): void {
  const list = [...tokens(sql)];
  const head = list[0]?.kind === "word" ? list[0].text.toUpperCase() : "";
  if (head === "BACKUP" || head === "RESTORE") throw refuse(head);
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    const next = list[i + 1];
    if (t === undefined) continue;
    const word = t.kind === "word" ? t.text.toUpperCase() : "";
    if (word === "OUTFILE" || word === "INFILE") throw refuse(`INTO OUTFILE and FROM INFILE`);
    if (word === "DICTIONARY" && (head === "CREATE" || head === "ATTACH" || head === "REPLACE")) throw refuse("A dictionary");
    if (word === "FROM" && head === "ATTACH" && next?.kind === "string") throw refuse("ATTACH … FROM a path");
    const name = nameOf(t);
    if (name === undefined || !isOutside(name)) continue;
    // A call (`file(…)`, also as a table function) or an engine (`ENGINE = Kafka SETTINGS …`).
    const prev = list[i - 1];
    const beforePrev = list[i - 2];
    const engine = (prev?.kind === "word" && prev.text.toUpperCase() === "ENGINE") || (prev?.text === "=" && beforePrev?.kind === "word" && beforePrev.text.toUpperCase() === "ENGINE");
    if (next?.text === "(" || engine) throw refuse(`${name}()`);
  }
}
