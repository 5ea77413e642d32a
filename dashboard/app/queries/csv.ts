// CSV for spreadsheets: RFC 4180 quoting, and cells a spreadsheet would run as a formula
// (= + - @, and tab or CR which some treat alike) are prefixed with a quote so they stay text.

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: string | number): string {
  let s = String(value);
  if (typeof value === "string" && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line of cells, CRLF-terminated as RFC 4180 has it. */
export const csvLine = (cells: ReadonlyArray<string | number>): string => `${cells.map(csvCell).join(",")}\r\n`;

/** A header line and one line per row. */
export function toCsv<K extends string>(columns: readonly K[], rows: ReadonlyArray<Record<K, string | number>>): string {
  let out = csvLine(columns);
  for (const row of rows) out += csvLine(columns.map((c) => row[c]));
  return out;
}

/** A CSV download that no cache keeps. */
export function csvResponse(filename: string, body: string): Response {
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${filename.replace(/[^\w.-]/g, "_")}"`,
      "cache-control": "private, no-store",
    },
  });
}

/** Columns of a timeline (a session's or a user's events) as CSV. */
export const TIMELINE_CSV_COLUMNS = ["timestamp", "type", "event", "path", "detail", "session_id", "message_id", "platform", "country"] as const;

export function timelineCsvRows(
  events: ReadonlyArray<{ ts: number; type: string; event: string; path: string; detail: string; sessionId: string; messageId: string; platform: string; country: string }>,
): Array<Record<(typeof TIMELINE_CSV_COLUMNS)[number], string>> {
  return events.map((e) => ({
    timestamp: new Date(e.ts).toISOString(),
    type: e.type,
    event: e.event,
    path: e.path,
    detail: e.detail,
    session_id: e.sessionId,
    message_id: e.messageId,
    platform: e.platform,
    country: e.country,
  }));
}
