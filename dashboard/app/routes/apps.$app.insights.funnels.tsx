import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { rangeText } from "../queries/range";
import { RangeFields } from "../components/range-picker";
import { Form, useLoaderData, useLocation } from "@remix-run/react";
import { EVENT_TYPES } from "../../../schemas/events";
import { ErrorCard } from "../components/error-card";
import { BreakdownFields } from "../components/insights/breakdown-fields";
import { FunnelsView } from "../components/insights/funnels-view";
import { Choice, EventList, FilterFields, Problems } from "../components/insights/filter-fields";
import { InsightShell } from "../components/insights/insight-shell";
import { SaveInsight } from "../components/insights/save-insight";
import { breakdownLabel } from "../insights/breakdown";
import { loadInsight } from "../insights/page.server";
import { filtersText } from "../insights/filters";
import { isRunnable, MAX_STEPS, stepRef, windowLabel, type FunnelStep, type FunnelsDef } from "../insights/funnels";
import { parseFunnels, runFunnels } from "../insights/funnels.server";
import type { InsightOptions } from "../insights/options.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Funnel` }];

export async function loader(args: LoaderFunctionArgs) {
  return json(await loadInsight(args, parseFunnels, (cfg, appId, def) => (isRunnable(def) ? runFunnels(cfg, appId, def) : Promise.resolve(null))));
}

/** Windows the form offers; a link's other window stays selectable. */
const WINDOWS = ["5m", "30m", "1h", "6h", "1d", "3d", "7d", "14d", "30d"];

/** One step of the form: its event (or `type:page`) and one property filter; the spare row adds a step. */
function StepRow({ i, step }: { i: number; step: FunnelStep | null }) {
  const ref = step ? stepRef(step) : "";
  const props = step && step.props.length > 0 ? step.props.map((p) => `${p.key}:${p.value}`) : [""];
  return (
    <fieldset className="filters" aria-label={`Step ${i + 1}`} style={{ border: 0, padding: 0, margin: "0 0 .5rem" }}>
      <span className="muted small" style={{ minWidth: "1.5rem" }}>
        {i + 1}.
      </span>
      <label>
        {step ? "Event" : "Add a step"}
        <input name="step" defaultValue={ref} key={`s${i}-${ref}`} list="funnel-steps" placeholder={step ? "" : "event, or type:page"} style={{ width: "16rem" }} />
      </label>
      {props.map((p, j) => (
        <label key={`p${i}-${j}-${p}`}>
          Where
          <input name={`step${i + 1}_prop`} defaultValue={p} placeholder="key:value" />
        </label>
      ))}
    </fieldset>
  );
}

function Definition({ def, options }: { def: FunnelsDef; options: InsightOptions | null }) {
  const events = options?.events ?? [];
  const rows: Array<FunnelStep | null> = def.steps.length < MAX_STEPS ? [...def.steps, null] : def.steps;
  const window = `${def.window.n}${def.window.unit}`;
  return (
    <Form method="get" className="card" aria-label="Funnel definition">
      <RangeFields range={def.range} />
      {rows.map((s, i) => (
        <StepRow key={i} i={i} step={s} />
      ))}
      <datalist id="funnel-steps">
        {[...events, ...EVENT_TYPES.map((t) => `type:${t}`)].map((e) => (
          <option key={e} value={e} />
        ))}
      </datalist>
      <div className="filters">
        <Choice
          label="Conversion window"
          name="window"
          value={window}
          options={(WINDOWS.includes(window) ? WINDOWS : [window, ...WINDOWS]).map((w) => [w, windowLabel({ n: Number(w.slice(0, -1)), unit: w.slice(-1) as FunnelsDef["window"]["unit"] })] as const)}
        />
        <Choice
          label="Order"
          name="order"
          value={def.order}
          options={[
            ["loose", "loose: other steps may come between"],
            ["strict", "strict: no later step before its turn"],
          ]}
        />
        <BreakdownFields breakdown={def.breakdown} top={def.top} />
      </div>
      <div className="filters">
        <FilterFields filters={def.filters} options={options} />
        <EventList events={events} />
        <button type="submit">Apply</button>
      </div>
    </Form>
  );
}

export default function FunnelsPage() {
  const { viewer, app, def, result, options, error, canExport, tookMs, saved } = useLoaderData<typeof loader>();
  const { search } = useLocation();
  const filters = filtersText(def.filters);
  return (
    <InsightShell viewer={viewer} app={app} title="Funnel" range={def.range.key}>
      <Definition def={def} options={options} />
      <Problems problems={def.problems} />
      {isRunnable(def) ? <SaveInsight type="funnels" appId={app.id} viewer={viewer} saved={saved} /> : null}
      {error ? (
        <ErrorCard title="Could not load the funnel" message={error} />
      ) : !result ? (
        <div className="card empty-state">
          <h2>Pick the steps of a funnel</h2>
          <p className="muted">
            Two to {MAX_STEPS} events people go through in order, such as a product view, adding to cart and checking out. A step may be any event of a type
            (type:page) and may require a property (plan:pro).
          </p>
        </div>
      ) : (
        <section className="card" aria-label="Funnel">
          <h2>
            {def.steps.length} steps within {windowLabel(def.window)}, {def.order} order
            {def.breakdown.kind !== "none" ? ` · top ${def.top} by ${breakdownLabel(def.breakdown)}` : ""}
            {filters ? <span className="muted small"> · {filters}</span> : null}
          </h2>
          <FunnelsView def={def} result={result} appId={app.id} />
          <p className="muted small">
            A person is counted at a step when they did every step before it in order, all within {windowLabel(def.window)} of the first, {rangeText(def.range)}; each
            later attempt may start again from the first step. Anonymous visits count for the user they later signed in as. A breakdown value is the one on the person&apos;s
            first “{def.steps[0] ? stepRef(def.steps[0]) : ""}”. Median times are of the people who reached the step.
            {canExport ? (
              <>
                {" "}
                <a href={`/apps/${app.id}/insights/funnels.csv${search}`} download>
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
