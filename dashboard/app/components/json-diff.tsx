import type { DiffLine } from "../flags/diff";

/** A change's before and after, one changed value a line: `rules.0.rollout 10 → 20`. */
export function JsonDiff({ lines, empty = "no change" }: { lines: readonly DiffLine[]; empty?: string }) {
  if (lines.length === 0) return <span className="muted small">{empty}</span>;
  return (
    <ul className="json-diff">
      {lines.map((l) => (
        <li key={l.path}>
          <code>{l.path}</code> {l.before === null ? <span className="muted">added</span> : <del>{l.before}</del>}
          {" → "}
          {l.after === null ? <span className="muted">removed</span> : <ins>{l.after}</ins>}
        </li>
      ))}
    </ul>
  );
}
