import type { ReactNode } from "react";
import { utcMinute } from "./format";
import { IntentForm } from "./intent-form";
import { JsonDiff } from "./json-diff";
import type { DiffLine } from "../flags/diff";

export interface VersionRow {
  version: number;
  at: number;
  by: string;
  /** The author's note, where the thing versioned has them. */
  note?: string;
  diff: readonly DiffLine[];
  /** Said instead of the diff (`created`, `deleted`). */
  what?: string;
  current: boolean;
  restorable: boolean;
}

/**
 * Versions newest first, each with who made it, when, and what it changed, and a "Restore"
 * (intent `rollback`, field `to`) on each other version for those who may.
 */
export function VersionHistory({ rows, what, restoreLabel, canRestore, notes = false }: { rows: readonly VersionRow[]; what: string; restoreLabel: string; canRestore: boolean; notes?: boolean }) {
  const restore = (v: number): ReactNode => (
    <IntentForm intent="rollback" label={restoreLabel} title={`Restore version ${v}`} confirm={`Make version ${v} the ${what} again (as a new version)?`}>
      <input type="hidden" name="to" value={v} />
    </IntentForm>
  );
  return (
    <table className="version-history">
      <thead>
        <tr>
          <th className="num">Version</th>
          <th>When (UTC)</th>
          <th>Who</th>
          {notes ? <th>Note</th> : null}
          <th>Change from the version before</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.version} data-version={r.version}>
            <td className="num">{r.version}</td>
            <td className="nowrap">{utcMinute(r.at)}</td>
            <td>{r.by}</td>
            {notes ? <td>{r.note || <span className="muted">–</span>}</td> : null}
            <td>{r.what ? <span className="muted">{r.what}</span> : <JsonDiff lines={r.diff} />}</td>
            <td className="nowrap">{r.current ? <span className="muted small">current</span> : canRestore && r.restorable ? restore(r.version) : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
