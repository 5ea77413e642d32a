// Platform and country filters as they appear in URLs (`?platform=ios&country=DE`), shared by
// the overview, users and sessions views. Values reach ClickHouse only as query parameters.
import type { Params } from "./clickhouse.server";

export interface Dims {
  platform: string;
  country: string;
}

export const DIM_NAMES = ["platform", "country"] as const;

/** The filters the URL asks for; "" means any. Over-long values are cut, not trusted. */
export function parseDims(url: URL): Dims {
  const get = (name: string): string => (url.searchParams.get(name) ?? "").trim().slice(0, 64);
  return { platform: get("platform"), country: get("country") };
}

export const hasDims = (d: Dims): boolean => d.platform !== "" || d.country !== "";

/**
 * ` AND platform = {platform:String}…` for the filters that are set, comparing the given
 * column expressions (rollups name them platform and country; summaries may alias them).
 */
export function dimsSql(d: Dims, columns: { platform: string; country: string } = { platform: "platform", country: "country" }): { sql: string; params: Params } {
  let sql = "";
  const params: Params = {};
  if (d.platform) {
    sql += ` AND ${columns.platform} = {platform:String}`;
    params.platform = d.platform;
  }
  if (d.country) {
    sql += ` AND ${columns.country} = {country:String}`;
    params.country = d.country;
  }
  return { sql, params };
}
