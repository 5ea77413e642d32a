import { ClickHouseError } from "@clickhouse/client-web";

/**
 * What a ClickHouse failure means for the rows that met it:
 * - `data`: the rows themselves are refused, and the same rows would be again: set them aside.
 * - `overload`: too many parts, queries or bytes in memory, a timeout: the server needs time.
 * - `unavailable`: no answer, or not ClickHouse's (network, proxy, shutting down, a replica).
 * - `operator`: credentials, grants, a missing table or column: someone has to fix the setup.
 * - `unknown`: a ClickHouse error not named here.
 * Everything but `data` is worth retrying; a batch that keeps failing still reaches the
 * dead-letter queue once the queue's own retries run out.
 */
export type ClickHouseErrorClass = "data" | "overload" | "unavailable" | "operator" | "unknown";

// ClickHouse's own codes and names (its ErrorCodes), with what each means for the rows.
const KNOWN: ReadonlyArray<readonly [number, string, ClickHouseErrorClass]> = [
  // The rows themselves: parse, type and size-of-value errors.
  [6, "CANNOT_PARSE_TEXT", "data"],
  [25, "CANNOT_PARSE_ESCAPE_SEQUENCE", "data"],
  [26, "CANNOT_PARSE_QUOTED_STRING", "data"],
  [27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "data"],
  [38, "CANNOT_PARSE_DATE", "data"],
  [41, "CANNOT_PARSE_DATETIME", "data"],
  [72, "CANNOT_PARSE_NUMBER", "data"],
  [376, "CANNOT_PARSE_UUID", "data"],
  [467, "CANNOT_PARSE_BOOL", "data"],
  [675, "CANNOT_PARSE_IPV4", "data"],
  [676, "CANNOT_PARSE_IPV6", "data"],
  [441, "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "data"],
  [130, "CANNOT_READ_ARRAY_FROM_TEXT", "data"],
  [632, "UNEXPECTED_DATA_AFTER_PARSED_VALUE", "data"],
  [117, "INCORRECT_DATA", "data"],
  [53, "TYPE_MISMATCH", "data"],
  [69, "ARGUMENT_OUT_OF_BOUND", "data"],
  [70, "CANNOT_CONVERT_TYPE", "data"],
  [346, "CANNOT_CONVERT_CHARSET", "data"],
  [321, "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE", "data"],
  [407, "DECIMAL_OVERFLOW", "data"],
  [131, "TOO_LARGE_STRING_SIZE", "data"],
  [128, "TOO_LARGE_ARRAY_SIZE", "data"],
  [19, "SIZE_OF_FIXED_STRING_DOESNT_MATCH", "data"],
  [190, "SIZES_OF_ARRAYS_DONT_MATCH", "data"],
  [349, "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN", "data"],
  [691, "UNKNOWN_ELEMENT_OF_ENUM", "data"],
  // A packed body that does not unpack is the same body on every try.
  [354, "ZLIB_INFLATE_FAILED", "data"],
  // The server needs time.
  [252, "TOO_MANY_PARTS", "overload"],
  [202, "TOO_MANY_SIMULTANEOUS_QUERIES", "overload"],
  [241, "MEMORY_LIMIT_EXCEEDED", "overload"],
  [173, "CANNOT_ALLOCATE_MEMORY", "overload"],
  [159, "TIMEOUT_EXCEEDED", "overload"],
  [160, "TOO_SLOW", "overload"],
  [745, "SERVER_OVERLOADED", "overload"],
  [201, "QUOTA_EXCEEDED", "overload"],
  [394, "QUERY_WAS_CANCELLED", "overload"],
  // No usable answer from the server right now.
  [209, "SOCKET_TIMEOUT", "unavailable"],
  [210, "NETWORK_ERROR", "unavailable"],
  [439, "CANNOT_SCHEDULE_TASK", "unavailable"],
  [279, "ALL_CONNECTION_TRIES_FAILED", "unavailable"],
  [203, "NO_FREE_CONNECTION", "unavailable"],
  [242, "TABLE_IS_READ_ONLY", "unavailable"],
  [733, "TABLE_IS_BEING_RESTARTED", "unavailable"],
  [285, "TOO_FEW_LIVE_REPLICAS", "unavailable"],
  [319, "UNKNOWN_STATUS_OF_INSERT", "unavailable"],
  [999, "KEEPER_EXCEPTION", "unavailable"],
  [225, "NO_ZOOKEEPER", "unavailable"],
  [236, "ABORTED", "unavailable"],
  // The setup: credentials, grants, schema, disk.
  [516, "AUTHENTICATION_FAILED", "operator"],
  [194, "REQUIRED_PASSWORD", "operator"],
  [193, "WRONG_PASSWORD", "operator"],
  [192, "UNKNOWN_USER", "operator"],
  [497, "ACCESS_DENIED", "operator"],
  [164, "READONLY", "operator"],
  [60, "UNKNOWN_TABLE", "operator"],
  [81, "UNKNOWN_DATABASE", "operator"],
  [16, "NO_SUCH_COLUMN_IN_TABLE", "operator"],
  [8, "THERE_IS_NO_COLUMN", "operator"],
  [47, "UNKNOWN_IDENTIFIER", "operator"],
  [7, "INCORRECT_NUMBER_OF_COLUMNS", "operator"],
  [115, "UNKNOWN_SETTING", "operator"],
  [73, "UNKNOWN_FORMAT", "operator"],
  [243, "NOT_ENOUGH_SPACE", "operator"],
];

const CLASS_BY_NAME = new Map(KNOWN.map(([, name, cls]) => [name, cls]));
// For servers or proxies that send a code without its name.
const NAME_BY_CODE = new Map(KNOWN.map(([code, name]) => [String(code), name]));

/** ClickHouse's name for an error it raised (`CANNOT_PARSE_DATETIME`); undefined for anything else. */
export function clickHouseErrorName(err: unknown): string | undefined {
  if (!(err instanceof ClickHouseError)) return undefined;
  return err.type || NAME_BY_CODE.get(err.code) || `CLICKHOUSE_ERROR_${err.code}`;
}

/** The one place that decides what a ClickHouse failure means; see {@link ClickHouseErrorClass}. */
export function classifyClickHouseError(err: unknown): ClickHouseErrorClass {
  const name = clickHouseErrorName(err);
  if (name === undefined) return "unavailable";
  // ClickHouse reuses TOO_MANY_PARTS for an insert that would create more partitions than
  // max_partitions_per_insert_block: a property of the rows' timestamps, not of the load.
  if (name === "TOO_MANY_PARTS" && err instanceof ClickHouseError && /too many partitions for single insert block/i.test(err.message)) return "data";
  return CLASS_BY_NAME.get(name) ?? "unknown";
}

/** True when ClickHouse refused the rows themselves and retrying them cannot help. */
export function isDataError(err: unknown): boolean {
  return classifyClickHouseError(err) === "data";
}

/** A short description of any ClickHouse failure for logs and dead-letter records. */
export function describeClickHouseError(err: unknown): string {
  const name = clickHouseErrorName(err);
  if (err instanceof ClickHouseError) return `ClickHouse ${err.code} ${name ?? ""} (${classifyClickHouseError(err)}): ${err.message.trim().slice(0, 500)}`;
  if (err instanceof Error) return `${err.name}: ${err.message.slice(0, 500)}`;
  return String(err);
}
