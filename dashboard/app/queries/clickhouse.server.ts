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
    // Numbers as numbers in JSON (the counts here stay far below 2^53); settings explicit so
    // the local server and ClickHouse Cloud answer alike.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0, readonly: "1" },
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

/** Runs one read for `app` and returns its rows typed as `T`. */
export async function queryApp<T>(cfg: DashboardEnv["clickhouse"], app: string, query: string, params: Params = {}): Promise<T[]> {
  if (!query.includes("{app:String}")) throw new QueryError("every dashboard query filters by {app:String}", null);
  try {
    const rs = await client(cfg).query({ query, query_params: { ...params, app }, format: "JSONEachRow" });
    return await rs.json<T>();
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
