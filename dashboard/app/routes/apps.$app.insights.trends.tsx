import { json, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { RangeFields } from "../components/range-picker";
import { Form, useLoaderData, useLocation } from "@remix-run/react";
import { EVENT_TYPES } from "../../../schemas/events";
import { ErrorCard } from "../components/error-card";
import { BreakdownFields } from "../components/insights/breakdown-fields";
import { Choice, EventList, FilterFields, Problems } from "../components/insights/filter-fields";
import insightStyles from "../components/insights/insights.css?url";
import { InsightShell } from "../components/insights/insight-shell";
import { SaveInsight } from "../components/insights/save-insight";
import { TrendsView } from "../components/insights/trends-view";
import { breakdownLabel } from "../insights/breakdown";
import { filtersText } from "../insights/filters";
import { loadInsight } from "../insights/page.server";
import { DISPLAYS, INTERVALS, MAX_SERIES, MEASURES, type TrendSeries } from "../insights/trends";
import { parseTrends, runTrends } from "../insights/trends.server";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: insightStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Trends` }];

export async function loader(args: LoaderFunctionArgs) {
  return json(await loadInsight(args, parseTrends, runTrends));
}

/** One series of the form; the spare row (no series yet) offers "—" as its measure. */
function SeriesRow({ i, s }: { i: number; s: TrendSeries | null }) {
  return (
    <fieldset className="trends-series" aria-label={`Series ${i + 1}`}>
      <span className="muted small trends-series-n">{i + 1}</span>
      <Choice label="Type" name={`type${i}`} value={s?.type ?? ""} options={[["", "any"], ...EVENT_TYPES]} />
      <label>
        Event
        <input name={`event${i}`} defaultValue={s?.event ?? ""} key={`e${i}-${s?.event ?? ""}`} list="insight-events" placeholder="any event" />
      </label>
      <Choice
        label="Measure"
        name={`measure${i}`}
        value={s?.measure ?? "none"}
        options={[["none", s ? "— remove —" : "— add a series —"], ...Object.entries(MEASURES).map(([k, v]) => [k, v.replace(/ of$/, " of property")] as const)]}
      />
      <label>
        Property
        <input name={`prop${i}`} defaultValue={s?.prop ?? ""} key={`p${i}-${s?.prop ?? ""}`} placeholder="for sum, average, pNN" />
      </label>
    </fieldset>
  );
}

export default function TrendsPage() {
  const { viewer, app, def, result, options, error, canExport, tookMs, saved } = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const filters = filtersText(def.filters);
  const rows: Array<TrendSeries | null> = def.series.length < MAX_SERIES ? [...def.series, null] : def.series;
  return (
    <InsightShell viewer={viewer} app={app} title="Trends" range={def.range.key}>
      <Form method="get" className="card trends-form" aria-label="Trend definition">
        <RangeFields range={def.range} />
        <div className="trends-series-list">
          {rows.map((s, i) => (
            <SeriesRow key={i} i={i} s={s} />
          ))}
        </div>
        <div className="filters">
          <BreakdownFields breakdown={def.breakdown} top={def.top} />
          <Choice label="Interval" name="interval" value={def.interval} options={Object.keys(INTERVALS)} />
          <Choice label="Display" name="display" value={def.display} options={Object.entries(DISPLAYS)} />
          <label className="toggle">
            <input type="checkbox" name="compare" value="1" defaultChecked={def.compare} key={`c-${String(def.compare)}`} />
            Compare with the period before
          </label>
        </div>
        <div className="filters">
          <FilterFields filters={def.filters} tz={def.tz} options={options} />
          <EventList events={options?.events ?? []} />
          <button type="submit">Apply</button>
        </div>
      </Form>
      <Problems problems={def.problems} />
      <SaveInsight type="trends" appId={app.id} viewer={viewer} saved={saved} />
      {error || !result ? (
        <ErrorCard title="Could not load the trend" message={error} />
      ) : (
        <section className="card" aria-label="Trend">
          <h2>
            {def.series.length} series by {def.interval}
            {def.breakdown.kind !== "none" ? ` · top ${def.top} by ${breakdownLabel(def.breakdown)}` : ""}
            {def.compare ? " · against the period before" : ""}
            {filters ? <span className="muted small"> · {filters}</span> : null}
          </h2>
          <TrendsView result={result} display={def.display} />
          <p className="muted small">
            Buckets are {def.interval}s in {def.tz}; the first and last may be partial. Unique users count a person once, anonymous visits included for the user they later signed in as.
            Percentiles are nearest-rank over the matching events&apos; values.
            {canExport ? (
              <>
                {" "}
                <a href={`/apps/${app.id}/insights/trends.csv${search}`} download>
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
