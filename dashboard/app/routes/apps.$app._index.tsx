import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData, useRevalidator, useSearchParams } from "@remix-run/react";
import { useEffect, useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { DimFilter } from "../components/dim-filter";
import { TimeChart } from "../components/chart";
import { RangePicker } from "../components/range-picker";
import { ErrorCard } from "../components/error-card";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { TopTable } from "../components/top-table";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { hasDims, parseDims } from "../queries/dims";
import { loadDimOptions, loadOverview } from "../queries/overview.server";
import { parseRange, rangeText } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Overview` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const range = parseRange(url);
  const dims = parseDims(url);
  const started = Date.now();
  const { data, error } = await readOrError(() => Promise.all([loadOverview(env.clickhouse, app.id, range, dims), loadDimOptions(env.clickhouse, app.id, range)]));
  const [overview, options] = data ?? [null, null];
  return json({ viewer, app: { id: app.id, name: app.name }, range, dims, options, overview, error, tookMs: Date.now() - started, canExport: can(viewer.role, "data:export") });
}

const fmt = (n: number): string => n.toLocaleString("en", { maximumFractionDigits: n < 10 ? 2 : 0 });

export default function OverviewPage() {
  const { viewer, app, range, dims, options, overview, error, tookMs, canExport } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  const [params] = useSearchParams();
  const filterBy =
    (name: "platform" | "country") =>
    (key: string): string => {
      const q = new URLSearchParams(params);
      q.set(name, key);
      return `?${q.toString()}`;
    };
  // The live rate refreshes every 10 s without a reload.
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === "visible" && revalidator.state === "idle") revalidator.revalidate();
    }, 10_000);
    return () => clearInterval(id);
  }, [revalidator]);
  const eventSeries = useMemo(() => [{ label: "events", color: "#2563eb", points: overview?.events ?? [] }], [overview]);
  const eventSpan = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  // Days start at midnight UTC, before a short range does.
  const daySpan = useMemo(() => [Math.floor(range.from / 86_400) * 86_400, Math.max(range.to, Math.floor(range.from / 86_400) * 86_400 + 86_400)] as const, [range.from, range.to]);
  const userSeries = useMemo(
    () => [
      { label: "users", color: "#059669", points: overview?.users ?? [] },
      { label: "sessions", color: "#d97706", points: overview?.sessions ?? [] },
    ],
    [overview],
  );
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Overview</h1>
        <RangePicker current={range.key} />
      </div>
      <DimFilter dims={dims} options={options}>
        <span className="spacer" />
        {canExport ? (
          <a href={`/apps/${app.id}/overview.csv?${params.toString()}`} download>
            Export tables as CSV
          </a>
        ) : null}
      </DimFilter>
      {error || !overview ? (
        <ErrorCard title="Could not load the overview" message={error} />
      ) : (
        <>
          <div className="stats">
            <Stat label="Events" value={fmt(overview.totals.events)} />
            <Stat label="Users" value={fmt(overview.totals.users)} />
            <Stat label="Sessions" value={fmt(overview.totals.sessions)} />
            <Stat label="Live events/s (5 min)" value={fmt(overview.liveRate)} live />
          </div>
          {overview.totals.events === 0 ? (
            <div className="card empty-state">
              <h2>
                No events {rangeText(range)}
                {hasDims(dims) ? " with these filters" : ""}
              </h2>
              <p>
                Send some with a write key from <a href={`/apps/${app.id}/settings`}>Settings &amp; keys</a>, e.g.
              </p>
              <pre>{`curl -s <edge>/v1/track -u <write key>: -H 'content-type: application/json' \\\n  -d '{"event":"Signed Up","anonymousId":"a-1"}'`}</pre>
            </div>
          ) : null}
          <div className="grid two">
            <TimeChart title="Events" series={eventSeries} span={eventSpan} fillStep={range.step} />
            <TimeChart title="Users and sessions per day" series={userSeries} span={daySpan} fillStep={86_400} />
          </div>
          <div className="grid three">
            <TopTable title="Top events" label="event" rows={overview.topEvents} />
            <TopTable title="Top pages and screens" label="path" rows={overview.topPages} />
            <TopTable title="Countries" label="country" rows={overview.countries} linkTo={filterBy("country")} />
            <TopTable title="Platforms" label="platform" rows={overview.platforms} linkTo={filterBy("platform")} />
            <TopTable title="App versions" label="version" rows={overview.versions} />
          </div>
          <p className="muted small">Read from ClickHouse rollups in {tookMs} ms.</p>
        </>
      )}
    </Shell>
  );
}
