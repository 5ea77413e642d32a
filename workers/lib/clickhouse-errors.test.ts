import { ClickHouseError } from "@clickhouse/client-web";
import { describe, expect, it } from "vitest";
import { classifyClickHouseError, clickHouseErrorName, describeClickHouseError, isDataError, type ClickHouseErrorClass } from "./clickhouse-errors";

// As @clickhouse/client-web builds them from a server's `Code: N. DB::Exception: … (NAME)`.
const ch = (code: number, type: string | undefined, message = "refused"): ClickHouseError => new ClickHouseError({ code: String(code), type, message });

describe("ClickHouse error classes", () => {
  const cases: ReadonlyArray<readonly [string, ClickHouseErrorClass, ReadonlyArray<readonly [number, string]>]> = [
    [
      "data only when the same rows would fail again",
      "data",
      [
        [41, "CANNOT_PARSE_DATETIME"],
        [6, "CANNOT_PARSE_TEXT"],
        [27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED"],
        [53, "TYPE_MISMATCH"],
        [117, "INCORRECT_DATA"],
        [131, "TOO_LARGE_STRING_SIZE"],
        [321, "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"],
        [349, "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN"],
        [691, "UNKNOWN_ELEMENT_OF_ENUM"],
      ],
    ],
    [
      "overload: too many parts or queries, memory, timeouts",
      "overload",
      [
        [252, "TOO_MANY_PARTS"],
        [202, "TOO_MANY_SIMULTANEOUS_QUERIES"],
        [241, "MEMORY_LIMIT_EXCEEDED"],
        [173, "CANNOT_ALLOCATE_MEMORY"],
        [159, "TIMEOUT_EXCEEDED"],
        [745, "SERVER_OVERLOADED"],
        [201, "QUOTA_EXCEEDED"],
      ],
    ],
    [
      "what an operator must fix: credentials, grants, a missing table or column",
      "operator",
      [
        [516, "AUTHENTICATION_FAILED"],
        [497, "ACCESS_DENIED"],
        [164, "READONLY"],
        [60, "UNKNOWN_TABLE"],
        [81, "UNKNOWN_DATABASE"],
        [16, "NO_SUCH_COLUMN_IN_TABLE"],
        [7, "INCORRECT_NUMBER_OF_COLUMNS"],
        [243, "NOT_ENOUGH_SPACE"],
      ],
    ],
  ];

  for (const [what, cls, errors] of cases) {
    it(`calls ${what} ${cls}, and only data is not retried`, () => {
      for (const [code, type] of errors) {
        expect(classifyClickHouseError(ch(code, type)), type).toBe(cls);
        expect(isDataError(ch(code, type)), type).toBe(cls === "data");
      }
    });
  }

  it("retries an unreachable server: network errors, shutdowns, answers that are not ClickHouse's", () => {
    for (const err of [
      ch(209, "SOCKET_TIMEOUT"),
      ch(210, "NETWORK_ERROR"),
      ch(439, "CANNOT_SCHEDULE_TASK"),
      ch(242, "TABLE_IS_READ_ONLY"),
      ch(999, "KEEPER_EXCEPTION"),
      new TypeError("fetch failed"),
      new Error("Timeout error."),
      Object.assign(new Error("The operation was aborted"), { name: "AbortError" }),
      "socket hang up",
    ]) {
      expect(classifyClickHouseError(err), String(err)).toBe("unavailable");
      expect(isDataError(err)).toBe(false);
    }
  });

  it("retries an error it does not know, since only known data errors are safe to set aside", () => {
    expect(classifyClickHouseError(ch(1234, "SOMETHING_NEW"))).toBe("unknown");
    expect(isDataError(ch(1234, "SOMETHING_NEW"))).toBe(false);
  });

  it("goes by name, and by code only when a server gave no name", () => {
    // A code that names a data error elsewhere does not outweigh the name.
    expect(classifyClickHouseError(ch(41, "TOO_MANY_PARTS"))).toBe("overload");
    expect(classifyClickHouseError(ch(41, undefined))).toBe("data");
    expect(classifyClickHouseError(ch(252, undefined))).toBe("overload");
    expect(clickHouseErrorName(ch(41, undefined))).toBe("CANNOT_PARSE_DATETIME");
    expect(clickHouseErrorName(ch(4321, undefined))).toBe("CLICKHOUSE_ERROR_4321");
    expect(clickHouseErrorName(new Error("x"))).toBeUndefined();
  });

  it("sets aside a batch that spans more partitions than one insert may create", () => {
    const partitions = ch(252, "TOO_MANY_PARTS", "Too many partitions for single INSERT block (more than 1000). The limit is controlled by 'max_partitions_per_insert_block' setting");
    expect(classifyClickHouseError(partitions)).toBe("data");
  });

  it("describes any failure in one line for logs", () => {
    expect(describeClickHouseError(ch(252, "TOO_MANY_PARTS", "Too many parts (300)"))).toBe("ClickHouse 252 TOO_MANY_PARTS (overload): Too many parts (300)");
    expect(describeClickHouseError(new TypeError("fetch failed"))).toBe("TypeError: fetch failed");
  });
});
