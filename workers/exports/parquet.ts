// A view's or saved insight's rows as Parquet: the rows its CSV holds, typed (a column whose values
// are numbers is a nullable Float64, any other a String), written by ClickHouse. Each page is
// inserted into a temporary table as it is read, and the file is selected from it at the end and
// streamed into the upload, so the Worker holds one page at a time and no Parquet code runs in it
// (docs/decisions/0026-scheduled-exports.md).
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { CsvFile, CsvRow } from "../../dashboard/app/csv/views.server";
import { withScratchTable } from "../lib/scratch";

type ColumnType = "Nullable(Float64)" | "String";

/** A column is numeric when its first page's values are numbers, empty cells aside. */
function columnTypes(columns: readonly string[], first: readonly CsvRow[]): ColumnType[] {
  return columns.map((c) => {
    const present = first.map((r) => r[c]).filter((v) => v !== undefined && v !== "");
    return present.length > 0 && present.every((v) => typeof v === "number") ? "Nullable(Float64)" : "String";
  });
}

function cell(column: string, type: ColumnType, value: string | number | undefined): string | number | null {
  if (type === "String") return value === undefined ? "" : String(value);
  if (value === undefined || value === "") return null;
  if (typeof value === "number") return value;
  throw new Error(`column ${column} holds numbers but also ${JSON.stringify(value)}: export it as CSV`);
}

// Column names come from the view's code, never from its query, but are quoted all the same.
const quoted = (name: string): string => `\`${name.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;

/**
 * Writes the file's rows as one Parquet file through `upload`, by way of a scratch table; returns
 * its rows and bytes.
 */
export async function writeViewParquet(client: ClickHouseClient, file: CsvFile, upload: (stream: ReadableStream<Uint8Array>) => Promise<{ bytes: number }>): Promise<{ rows: number; bytes: number }> {
  const pages = file.pages[Symbol.asyncIterator]();
  let next = await pages.next();
  const types = columnTypes(file.columns, next.done ? [] : next.value);
  // Positional names inside the table; the view's own are given back as aliases in the file.
  const columns = ["n UInt64", ...types.map((type, i) => `c${i} ${type}`)].join(", ");
  try {
    return await withScratchTable(client, "export_", { columns, orderBy: "n" }, async (t) => {
      let rows = 0;
      for (; !next.done; next = await pages.next()) {
        const values = next.value.map((r) => {
          const out: Record<string, string | number | null> = { n: rows++ };
          file.columns.forEach((c, i) => {
            out[`c${i}`] = cell(c, types[i] ?? "String", r[c]);
          });
          return out;
        });
        if (values.length > 0) await client.insert({ table: t, values, format: "JSONEachRow", clickhouse_settings: { insert_deduplicate: 0 } });
      }
      const select = file.columns.map((c, i) => `c${i} AS ${quoted(c)}`).join(", ");
      const { stream } = await client.exec({
        query: `SELECT ${select} FROM {t:Identifier} ORDER BY n FORMAT Parquet`,
        query_params: { t },
        // As the raw events' export: an error fails the request instead of ending the file early.
        clickhouse_settings: { wait_end_of_query: 1, output_format_parquet_compression_method: "zstd", output_format_parquet_string_as_string: 1 },
      });
      const written = await upload(stream);
      return { rows, bytes: written.bytes };
    });
  } finally {
    await pages.return?.();
  }
}
