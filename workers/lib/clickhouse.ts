import { ClickHouseError, createClient, type ClickHouseClient } from "@clickhouse/client-web";
import type { Config } from "../../schemas";

// Rows arrive already serialized by the edge; passing strings through untouched spares the
// consumer a parse and a stringify of every row.
const passThroughJson = {
  parse: JSON.parse,
  stringify: (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value)),
};

/** The one ClickHouse client factory. Settings are explicit so local and Cloud behave alike. */
export function clickhouseClient(cfg: Config["clickhouse"]): ClickHouseClient {
  return createClient({
    url: cfg.url,
    username: cfg.username,
    password: cfg.password,
    database: cfg.database,
    request_timeout: 30_000,
    json: passThroughJson,
    clickhouse_settings: {
      async_insert: 0,
      output_format_json_quote_64bit_integers: 1,
      date_time_input_format: "best_effort",
      // Rows carry properties, traits and context as JSON objects; String columns keep their text.
      input_format_json_read_objects_as_strings: 1,
    },
  });
}

// Codes for input ClickHouse will never accept however often it is retried.
const DATA_ERROR_CODES = new Set(["6", "25", "26", "27", "38", "41", "53", "69", "70", "72", "117", "130", "131", "252"]);

/** True when ClickHouse refused the data itself (retrying cannot help); false for outages. */
export function isDataError(err: unknown): boolean {
  return err instanceof ClickHouseError && DATA_ERROR_CODES.has(err.code);
}

/** A short description of any ClickHouse failure for logs and dead-letter records. */
export function describeClickHouseError(err: unknown): string {
  if (err instanceof ClickHouseError) return `ClickHouse ${err.code} ${err.type ?? ""}: ${err.message.slice(0, 500)}`;
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 500)}` : String(err);
}
