// CSV for spreadsheets: RFC 4180 quoting, and cells a spreadsheet would run as a formula
// (= + - @, and tab or CR which some treat alike) are prefixed with a quote so they stay text.

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: string | number): string {
  let s = String(value);
  if (typeof value === "string" && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header line and one line per row, CRLF-terminated as RFC 4180 has it. */
export function toCsv<K extends string>(columns: readonly K[], rows: ReadonlyArray<Record<K, string | number>>): string {
  const lines = [columns.map(csvCell).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
