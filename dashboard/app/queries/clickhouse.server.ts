// The dashboard's only way to ClickHouse: typed reads with every value a query parameter and
// every query scoped to one app. Queries name `{app:String}` and the client adds it, so a
// query without the app filter is refused before it is sent.
import { ClickHouseError, createClient, type ClickHouseClient } from "@clickhouse/client-web";
import type { DashboardEnv } from "../env.server";

const clients = new WeakMap<DashboardEnv["clickhouse"], ClickHouseClient>();

function client(cfg: DashboardEnv["clickhouse"]): ClickHouseClient {
  const hit = clients.get(cfg);
  if (hit) return hit;
  const created = createClient({
    url: cfg.url,
    username: cfg.username,
    password: cfg.password,
    database: cfg.database,
    request_timeout: 15_000,
    // No settings at all: a user created with readonly = 1 may not change any (Code 164), and
    // the dashboard's user should be one. 64-bit integers therefore arrive quoted; see fromJson.
  });
  clients.set(cfg, created);
  return created;
}

/** A failed read, with ClickHouse's code when it was ClickHouse that refused. */
export class QueryError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

/** What a view shows when a read failed; the cause goes to the logs, not to the page. */
export const UNREACHABLE = "The analytics store did not answer. The data is safe; try again in a moment.";

export type Params = Record<string, string | number | readonly string[]>;

/** ClickHouse's type name without the wrappers that do not change how a value is written. */
const unwrap = (type: string): string => {
  const m = /^(?:LowCardinality|Nullable)\((.*)\)$/.exec(type);
  return m?.[1] === undefined ? type : unwrap(m[1]);
};

/**
 * A JSON value as the query's column type means it: ClickHouse quotes (U)Int64 and wider in
 * JSON by default, which the dashboard's counts never need (they stay far below 2^53).
 */
function fromJson(type: string, value: unknown): unknown {
  if (value === null) return null;
  const t = unwrap(type);
  const array = /^Array\((.*)\)$/.exec(t)?.[1];
  if (array !== undefined && Array.isArray(value)) return value.map((v: unknown) => fromJson(array, v));
  return /^U?Int(?:64|128|256)$/.test(t) && typeof value === "string" ? Number(value) : value;
}

/** Runs one read for `app` and returns its rows typed as `T`. */
export async function queryApp<T>(cfg: DashboardEnv["clickhouse"], app: string, query: string, params: Params = {}): Promise<T[]> {
  if (!query.includes("{app:String}")) throw new QueryError("every dashboard query filters by {app:String}", null);
  try {
    const rs = await client(cfg).query({ query, query_params: { ...params, app }, format: "JSON" });
    const { meta = [], data } = await rs.json<Record<string, unknown>>();
    const wide = meta.filter((c) => unwrap(c.type) !== c.type || /Int(?:64|128|256)|Array/.test(c.type));
    if (wide.length === 0) return data as T[];
    return data.map((row) => {
      const out = { ...row };
      for (const c of wide) out[c.name] = fromJson(c.type, row[c.name]);
      return out as T;
    });
  } catch (err) {
    if (err instanceof ClickHouseError) throw new QueryError(`ClickHouse ${err.code}: ${err.message.slice(0, 300)}`, err.code);
    throw new QueryError(`ClickHouse is unreachable: ${err instanceof Error ? err.message : String(err)}`, null);
  }
}

/**
 * Runs a view's reads. A failed read becomes the message the page shows in place of the data,
 * with the rest of the page intact; the cause goes to the logs. Anything else is thrown.
 */
export async function readOrError<T>(read: () => Promise<T>): Promise<{ data: T; error: null } | { data: null; error: string }> {
  try {
    return { data: await read(), error: null };
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    console.error(err.message);
    return { data: null, error: UNREACHABLE };
  }
}

/** Runs an export; a failed read answers 503 with a line the browser shows. */
export async function exportOr503(build: () => Promise<Response>): Promise<Response> {
  const out = await readOrError(build);
  return out.data ?? new Response("The analytics store did not answer; try the export again in a moment.", { status: 503 });
}
