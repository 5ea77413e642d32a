// The people who dropped at a funnel's step, for the users view: its URL carries the funnel's
// whole definition (`funnel=<query string>`) and the step (`dropped=2`), and the list narrows
// to a subquery that re-runs the funnel, so no list of ids travels in a link.
import type { Params } from "../queries/clickhouse.server";
import { funnelPeopleSql } from "./funnel-sql.server";
import { breakdownLabel } from "./breakdown";
import { isRunnable, parseFunnels, stepLabel, toFunnelsSearch } from "./funnels";

/** People the users view can narrow to for one step's drop-off, at most. */
export const DROPPED_CAP = 10_000;

export interface Dropouts {
  /** The step they did not reach (2 ≤ step ≤ steps) and the one before, in words. */
  step: number;
  missed: string;
  reached: string;
  /** The funnel's query string, for a link back to it. */
  insight: string;
  /** Narrowed to one breakdown value: the breakdown in words and the value; else null. */
  breakdown: { label: string; value: string } | null;
  people: { sql: string; params: Params };
}

/** The drop-off a users view URL asks for (`droppedPeopleLink`); null when it names none or no such step. */
export function funnelDropouts(url: URL, now = Date.now()): Dropouts | null {
  const raw = url.searchParams.get("funnel");
  const step = Number(url.searchParams.get("dropped"));
  if (raw === null) return null;
  const def = parseFunnels(new URL(`http://x/?${raw}`), now);
  const missed = def.steps[step - 1];
  const reached = def.steps[step - 2];
  if (!isRunnable(def) || !Number.isInteger(step) || !missed || !reached) return null;
  const value = def.breakdown.kind === "none" ? null : url.searchParams.get("value");
  return {
    step,
    missed: stepLabel(missed),
    reached: stepLabel(reached),
    insight: toFunnelsSearch(def),
    breakdown: value === null ? null : { label: breakdownLabel(def.breakdown), value },
    people: funnelPeopleSql(def, step - 1, DROPPED_CAP, value),
  };
}
