import type { IssueStatus } from "../../../schemas";

/** The colours of each state, shared by the list's badges and the issue page's. */
export const STATUS_COLORS: Record<IssueStatus, { background: string; color: string }> = {
  unresolved: { background: "#fef3c7", color: "#92400e" },
  regressed: { background: "#fee2e2", color: "#991b1b" },
  resolved: { background: "#dcfce7", color: "#166534" },
  ignored: { background: "#f1f5f9", color: "#475569" },
};

/** An issue's state as a badge; an issue nobody triaged is unresolved. */
export function IssueStatusBadge({ status }: { status: IssueStatus }) {
  return (
    <span className="badge" data-status={status} style={STATUS_COLORS[status]}>
      {status}
    </span>
  );
}
