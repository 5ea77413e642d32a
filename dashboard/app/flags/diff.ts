// A readable before/after of two JSON documents (a flag's versions, the configuration's): each
// leaf that changed, by its path, so "rules.0.rollout: 10 → 20" says what a change did.

export interface DiffLine {
  path: string;
  /** The JSON text before; null when the path is new. */
  before: string | null;
  /** The JSON text after; null when the path was removed. */
  after: string | null;
}

const isEmpty = (text: string): boolean => text === "[]" || text === "{}";
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";

function leaves(value: unknown, path: string, out: Map<string, string>): void {
  if (isObject(value)) {
    const entries = Array.isArray(value) ? value.map((v, i): [string, unknown] => [String(i), v]) : Object.entries(value);
    // An empty object or list is a value of its own, or emptying one would not show.
    if (entries.length === 0) out.set(path, JSON.stringify(value));
    for (const [k, v] of entries) leaves(v, path === "" ? k : `${path}.${k}`, out);
    return;
  }
  out.set(path, JSON.stringify(value) ?? "null");
}

/** What changed from `before` to `after` (either may be null: created, deleted), in the after's order. */
export function jsonDiff(before: unknown, after: unknown, limit = 200): DiffLine[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  if (before !== null && before !== undefined) leaves(before, "", a);
  if (after !== null && after !== undefined) leaves(after, "", b);
  // An empty list that gains items (or loses its last) is said by its items alone.
  const within = (m: Map<string, string>, path: string) => [...m.keys()].some((k) => k.startsWith(path === "" ? "" : `${path}.`) && k !== path);
  const lines: DiffLine[] = [];
  for (const [path, text] of b) if (a.get(path) !== text && !(isEmpty(text) && within(a, path))) lines.push({ path: path || "(whole)", before: a.get(path) ?? null, after: text });
  for (const [path, text] of a) if (!b.has(path) && !(isEmpty(text) && within(b, path))) lines.push({ path: path || "(whole)", before: text, after: null });
  return lines.slice(0, limit);
}
