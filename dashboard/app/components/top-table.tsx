import { Link } from "@remix-run/react";
import type { TopRow } from "../queries/overview.server";

/** A ranked list with a bar per row; an explicit line when there is nothing to rank. */
export function TopTable({
  title,
  rows,
  label,
  empty = "Nothing recorded in this range.",
  linkTo,
}: {
  title: string;
  rows: readonly TopRow[];
  label: string;
  empty?: string;
  /** Where a row leads, e.g. the same view filtered by it. */
  linkTo?: (key: string) => string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.n));
  return (
    <section className="card top" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{label}</th>
              <th className="num">count</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td>
                  <span className="bar" style={{ width: `${(r.n / max) * 100}%` }} />
                  <span className="bar-label">{linkTo && r.key !== "" ? <Link to={linkTo(r.key)}>{r.key}</Link> : r.key === "" ? "(none)" : r.key}</span>
                </td>
                <td className="num">{r.n.toLocaleString("en")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
