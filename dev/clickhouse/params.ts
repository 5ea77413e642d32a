// Query parameters ({name:Type}) are substituted here, as ClickHouse itself does, with
// `_CAST(<literal>, 'Type')`, rather than through chDB's queryBind: that one TSV-escapes every
// string again (values arrive already escaped, e.g. `it\'s`, and would come out with the
// backslash), cannot express NULL from text, and runs all parameterized queries of the
// process one at a time.
import { ClickHouseHttpError } from "./errors";
import { tokens, type Token } from "./sql";

/** The statement with every `{name:Type}` outside literals and comments replaced by its value. */
export function bindParams(sql: string, params: Readonly<Record<string, string>>): string {
  if (!sql.includes("{")) return sql;
  const list = [...tokens(sql)];
  let out = "";
  let last = 0;
  for (let i = 0; i < list.length; i++) {
    const open = list[i];
    const name = list[i + 1];
    const colon = list[i + 2];
    if (open?.text !== "{" || name?.kind !== "word" || colon?.text !== ":") continue;
    let close = i + 3;
    while (close < list.length && list[close]?.text !== "}") close++;
    const closing = list[close];
    if (closing === undefined) break;
    const type = sql.slice(colon.end, closing.start).trim();
    if (type === "") continue;
    const value = params[name.text];
    if (value === undefined) throw new ClickHouseHttpError(456, `Substitution \`${name.text}\` is not set`, "UNKNOWN_QUERY_PARAMETER");
    out += sql.slice(last, open.start) + substitute(name.text, value, type);
    last = closing.end;
    i = close;
  }
  return out + sql.slice(last);
}

function substitute(name: string, value: string, type: string): string {
  if (type === "Identifier") return value.split(".").map((part) => `\`${escape(part)}\``).join(".");
  const cast = `'${escape(type)}'`;
  if (value === "\\N") return `_CAST(NULL, ${cast})`;
  if (/^\s*(Array|Map|Tuple|Nested)\s*\(/i.test(type)) return `_CAST(${compositeLiteral(name, value, type)}, ${cast})`;
  return `_CAST('${escape(unescapeText(value))}', ${cast})`;
}

/** A SQL string literal body: backslash and quote escaped, control characters spelled out. */
function escape(s: string): string {
  return s.replace(/[\\'\0\b\f\n\r\t]/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "'": "\\'",
  "\0": "\\0",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

const UNESCAPES: Readonly<Record<string, number>> = { b: 8, f: 12, n: 10, r: 13, t: 9, "0": 0, a: 7, v: 11, e: 27 };

/** ClickHouse's escaped text form (as in TSV) to the value it stands for. */
export function unescapeText(value: string): string {
  if (!value.includes("\\")) return value;
  const src = Buffer.from(value, "utf8");
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i] ?? 0;
    if (byte !== 0x5c || i + 1 >= src.length) {
      out[n++] = byte;
      continue;
    }
    const next = String.fromCharCode(src[i + 1] ?? 0);
    const hex = next === "x" ? /^[0-9a-fA-F]{2}$/.exec(src.subarray(i + 2, i + 4).toString("latin1")) : null;
    if (hex) {
      out[n++] = parseInt(hex[0], 16);
      i += 3;
    } else {
      out[n++] = UNESCAPES[next] ?? src[i + 1] ?? 0;
      i += 1;
    }
  }
  return out.subarray(0, n).toString("utf8");
}

const STRING_LITERAL = /^'(?:[^'\\]|\\[\s\S]|'')*'$/;
const NUMBER_LITERAL = /^(0x[0-9a-f]+|0b[01]+|\d+(\.\d*)?(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)$/i;
const WORD_LITERAL = /^(null|true|false|nan|inf)$/i;
const PAIRS: Readonly<Record<string, string>> = { ")": "(", "]": "[", "}": "{" };

/**
 * Array, Map and Tuple values arrive as literals (`['a','b']`, `{'k':1}`), which ClickHouse
 * parses as such. They go into the SQL text, so they are rebuilt token by token and refused
 * unless they are nothing but literals, brackets, commas, colons and signs.
 */
function compositeLiteral(name: string, value: string, type: string): string {
  const stack: string[] = [];
  const parts: string[] = [];
  const bad = (): ClickHouseHttpError =>
    new ClickHouseHttpError(26, `Value ${JSON.stringify(value.slice(0, 200))} cannot be parsed as ${type} for query parameter '${name}'`, "CANNOT_PARSE_QUOTED_STRING");
  for (const t of tokens(value)) {
    if (!allowed(t)) throw bad();
    if (t.text === "(" || t.text === "[" || t.text === "{") stack.push(t.text);
    const opener = PAIRS[t.text];
    if (opener !== undefined && stack.pop() !== opener) throw bad();
    // `{k: v}` is the text form of a Map; in SQL text braces mean a parameter, so spell it map(k, v).
    const inMap = stack[stack.length - 1] === "{";
    parts.push(t.text === "{" ? "map(" : t.text === "}" ? ")" : t.text === ":" && inMap ? "," : t.text);
  }
  if (stack.length > 0 || parts.length === 0) throw bad();
  return parts.join(" ");
}

function allowed(t: Token): boolean {
  switch (t.kind) {
    case "string":
      return STRING_LITERAL.test(t.text);
    case "number":
      return NUMBER_LITERAL.test(t.text);
    case "word":
      return WORD_LITERAL.test(t.text);
    case "punct":
      return "[](){},:-+".includes(t.text);
    default:
      return false;
  }
}
