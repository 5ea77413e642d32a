// Stickiness: how many people were active on 1, 2, … days of a week (or month), as bars.
import type { StickinessResult } from "../../insights/stickiness.server";
import { BarChart } from "../bar-chart";
import { count, percent } from "../format";

/** A stickiness result: the bars, and on its page the share that came back on more than one day. */
export function StickinessView({ result, compact = false }: { result: StickinessResult; compact?: boolean }) {
  const buckets = result.people.map((n, i) => ({ label: String(i + 1), n }));
  const repeat = result.total - (result.people[0] ?? 0);
  const word = result.period;
  return (
    <div className="stickiness-view">
      <BarChart title={`People by days active per ${word}`} buckets={buckets} unit={`people-${word}s`} height={compact ? 160 : 240} />
      {result.total > 0 ? (
        <p className={compact ? "muted small" : "muted"}>
          {count(result.total)} people-{word}s from {count(result.persons)} people; {percent(repeat / result.total)} active on more than one day of the {word}.
        </p>
      ) : null}
      {compact || result.total === 0 ? null : (
        <table className="stickiness-table" aria-label="Days active">
          <thead>
            <tr>
              <th>days in the {word}</th>
              <th className="num">people-{word}s</th>
              <th className="num">share</th>
            </tr>
          </thead>
          <tbody>
            {result.people.map((n, i) =>
              n > 0 ? (
                <tr key={i}>
                  <td>{i + 1}</td>
                  <td className="num">{count(n)}</td>
                  <td className="num">{percent(n / result.total)}</td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}
