// CSV escaping: RFC 4180 quoting and neutralised spreadsheet formulas.
import { expect, it } from "vitest";
import { csvCell, toCsv } from "../app/queries/csv";

it("quotes cells with commas, quotes, newlines or edge spaces, and leaves plain ones bare", () => {
  expect(csvCell("plain")).toBe("plain");
  expect(csvCell(42)).toBe("42");
  expect(csvCell(-1)).toBe("-1");
  expect(csvCell("a,b")).toBe('"a,b"');
  expect(csvCell('say "hi"')).toBe('"say ""hi"""');
  expect(csvCell("two\nlines")).toBe('"two\nlines"');
  expect(csvCell("cr\r")).toBe('"cr\r"');
  expect(csvCell(" padded")).toBe('" padded"');
  expect(csvCell('{"plan":"pro"}')).toBe('"{""plan"":""pro""}"');
});

it("prefixes text that a spreadsheet would evaluate with a quote", () => {
  expect(csvCell("=1+2")).toBe("'=1+2");
  expect(csvCell("+49 30 1234")).toBe("'+49 30 1234");
  expect(csvCell("-2")).toBe("'-2");
  expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
  expect(csvCell("\tx")).toBe("'\tx");
  expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
  expect(csvCell("a=b")).toBe("a=b");
});

it("writes a header and CRLF-terminated rows", () => {
  expect(toCsv(["a", "b"], [{ a: "1", b: "x,y" }, { a: "=2", b: "" }])).toBe('a,b\r\n1,"x,y"\r\n\'=2,\r\n');
});
