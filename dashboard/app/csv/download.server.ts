// A view's CSV as a download from its page: the same file a scheduled export writes
// (./views.server.ts), held whole in the answer, so a paged list stops at DOWNLOAD_ROWS.
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { isRefusal, type CsvCall, type CsvFile, type CsvRefusal, type CsvRow } from "./views.server";

/** Rows a download of a paged list holds at most; a scheduled export has them all. */
export const DOWNLOAD_ROWS = 10_000;

/** Every row of a file, page after page. */
export async function allRows(file: CsvFile): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const page of file.pages) rows.push(...page);
  return rows;
}

/** The file `build` makes, as a download; a refusal answers its status, a failed read 503. */
export function csvDownload(build: (call: CsvCall) => Promise<CsvFile | CsvRefusal>, call: Omit<CsvCall, "limit">): Promise<Response> {
  return exportOr503(async () => {
    const file = await build({ ...call, limit: DOWNLOAD_ROWS });
    if (isRefusal(file)) return new Response(file.message, { status: file.status });
    return csvResponse(file.filename, toCsv(file.columns, await allRows(file)));
  });
}
