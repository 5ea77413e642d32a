import { json, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { RangeFields } from "../components/range-picker";
import { Form, useLoaderData } from "@remix-run/react";
import { EVENT_TYPES } from "../../../schemas/events";
import { ErrorCard } from "../components/error-card";
import { Choice, EventList, FilterFields, Problems } from "../components/insights/filter-fields";
import insightStyles from "../components/insights/insights.css?url";
import { InsightShell } from "../components/insights/insight-shell";
import { SaveInsight } from "../components/insights/save-insight";
import { StickinessView } from "../components/insights/stickiness-view";
import { filtersText } from "../insights/filters";
import { loadInsight } from "../insights/page.server";
import { STICKY_PERIODS, stickinessSubject } from "../insights/stickiness";
import { parseStickiness, runStickiness } from "../insights/stickiness.server";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: insightStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Stickiness` }];

export async function loader(args: LoaderFunctionArgs) {
  return json(await loadInsight(args, parseStickiness, runStickiness));
}

export default function StickinessPage() {
  const { viewer, app, def, result, options, error, tookMs, saved } = useLoaderData<typeof loader>();
  const filters = filtersText(def.filters);
  return (
    <InsightShell viewer={viewer} app={app} title="Stickiness" range={def.range.key}>
      <Form method="get" className="card filters" aria-label="Stickiness definition">
        <RangeFields range={def.range} />
        <Choice label="Type" name="type" value={def.type} options={[["", "any"], ...EVENT_TYPES]} />
        <label>
          Event
          <input name="event" defaultValue={def.event} key={`e-${def.event}`} list="insight-events" placeholder="any event" />
        </label>
        <Choice label="Days of each" name="period" value={def.period} options={Object.keys(STICKY_PERIODS)} />
        <FilterFields filters={def.filters} tz={def.tz} options={options} />
        <EventList events={options?.events ?? []} />
        <button type="submit">Apply</button>
      </Form>
      <Problems problems={def.problems} />
      <SaveInsight type="stickiness" appId={app.id} viewer={viewer} saved={saved} />
      {error || !result ? (
        <ErrorCard title="Could not load stickiness" message={error} />
      ) : (
        <section className="card" aria-label="Stickiness">
          <h2>
            Days with {stickinessSubject(def)} per {def.period}
            {filters ? <span className="muted small"> · {filters}</span> : null}
          </h2>
          <StickinessView result={result} />
          <p className="muted small">
            Each person counts once per {def.period} ({def.tz}, weeks from Monday) they did it in, by the number of days they did; the first {def.period} is read from its start, the
            last may still be running. Anonymous visits count for the user they later signed in as. Read in {tookMs} ms.
          </p>
        </section>
      )}
    </InsightShell>
  );
}
