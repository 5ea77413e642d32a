import { createClient, parseError, type ClickHouseClient } from "@clickhouse/client-web";
import type { Config } from "../../schemas";

// Rows arrive already serialized by the edge; passing strings through untouched spares the
// consumer a parse and a stringify of every row.
const passThroughJson = {
  parse: JSON.parse,
  stringify: (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value)),
};

/**
 * The setting that makes a read see every insert acknowledged before it. ClickHouse Cloud answers
 * each HTTP request from any replica, and a replica may not yet have loaded the parts another one
 * wrote; with it the replica catches up first. A server that is not replicated ignores it.
 */
export const READ_OWN_WRITES = { select_sequential_consistency: "1" } as const;

// Clients by configuration (config() keeps one per Worker env) and timeout. The web client holds
// no connection, only its settings (each call is a fetch of its own, and close() does nothing),
// so one serves every request of the isolate: building it parses its URL and settings, which cost
// a queue delivery as much as decoding its messages.
const clients = new WeakMap<Config["clickhouse"], Map<number, ClickHouseClient>>();

/**
 * The one ClickHouse client factory. Settings are explicit so local and Cloud behave alike.
 * `requestTimeoutMs` bounds the wait for an answer's first byte (30 s); long jobs whose answer
 * starts only when the query ends (exports) ask for more.
 */
export function clickhouseClient(cfg: Config["clickhouse"], opts: { requestTimeoutMs?: number } = {}): ClickHouseClient {
  const timeout = opts.requestTimeoutMs ?? 30_000;
  let byTimeout = clients.get(cfg);
  if (!byTimeout) {
    byTimeout = new Map();
    clients.set(cfg, byTimeout);
  }
  const hit = byTimeout.get(timeout);
  if (hit) return hit;
  const created = newClient(cfg, timeout);
  byTimeout.set(timeout, created);
  return created;
}

// The settings of every request, the client's and those sent without it alike.
const SETTINGS = {
  async_insert: 0,
  output_format_json_quote_64bit_integers: 1,
  date_time_input_format: "best_effort",
  // Rows carry properties, traits and context as JSON objects; String columns keep their text.
  input_format_json_read_objects_as_strings: 1,
  // The Worker reads what it has just written: the sink's "already stored" checks, the lake's
  // scratch tables right after their insert (docs/decisions/0028-clickhouse-cloud.md).
  ...READ_OWN_WRITES,
} as const;

function newClient(cfg: Config["clickhouse"], timeout: number): ClickHouseClient {
  return createClient({
    url: cfg.url,
    username: cfg.username,
    password: cfg.password,
    database: cfg.database,
    request_timeout: timeout,
    json: passThroughJson,
    clickhouse_settings: SETTINGS,
  });
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Settings = Readonly<Record<string, string | number>>;

/**
 * Inserts a whole file (e.g. Parquet, which ClickHouse matches to the table's columns by name)
 * into `table`, streamed from `body`. The web client sends only rows it serializes itself, so the
 * file goes over ClickHouse's HTTP interface as its own request. Throws ClickHouse's error.
 */
export async function insertFile(cfg: Config["clickhouse"], insert: { table: string; format: "Parquet"; body: ReadableStream<Uint8Array>; settings?: Settings }): Promise<void> {
  await post(cfg, insertQuery(insert.table, [], insert.format), insert.body, {}, { ...SETTINGS, ...insert.settings });
}

/**
 * Inserts rows already serialized in `format` and packed as gzip members end to end (a queue
 * message's rows as the AppBatcher stored them) into `columns` of `table`: ClickHouse unpacks
 * them itself, so the sink neither unpacks, joins nor encodes them (decision record 0034). The
 * web client sends only rows it serializes itself. Throws ClickHouse's error.
 */
export async function insertPacked(cfg: Config["clickhouse"], insert: { table: string; columns: readonly string[]; format: "JSONCompactEachRow"; body: Uint8Array<ArrayBuffer>; settings?: Settings }): Promise<void> {
  const query = insertQuery(insert.table, insert.columns, insert.format);
  await post(cfg, query, insert.body, { "Content-Encoding": "gzip" }, { ...SETTINGS, ...insert.settings }, 30_000);
}

function insertQuery(table: string, columns: readonly string[], format: string): string {
  for (const name of [table, ...columns]) if (!NAME.test(name)) throw new Error(`not a table or column name: ${name}`);
  return `INSERT INTO ${table}${columns.length > 0 ? ` (${columns.join(", ")})` : ""} FORMAT ${format}`;
}

async function post(cfg: Config["clickhouse"], query: string, body: BodyInit, headers: Record<string, string>, settings: Settings, timeoutMs?: number): Promise<void> {
  const url = new URL(cfg.url);
  url.searchParams.set("database", cfg.database);
  url.searchParams.set("query", query);
  for (const [name, value] of Object.entries(settings)) url.searchParams.set(name, String(value));
  const res = await fetch(url, {
    method: "POST",
    headers: { "X-ClickHouse-User": cfg.username, "X-ClickHouse-Key": cfg.password, ...headers },
    body,
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw parseError(text);
}

// Whoever holds a client also needs to know what its failures mean.
export { classifyClickHouseError, clickHouseErrorName, describeClickHouseError, isDataError, type ClickHouseErrorClass } from "./clickhouse-errors";
