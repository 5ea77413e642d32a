import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ValueMenu } from "../components/dim-filter";
import { ErrorCard } from "../components/error-card";
import { bytes, count, millis } from "../components/format";
import { NetworkCharts } from "../components/network-charts";
import { EndpointTable, rate, WorstPanel } from "../components/network-tables";
import { useParamLink } from "../components/pager";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { ENDPOINTS_SHOWN, isFiltered, NETWORK_FILTER_NAMES, parseNetworkFilters, WORST_MIN_CALLS } from "../queries/network-filters";
import { loadNetwork, networkFilterOptions, type NetworkFilterOptions } from "../queries/network.server";
import { parseRange } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Network` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const range = parseRange(url);
  const filters = parseNetworkFilters(url);
  const started = Date.now();
  const { data, error } = await readOrError(() => Promise.all([loadNetwork(env.clickhouse, app.id, range, filters), networkFilterOptions(env.clickhouse, app.id, range)]));
  const [view, options] = data ?? [null, null];
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range,
    filters,
    options,
    view,
    error,
    canExport: can(viewer.role, "data:export"),
    canEditTemplates: can(viewer.role, "app:update"),
    tookMs: Date.now() - started,
  });
}

function Filters({ options }: { options: NetworkFilterOptions | null }) {
  const { filters } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const own: readonly string[] = NETWORK_FILTER_NAMES;
  const carried = [...params].filter(([k]) => !own.includes(k));
  const cleared = new URLSearchParams(params);
  for (const k of own) cleared.delete(k);
  return (
    <Form method="get" className="card filters" aria-label="Filters">
      {carried.map(([k, v]) => (
        <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
      ))}
      <ValueMenu name="platform" label="Platform" value={filters.platform} values={options?.platforms ?? []} />
      <ValueMenu name="release" label="Release" value={filters.release} values={options?.releases ?? []} />
      <ValueMenu name="host" label="Host" value={filters.host} values={options?.hosts ?? []} />
      <ValueMenu name="method" label="Method" value={filters.method} values={options?.methods ?? []} />
      <button type="submit">Apply</button>
      {isFiltered(filters) ? <Link to={`?${cleared.toString()}`}>Clear filters</Link> : null}
    </Form>
  );
}

function EmptyState({ filtered, range }: { filtered: boolean; range: string }) {
  return (
    <div className="card empty-state">
      <h2>{filtered ? "No calls match these filters" : `No network calls in the last ${range}`}</h2>
      {filtered ? (
        <p className="muted">Try fewer filters or a longer range.</p>
      ) : (
        <>
          <p>Network calls reach this page two ways:</p>
          <ul>
            <li>
              Our SDK records the app&apos;s <code>fetch</code> and <code>XMLHttpRequest</code> calls by itself in the browser and in React Native (on by default;{" "}
              <code>capture: {"{ network: false }"}</code> turns it off, <code>sampling: {"{ network: 0.1 }"}</code> keeps a share), never its own; <code>network(…)</code>{" "}
              records a call by hand, from Node too.
            </li>
            <li>
              Sentry SDKs with tracing send <code>http.client</code> spans, which the Sentry intake stores as network calls.
            </li>
          </ul>
          <p className="muted">
            Query strings are redacted at the edge, and paths are grouped into templates (<code>/orders/:id</code>) so each endpoint is one row.
          </p>
        </>
      )}
    </div>
  );
}

export default function NetworkPage() {
  const { viewer, app, range, filters, options, view, error, canExport, canEditTemplates, tookMs } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Network</h1>
        <RangePicker current={range.key} />
      </div>
      <nav className="range" aria-label="Network pages">
        <span className="spacer" />
        <Link to={`/apps/${app.id}/network/templates`}>{canEditTemplates ? "URL templates" : "URL templates (read-only)"}</Link>
        {canExport ? (
          <a href={`/apps/${app.id}/network.csv${withParams(() => {})}`} download>
            Export CSV
          </a>
        ) : null}
      </nav>
      <Filters options={options} />
      {error || !view ? (
        <ErrorCard title="Could not load network calls" message={error} />
      ) : view.totals.calls === 0 ? (
        <EmptyState filtered={isFiltered(filters)} range={range.key} />
      ) : (
        <>
          <div className="stats">
            <Stat label="Calls" value={count(view.totals.calls)} />
            <Stat label="Error rate" value={rate(view.totals.errorRate)} />
            <Stat label="p50 / p95 latency" value={`${millis(view.totals.p50)} / ${millis(view.totals.p95)}`} />
            <Stat label="Endpoints" value={count(view.endpointCount)} />
          </div>
          <NetworkCharts points={view.series} span={span} step={view.step} />
          <div className="grid two">
            <WorstPanel
              app={app.id}
              title="Highest error rate"
              rows={view.worstByErrors}
              figure="error rate"
              value={(r) => rate(r.errorRate)}
              empty={`No endpoint with ${WORST_MIN_CALLS} or more calls had errors.`}
            />
            <WorstPanel
              app={app.id}
              title="Slowest (p95)"
              rows={view.worstByLatency}
              figure="p95"
              value={(r) => millis(r.p95)}
              empty={`No endpoint had ${WORST_MIN_CALLS} or more calls.`}
            />
          </div>
          <section className="card" aria-label="Endpoints">
            <h2>
              Endpoints{" "}
              <span className="muted small">
                {view.endpointCount > view.endpoints.length ? `the first ${ENDPOINTS_SHOWN} of ${count(view.endpointCount)}` : `${count(view.endpointCount)} in this range`}
              </span>
            </h2>
            <EndpointTable app={app.id} rows={view.endpoints} sort={filters.sort} />
          </section>
          <p className="muted small">
            Calls are grouped by method, host and path template. The error rate counts every call that did not end ok: 4xx and 5xx answers, calls that failed without an answer
            (offline, blocked, aborted) and timeouts. The worst lists take endpoints with at least {WORST_MIN_CALLS} calls. Latency percentiles are within 1 %; sizes average
            over every call, counting calls that did not report a size as 0 (over all endpoints, {bytes(view.totals.avgRequestBytes)} sent and{" "}
            {bytes(view.totals.avgResponseBytes)} received per call). Times are UTC{range.key === "1h" ? ", over whole hours" : ""}. Read in {tookMs} ms.
          </p>
        </>
      )}
    </Shell>
  );
}
