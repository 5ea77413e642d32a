import { Form, useActionData } from "@remix-run/react";
import { useId } from "react";
import type { IssueStatus } from "../../../schemas";
import type { IssueState } from "../db/crash-issues.server";
import { ActionNotice } from "./action-notice";
import { CsrfField } from "./csrf";
import { IntentForm } from "./intent-form";
import { STATUS_COLORS } from "./issue-status";

const BADGE: Record<IssueStatus, { label: string; style: { background: string; color: string } }> = {
  unresolved: { label: "Unresolved", style: STATUS_COLORS.unresolved },
  regressed: { label: "Regressed", style: STATUS_COLORS.regressed },
  resolved: { label: "Resolved", style: STATUS_COLORS.resolved },
  ignored: { label: "Ignored", style: STATUS_COLORS.ignored },
};

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

/** One line on what the state means now, e.g. "in 2.1.0 · by ana@example.com, 2026-11-30 10:02 UTC". */
function stateDetail(state: IssueState): string {
  const what =
    state.status === "resolved"
      ? state.resolvedNext
        ? "in the next release"
        : state.resolvedIn
          ? `in ${state.resolvedIn}`
          : ""
      : state.status === "ignored"
        ? state.ignoreCount !== null
          ? `until ${state.ignoreCount} more event${state.ignoreCount === 1 ? "" : "s"}`
          : state.ignoreUntil !== null
            ? `until ${day(state.ignoreUntil)} UTC`
            : "forever"
        : "";
  const who = `${state.changedBy || "system"}, ${day(state.changedAt)} UTC`;
  return what ? `${what} · ${who}` : who;
}

/**
 * The issue's status and, for those allowed `issue:update`, what they can do about it: one
 * primary button (Resolve, or Reopen once it is resolved or ignored) and the variants folded
 * under "More".
 */
export function IssueStateForm({ state, releases, canUpdate }: { state: IssueState | null; releases: readonly string[]; canUpdate: boolean }) {
  const result = useActionData<{ ok: string } | { error: string }>();
  const status: IssueStatus = state?.status ?? "unresolved";
  const badge = BADGE[status];
  const open = status === "unresolved" || status === "regressed";
  const listId = useId();
  return (
    <section className="card issue-state" aria-label="Issue status">
      <p style={{ margin: 0, display: "flex", gap: ".6rem", alignItems: "center", flexWrap: "wrap" }}>
        <span className="badge" style={{ ...badge.style, fontSize: ".85rem" }} data-status={status}>
          {badge.label}
        </span>
        {state ? <span className="muted small">{stateDetail(state)}</span> : null}
      </p>
      {canUpdate ? (
        <>
          <div className="inline-form" style={{ marginTop: ".75rem" }}>
            {open ? <IntentForm intent="resolve" label="Resolve" title="Resolve now" /> : <IntentForm intent="reopen" label="Reopen" />}
            {open ? <IntentForm intent="ignore" label="Ignore" title="Ignore forever" /> : null}
          </div>
          <details style={{ marginTop: ".75rem" }}>
            <summary>More: resolve in a release, ignore for a while</summary>
            <div style={{ display: "grid", gap: ".75rem", marginTop: ".75rem" }}>
              <IntentForm intent="resolve-next" label="Resolve in the next release" />
              <IntentForm intent="resolve-in" label="Resolve in this release" title="Resolve in a release">
                <label>
                  Release
                  <input name="release" list={listId} required maxLength={256} placeholder={releases[0] ?? "2.1.0"} />
                </label>
                <datalist id={listId}>
                  {releases.map((r) => (
                    <option key={r} value={r} />
                  ))}
                </datalist>
              </IntentForm>
              <Form method="post" className="inline-form" aria-label="Ignore until more events">
                <CsrfField />
                <input type="hidden" name="intent" value="ignore" />
                <input type="hidden" name="until" value="count" />
                <label>
                  More events
                  <input name="count" type="number" min={1} step={1} required defaultValue={100} />
                </label>
                <button type="submit">Ignore until then</button>
              </Form>
              <Form method="post" className="inline-form" aria-label="Ignore until a date">
                <CsrfField />
                <input type="hidden" name="intent" value="ignore" />
                <input type="hidden" name="until" value="date" />
                <label>
                  Until (UTC)
                  <input name="date" type="date" required />
                </label>
                <button type="submit">Ignore until then</button>
              </Form>
            </div>
          </details>
        </>
      ) : null}
      <ActionNotice result={result && ("ok" in result || "error" in result) ? result : undefined} />
    </section>
  );
}
