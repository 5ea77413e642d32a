import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { RangeFields } from "../components/range-picker";
import { Form, useLoaderData } from "@remix-run/react";
import { ErrorCard } from "../components/error-card";
import { Choice, EventList, FilterFields, Problems } from "../components/insights/filter-fields";
import { PathsView } from "../components/insights/paths-view";
import { InsightShell } from "../components/insights/insight-shell";
import { SaveInsight } from "../components/insights/save-insight";
import { count } from "../components/format";
import { filtersText } from "../insights/filters";
import { loadInsight } from "../insights/page.server";
import { MAX_DEPTH, MAX_TOP, MIN_DEPTH, NODES_PER_STEP, PATH_KINDS, type PathKind } from "../insights/paths";
import { parsePaths, pathPeopleLink, runPaths } from "../insights/paths.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Paths` }];

export async function loader(args: LoaderFunctionArgs) {
  const page = await loadInsight(args, parsePaths, runPaths);
  return json({ ...page, peopleLinks: (page.result?.paths ?? []).map((p) => pathPeopleLink(page.app.id, page.def, p.steps)) });
}

const STEP_WORD: Readonly<Record<PathKind, string>> = { pages: "page path", screens: "screen", events: "event" };

export default function PathsPage() {
  const { viewer, app, def, result, options, peopleLinks, error, tookMs, saved } = useLoaderData<typeof loader>();
  const filters = filtersText(def.filters);
  const anchor = def.start ? `after “${def.start}”` : def.end ? `before “${def.end}”` : "from the first step";
  return (
    <InsightShell viewer={viewer} app={app} title="Paths" range={def.range.key}>
      <Form method="get" className="card filters" aria-label="Paths definition">
        <RangeFields range={def.range} />
        <Choice label="Steps" name="kind" value={def.kind} options={(Object.keys(PATH_KINDS) as PathKind[]).map((k) => [k, PATH_KINDS[k]] as const)} />
        <label>
          Start at
          <input name="start" defaultValue={def.start} key={`s-${def.start}`} list={def.kind === "events" ? "insight-events" : undefined} placeholder={`a ${STEP_WORD[def.kind]}`} />
        </label>
        <label>
          or end at
          <input name="end" defaultValue={def.end} key={`e-${def.end}`} list={def.kind === "events" ? "insight-events" : undefined} placeholder={`a ${STEP_WORD[def.kind]}`} />
        </label>
        <Choice label="Steps deep" name="depth" value={def.depth} options={Array.from({ length: MAX_DEPTH - MIN_DEPTH + 1 }, (_, i) => MIN_DEPTH + i)} />
        <Choice
          label="Within"
          name="gap"
          value={def.gap}
          options={[[0, "a session"], ...[...new Set([5, 30, 60, 240, def.gap])].filter((m) => m > 0).map((m) => [m, `${m} min between steps`] as const)]}
        />
        <label>
          Top paths
          <input name="top" type="number" min={1} max={MAX_TOP} defaultValue={def.top} key={`t-${def.top}`} style={{ width: "5rem" }} />
        </label>
        <FilterFields filters={def.filters} options={options} />
        <EventList events={options?.events ?? []} />
        <button type="submit">Apply</button>
      </Form>
      <Problems problems={def.problems} />
      <SaveInsight type="paths" appId={app.id} viewer={viewer} saved={saved} />
      {error || !result ? (
        <ErrorCard title="Could not load paths" message={error} />
      ) : (
        <section className="card" aria-label="Paths">
          <h2>
            {PATH_KINDS[def.kind]} {anchor}, {def.depth} steps deep <span className="muted small">{count(result.people)} people{filters ? ` · ${filters}` : ""}</span>
          </h2>
          <PathsView result={result} peopleLinks={peopleLinks} />
          <p className="muted small">
            Each person counts once, on their first {def.gap > 0 ? `run of steps no more than ${def.gap} minutes apart` : "session"} in the range that {def.start || def.end ? "has the step" : "has steps"}; a step repeated in a row counts once. Each column shows its {NODES_PER_STEP} busiest steps and the rest as other. The people count of a path lists them in Users. Anonymous visits count for the user they later signed in as. Read in {tookMs} ms.
          </p>
        </section>
      )}
    </InsightShell>
  );
}
