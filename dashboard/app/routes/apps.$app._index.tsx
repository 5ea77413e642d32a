import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect, useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { TimeChart } from "../components/chart";
import { RangePicker } from "../components/range-picker";
import { ErrorCard } from "../components/error-card";
import { Shell } from "../components/shell";
import { TopTable } from "../components/top-table";
import { envOf } from "../context.server";
import { QueryError, UNREACHABLE } from "../queries/clickhouse.server";
import { loadOverview, type Overview } from "../queries/overview.server";
import { parseRange } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Overview` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const range = parseRange(new URL(request.url));
  const started = Date.now();
  let overview: Overview | null = null;
  let error: string | null = null;
  try {
    overview = await loadOverview(env.clickhouse, app.id, range);
  } catch (err) {
    // Shown in the page with the rest of the frame intact; the cause goes to the logs.
    if (!(err instanceof QueryError)) throw err;
    console.error(err.message);
    error = UNREACHABLE;
  }
  return json({ viewer, app: { id: app.id, name: app.name }, range, overview, error, tookMs: Date.now() - started });
}

const fmt = (n: number): string => n.toLocaleString("en", { maximumFractionDigits: n < 10 ? 2 : 0 });

export default function OverviewPage() {
  const { viewer, app, range, overview, error, tookMs } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
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
              <h2>No events in the last {range.key}</h2>
              <p>
                Send some with a write key from <a href={`/apps/${app.id}/settings`}>Settings &amp; keys</a>, e.g.
              </p>
              <pre>{`curl -s <edge>/v1/track -u <write key>: -H 'content-type: application/json' \\\n  -d '{"event":"Signed Up","anonymousId":"a-1"}'`}</pre>
            </div>
          ) : null}
          <div className="grid two">
            <TimeChart title="Events" series={eventSeries} span={eventSpan} />
            <TimeChart title="Users and sessions per day" series={userSeries} span={daySpan} />
          </div>
          <div className="grid three">
            <TopTable title="Top events" label="event" rows={overview.topEvents} />
            <TopTable title="Top pages and screens" label="path" rows={overview.topPages} />
            <TopTable title="Countries" label="country" rows={overview.countries} />
            <TopTable title="Platforms" label="platform" rows={overview.platforms} />
            <TopTable title="App versions" label="version" rows={overview.versions} />
          </div>
          <p className="muted small">Read from ClickHouse rollups in {tookMs} ms.</p>
        </>
      )}
    </Shell>
  );
}

function Stat({ label, value, live = false }: { label: string; value: string; live?: boolean }) {
  return (
    <div className={`card stat${live ? " live" : ""}`}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
    </div>
  );
}
