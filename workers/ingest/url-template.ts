// Path templates: the grouping key of network calls and pages. Ids, UUIDs, hashes, dates and
// random tokens in a path make every call its own group, so they collapse to placeholders;
// an app's own templates (schemas/perf.ts UrlTemplate) are tried first, in order.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_IN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_IN = /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g;
const HEX = /^[0-9a-f]{8,}$/i;
const TOKEN = /^[A-Za-z0-9_-]{16,}={0,2}$/;
const NUMBER = /^\d+$/;
const DIGIT = /\d/;
// A redaction placeholder that the `hash` action made per value: `[email:9f86d081884c7d65]`.
const HASHED_PLACEHOLDER = /\[([a-z_]+):[0-9a-f]+\]/g;
const PIECE_SEPARATOR = /([._-])/;

/** An override compiled once: its segments, and whether a final `**` takes the rest. */
interface Compiled {
  segments: readonly string[];
  rest: boolean;
  text: string;
}

// Each app's list is one array that the write-key cache keeps: compile it once per isolate.
const compiled = new WeakMap<readonly string[], readonly Compiled[]>();

function compile(overrides: readonly string[]): readonly Compiled[] {
  const hit = compiled.get(overrides);
  if (hit) return hit;
  const out = overrides.map((text): Compiled => {
    const segments = trimSlash(text).split("/").slice(1);
    const rest = segments[segments.length - 1] === "**";
    return { segments: rest ? segments.slice(0, -1) : segments, rest, text };
  });
  compiled.set(overrides, out);
  return out;
}

// "/a/b/" and "/a/b" are one endpoint to an override.
const trimSlash = (s: string): string => (s.length > 1 && s.endsWith("/") ? s.slice(0, -1) : s);

function applyOverride(o: Compiled, parts: readonly string[]): string | null {
  if (o.rest ? parts.length < o.segments.length : parts.length !== o.segments.length) return null;
  let out = "";
  for (let i = 0; i < o.segments.length; i++) {
    const want = o.segments[i] ?? "";
    const got = parts[i] ?? "";
    if (want === "*") out += `/${got}`;
    else if (want.startsWith(":") && want.length > 1) {
      if (got === "") return null;
      out += `/${want}`;
    } else if (want === got) out += `/${got}`;
    else return null;
  }
  return o.rest ? `${out}/**` : out || "/";
}

/** True for a piece of text that mixes letters and digits. */
function lettersAndDigits(s: string): boolean {
  let letters = false;
  let digits = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 32;
    if (c >= 97 && c <= 122) letters = true;
    else if (c >= 48 && c <= 57) digits = true;
  }
  return letters && digits;
}

// An id with a prefix (`user_12345`, `INV-2024-0001`): a run of five digits, or two of three.
function longDigits(s: string): boolean {
  let run = 0;
  let runsOfThree = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0;
    if (c >= 48 && c <= 57) {
      run++;
      continue;
    }
    if (run >= 5) return true;
    if (run >= 3 && ++runsOfThree >= 2) return true;
    run = 0;
  }
  return false;
}

// A word, number or model name as people write them in slugs: `react`, `Pro`, `iPhone15`,
// `oauth2`, `2fa`, `API`, `ES2015`. Random text breaks this within a few characters.
const WORDISH = /^(?:[a-z]*[A-Z]?[a-z]+\d*[a-z]*|[A-Z]+\d*|\d+[a-z]{0,3})$/;

// Random tokens are long, mix letters and digits, and are not made of words; a slug
// (`react-18-release-notes`, `iPhone15-Pro-Max-Review`) is.
function token(s: string): boolean {
  if (!TOKEN.test(s) || !lettersAndDigits(s)) return false;
  return !s.split(/[_=-]/).every((part) => part === "" || WORDISH.test(part));
}

function wholeSegment(seg: string): string | null {
  if (NUMBER.test(seg)) return ":id";
  if (seg.length === 36 && UUID.test(seg)) return ":uuid";
  if (DATE.test(seg)) return ":date";
  if (HEX.test(seg)) return ":hash";
  if (token(seg)) return ":token";
  return null;
}

const NUMBERED_FILE = /^\d+(\.[A-Za-z][A-Za-z0-9]{0,9})$/;

// A file name or compound segment keeps its words and extension: only the pieces that vary go
// (`main.3f9a2b1c.js` → `main.:hash.js`, `IMG_20240115.jpg` → `IMG_:id.jpg`, `42.json` → `:id.json`).
function pieces(seg: string): string {
  const numbered = NUMBERED_FILE.exec(seg);
  if (numbered) return `:id${numbered[1] ?? ""}`;
  const replaced = seg.replace(UUID_IN, ":uuid").replace(DATE_IN, ":date");
  return replaced
    .split(PIECE_SEPARATOR)
    .map((p) => (p.length >= 5 && NUMBER.test(p) ? ":id" : p.length >= 8 && HEX.test(p) && DIGIT.test(p) ? ":hash" : p.length >= 16 && token(p) ? ":token" : longDigits(p) ? ":id" : p))
    .join("");
}

function templateSegment(seg: string): string {
  if (!DIGIT.test(seg)) return seg;
  if (seg.includes("[")) {
    const masked = seg.replace(HASHED_PLACEHOLDER, "[$1]");
    if (!DIGIT.test(masked)) return masked;
    seg = masked;
  }
  const whole = wholeSegment(seg);
  if (whole !== null) return whole;
  if (seg.includes(".")) return pieces(seg);
  if (longDigits(seg)) return ":id";
  return PIECE_SEPARATOR.test(seg) ? pieces(seg) : seg;
}

/**
 * A path's template: the first of the app's `overrides` that matches gives it, else every
 * segment that looks like an id, UUID, hash, date or random token becomes a placeholder.
 * A path with no digits that no override matches comes back as the same string.
 * @example templatePath("/v1/users/42/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301", []) === "/v1/users/:id/orders/:uuid"
 * @example templatePath("/api/orgs/acme/files/a/b.png", ["/api/orgs/:org/files/**"]) === "/api/orgs/:org/files/**"
 */
export function templatePath(path: string, overrides: readonly string[]): string {
  if (overrides.length > 0) {
    const parts = trimSlash(path).split("/").slice(1);
    for (const o of compile(overrides)) {
      const hit = applyOverride(o, parts);
      if (hit !== null) return hit;
    }
  }
  if (!DIGIT.test(path)) return path;
  const segments = path.split("/");
  for (let i = 0; i < segments.length; i++) segments[i] = templateSegment(segments[i] ?? "");
  return segments.join("/");
}
