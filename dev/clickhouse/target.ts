// Where local tools find ClickHouse. Node only (the Worker imports dev/local.ts, not this).
import { resolve } from "node:path";
import { localPassword } from "./password";

/** The local ClickHouse's data directory, under the repository (CLICKHOUSE_DATA_DIR overrides it). */
export function localClickHouseDataDir(root: string): string {
  return resolve(root, process.env.CLICKHOUSE_DATA_DIR ?? ".data/clickhouse");
}

/** ClickHouse and its credentials, as a client takes them: `createClient(await clickhouseTarget(root))`. */
export interface ClickHouseTarget {
  url: string;
  username: string;
  password: string;
}

/**
 * The ClickHouse local tools talk to: CLICKHOUSE_URL with CLICKHOUSE_USER and
 * CLICKHOUSE_PASSWORD when set, or else the local server of `npm start` on CLICKHOUSE_PORT
 * (8123) with the password it keeps in its data directory.
 */
export async function clickhouseTarget(root: string): Promise<ClickHouseTarget> {
  const url = process.env.CLICKHOUSE_URL;
  if (url) return { url, username: process.env.CLICKHOUSE_USER || "default", password: process.env.CLICKHOUSE_PASSWORD ?? "" };
  return { url: `http://127.0.0.1:${process.env.CLICKHOUSE_PORT || "8123"}`, username: "default", password: await localPassword(localClickHouseDataDir(root)) };
}
