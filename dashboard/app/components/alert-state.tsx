import type { AlertState } from "../../../schemas";

// Firing is the one state someone must act on: it stands out, the others stay quiet.
const STATE_STYLES: Record<AlertState, { background: string; color: string; fontWeight?: number; fontSize?: string }> = {
  firing: { background: "#dc2626", color: "#fff", fontWeight: 700, fontSize: ".8rem" },
  resolved: { background: "#dcfce7", color: "#166534" },
  ok: { background: "#f1f5f9", color: "#475569" },
};

/** A rule's state as a badge: `firing` in red, `resolved` in green, `ok` grey. */
export function AlertStateBadge({ state }: { state: AlertState }) {
  return (
    <span className="badge" data-state={state} style={STATE_STYLES[state]}>
      {state}
    </span>
  );
}
