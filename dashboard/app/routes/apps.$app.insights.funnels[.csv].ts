// The funnel as a CSV download: one line per breakdown value (or the total) and step, with its
// people, conversion, drop-off and median time from the previous step.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { rangeName } from "../queries/range";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { isRunnable, stepLabel } from "../insights/funnels";
import { parseFunnels, runFunnels, type FunnelSeries } from "../insights/funnels.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";

const COLUMNS = ["breakdown", "step", "event", "people", "of_first_step", "of_previous_step", "dropped", "median_seconds_from_previous"] as const;

const ratio = (r: number): string => r.toFixed(4);

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const def = parseFunnels(new URL(request.url));
  if (!isRunnable(def)) return new Response("A funnel needs at least two steps (step=…&step=…).", { status: 400 });
  return exportOr503(async () => {
    const result = await runFunnels(env.clickhouse, app.id, def);
    const lines = (label: string, s: FunnelSeries) =>
      s.steps.map((x, i) => ({
        breakdown: label,
        step: i + 1,
        event: def.steps[i] ? stepLabel(def.steps[i]) : "",
        people: x.people,
        of_first_step: ratio(x.fromFirst),
        of_previous_step: ratio(x.fromPrevious),
        dropped: x.dropped,
        median_seconds_from_previous: x.medianMs === null ? "" : (x.medianMs / 1000).toFixed(3),
      }));
    // With a breakdown, "(total)" comes first, then each value and "(other)".
    const rows =
      def.breakdown.kind === "none"
        ? lines("", result.total)
        : [...lines("(total)", result.total), ...result.breakdown.flatMap((b) => lines(b.other ? "(other)" : b.label === "" ? "(none)" : b.label, b))];
    return csvResponse(`${app.id}-funnel-${rangeName(def.range)}.csv`, toCsv(COLUMNS, rows));
  });
}
