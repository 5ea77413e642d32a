// Semantic versions and ranges for the `semver` flag condition: a small parser in the spirit of
// node-semver (7 KB gzipped for satisfies and coerce: it would fit the edge Worker, and replacing
// this file with it is open with the flags' decision record), with one simplification: a pre-release
// orders below its release and is otherwise an ordinary version (`<3.0.0` admits `3.0.0-beta`);
// the upper bounds the shorthands produce (`^2.4`, `~1.2.3`, `2.x`, `<3`) end at `X.Y.Z-0`, below
// every pre-release of the next version, so `2.x` does not admit `3.0.0-beta`.

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers; empty for a release. */
  pre: ReadonlyArray<string | number>;
}

type Op = "<" | "<=" | ">" | ">=" | "=";
interface Comparator {
  op: Op;
  v: SemVer;
}
/** Alternatives (`||`), each a set of comparators that must all hold. */
export type SemverRange = ReadonlyArray<readonly Comparator[]>;

const IDENT = "[0-9A-Za-z-]+";
const PRE = `(?:-(${IDENT}(?:\\.${IDENT})*))?`;
const BUILD = `(?:\\+${IDENT}(?:\\.${IDENT})*)?`;
// Apps often report `2.4` or `7`, so a version may leave out its minor and patch (read as 0).
const VERSION_RE = new RegExp(`^[vV=]?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?${PRE}${BUILD}$`);
const PARTIAL_RE = new RegExp(`^[vV=]?(\\d+|[xX*])(?:\\.(\\d+|[xX*]))?(?:\\.(\\d+|[xX*]))?${PRE}${BUILD}$`);
const COMPARATOR_RE = /^(<=|>=|<|>|=|\^|~>?)?(.*)$/;

function num(s: string): number | null {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

function preIds(s: string | undefined): Array<string | number> | null {
  if (s === undefined) return [];
  const ids: Array<string | number> = [];
  for (const id of s.split(".")) {
    if (/^\d+$/.test(id)) {
      const n = num(id);
      if (n === null) return null;
      ids.push(n);
    } else ids.push(id);
  }
  return ids;
}

/** A version, or null when it does not parse (such a version never satisfies a range). */
export function parseVersion(text: string): SemVer | null {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return null;
  const major = num(m[1] ?? "");
  const minor = num(m[2] ?? "0");
  const patch = num(m[3] ?? "0");
  const pre = preIds(m[4]);
  if (major === null || minor === null || patch === null || pre === null) return null;
  return { major, minor, patch, pre };
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareVersions(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const c = compareIds(a.pre[i] ?? 0, b.pre[i] ?? 0);
    if (c !== 0) return c;
  }
  return a.pre.length - b.pre.length;
}

/** A version with wildcards: null where it says x or *, or stops. */
interface Partial {
  major: number | null;
  minor: number | null;
  patch: number | null;
  pre: Array<string | number>;
}

function parsePartial(text: string): Partial | null {
  const m = PARTIAL_RE.exec(text);
  if (!m) return null;
  const parts: Array<number | null> = [];
  let wild = false;
  for (const p of [m[1], m[2], m[3]]) {
    if (p === undefined || /^[xX*]$/.test(p)) {
      wild = true;
      parts.push(null);
    } else if (wild) return null; // `1.x.3` means nothing sensible
    else {
      const n = num(p);
      if (n === null) return null;
      parts.push(n);
    }
  }
  const pre = preIds(m[4]);
  if (pre === null || (pre.length > 0 && wild)) return null;
  return { major: parts[0] ?? null, minor: parts[1] ?? null, patch: parts[2] ?? null, pre };
}

const v = (major: number, minor: number, patch: number, pre: Array<string | number> = []): SemVer => ({ major, minor, patch, pre });
/** The lowest version of all (`X.Y.Z-0`), the exclusive upper bound of a shorthand. */
const floor = (major: number, minor: number, patch: number): SemVer => v(major, minor, patch, [0]);
const low = (p: Partial): SemVer => v(p.major ?? 0, p.minor ?? 0, p.patch ?? 0, p.pre);
/** The first version above every version the partial covers (its major or minor bumped). */
function above(p: Partial): SemVer | null {
  if (p.major === null) return null;
  if (p.minor === null) return floor(p.major + 1, 0, 0);
  if (p.patch === null) return floor(p.major, p.minor + 1, 0);
  return null;
}

const NEVER: Comparator[] = [{ op: "<", v: floor(0, 0, 0) }];

function comparator(text: string): Comparator[] | null {
  const m = COMPARATOR_RE.exec(text);
  const op = m?.[1] ?? "";
  const p = parsePartial(m?.[2] ?? "");
  if (!p) return null;
  const lo = low(p);
  const hi = above(p);
  const { major, minor, patch } = p;
  switch (op) {
    case "":
    case "=":
      if (major === null) return [];
      return hi ? [{ op: ">=", v: lo }, { op: "<", v: hi }] : [{ op: "=", v: lo }];
    case ">":
      if (major === null) return NEVER;
      return hi ? [{ op: ">=", v: hi }] : [{ op: ">", v: lo }];
    case ">=":
      return major === null ? [] : [{ op: ">=", v: lo }];
    case "<":
      if (major === null) return NEVER;
      return [{ op: "<", v: patch === null ? floor(lo.major, lo.minor, 0) : lo }];
    case "<=":
      if (major === null) return [];
      return hi ? [{ op: "<", v: hi }] : [{ op: "<=", v: lo }];
    case "~":
    case "~>": {
      if (major === null) return [];
      return [{ op: ">=", v: lo }, { op: "<", v: minor === null ? floor(major + 1, 0, 0) : floor(major, minor + 1, 0) }];
    }
    case "^": {
      if (major === null) return [];
      let top: SemVer;
      if (major > 0 || minor === null) top = floor(major + 1, 0, 0);
      else if (minor > 0 || patch === null) top = floor(0, minor + 1, 0);
      else top = floor(0, 0, patch + 1);
      return [{ op: ">=", v: lo }, { op: "<", v: top }];
    }
    default:
      return null;
  }
}

function comparatorSet(text: string): Comparator[] | null {
  // `>= 2.1.0` with a space after the operator is common in hand-written ranges.
  const tokens = text.replace(/(<=|>=|<|>|=|\^|~>?)\s+/g, "$1").split(/\s+/).filter((t) => t !== "");
  const hyphen = tokens.length === 3 && tokens[1] === "-";
  if (hyphen) {
    const a = parsePartial(tokens[0] ?? "");
    const b = parsePartial(tokens[2] ?? "");
    if (!a || !b) return null;
    const out: Comparator[] = [];
    if (a.major !== null) out.push({ op: ">=", v: low(a) });
    if (b.major !== null) {
      const hi = above(b);
      out.push(hi ? { op: "<", v: hi } : { op: "<=", v: low(b) });
    }
    return out;
  }
  const out: Comparator[] = [];
  for (const t of tokens) {
    const c = comparator(t);
    if (!c) return null;
    out.push(...c);
  }
  return out;
}

/** A range, or null when it does not parse (such a range matches no version). */
export function parseRange(text: string): SemverRange | null {
  const sets: Comparator[][] = [];
  for (const alt of text.split("||")) {
    const set = comparatorSet(alt.trim());
    if (!set) return null;
    sets.push(set);
  }
  return sets;
}

function holds(c: Comparator, version: SemVer): boolean {
  const d = compareVersions(version, c.v);
  switch (c.op) {
    case "<":
      return d < 0;
    case "<=":
      return d <= 0;
    case ">":
      return d > 0;
    case ">=":
      return d >= 0;
    case "=":
      return d === 0;
  }
}

export function satisfiesRange(version: SemVer, range: SemverRange): boolean {
  return range.some((set) => set.every((c) => holds(c, version)));
}

// Flags name a handful of ranges and are evaluated for every caller: parse each once per isolate.
const ranges = new Map<string, SemverRange | null>();
const RANGE_CACHE_MAX = 1000;
let lastVersionText: string | undefined;
let lastVersion: SemVer | null = null;

/** Whether `version` satisfies `range`; false when either does not parse. */
export function satisfies(version: string, range: string): boolean {
  let r = ranges.get(range);
  if (r === undefined) {
    r = parseRange(range);
    if (ranges.size >= RANGE_CACHE_MAX) ranges.clear();
    ranges.set(range, r);
  }
  if (r === null) return false;
  // One caller's version is tested by many flags in a row.
  if (version !== lastVersionText) {
    lastVersionText = version;
    lastVersion = parseVersion(version);
  }
  return lastVersion !== null && satisfiesRange(lastVersion, r);
}
