import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { RangeFields } from "../components/range-picker";
import { Form, useLoaderData, useLocation } from "@remix-run/react";
import { ErrorCard } from "../components/error-card";
import { Choice, EventList, FilterFields, Problems } from "../components/insights/filter-fields";
import { RetentionView } from "../components/insights/retention-view";
import { InsightShell } from "../components/insights/insight-shell";
import { SaveInsight } from "../components/insights/save-insight";
import { PERIODS } from "../insights/calendar";
import { filtersText } from "../insights/filters";
import { loadInsight } from "../insights/page.server";
import { FIRST_SEEN_LOOKBACK_DAYS, parseRetention, runRetention } from "../insights/retention.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Retention` }];

export async function loader(args: LoaderFunctionArgs) {
  return json({ ...(await loadInsight(args, parseRetention, runRetention)), lookbackDays: FIRST_SEEN_LOOKBACK_DAYS });
}

export default function RetentionPage() {
  const { viewer, app, def, result, options, error, lookbackDays, canExport, tookMs, saved } = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const filters = filtersText(def.filters);
  return (
    <InsightShell viewer={viewer} app={app} title="Retention" range={def.range.key}>
      <Form method="get" className="card filters" aria-label="Retention definition">
        <RangeFields range={def.range} />
        <label>
          Cohort by
          <input name="start" defaultValue={def.start} key={`s-${def.start}`} list="insight-events" placeholder="first seen" />
        </label>
        <label>
          Coming back with
          <input name="return" defaultValue={def.returning} key={`r-${def.returning}`} list="insight-events" placeholder="any event" />
        </label>
        <Choice label="Period" name="period" value={def.period} options={PERIODS} />
        <FilterFields filters={def.filters} tz={def.tz} options={options} />
        <EventList events={options?.events ?? []} />
        <button type="submit">Apply</button>
      </Form>
      <Problems problems={def.problems} />
      <SaveInsight type="retention" appId={app.id} viewer={viewer} saved={saved} />
      {error || !result ? (
        <ErrorCard title="Could not load retention" message={error} />
      ) : (
        <section className="card" aria-label="Retention">
          <h2>
            {def.start ? `First “${def.start}”` : "First seen"} → back with {def.returning ? `“${def.returning}”` : "any event"}, by {def.period}
            {filters ? <span className="muted small"> · {filters}</span> : null}
          </h2>
          <RetentionView result={result} period={def.period} tz={def.tz} />
          <p className="muted small">
            A cohort is the people whose {def.start ? `first “${def.start}”` : "first event ever"} fell in that {def.period} ({def.tz}):{" "}
            {result.firstSeen === "profiles"
              ? "first seen over the user summaries' 365 days"
              : `looked for over the ${lookbackDays} days of raw events before the range`}
            . A cell is the share of the cohort active again in that {def.period}
            {result.returns === "sessions" ? " (in a session: events sent without a session id do not count)" : ""}; hover it for the count. Anonymous visits count for the user they later signed in as.
            {canExport ? (
              <>
                {" "}
                <a href={`/apps/${app.id}/insights/retention.csv${search}`} download>
                  Export CSV
                </a>
              </>
            ) : null}{" "}
            Read in {tookMs} ms.
          </p>
        </section>
      )}
    </InsightShell>
  );
}
