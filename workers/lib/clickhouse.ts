import { createClient, type ClickHouseClient } from "@clickhouse/client-web";
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

// Whoever holds a client also needs to know what its failures mean.
export { classifyClickHouseError, clickHouseErrorName, describeClickHouseError, isDataError, type ClickHouseErrorClass } from "./clickhouse-errors";
