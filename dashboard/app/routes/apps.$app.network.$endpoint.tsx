import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { ValueMenu } from "../components/dim-filter";
import { ErrorCard } from "../components/error-card";
import { bytes, count, millis, percent, utcTime } from "../components/format";
import { NetworkCharts } from "../components/network-charts";
import { rate, SliceTable } from "../components/network-tables";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { loadEndpoint, type FailingCall, type StatusRow } from "../queries/network-endpoint.server";
import { decodeEndpoint, endpointLabel, FAILING_CALLS_SHOWN, OUTCOME_LABELS, parseNetworkFilters } from "../queries/network-filters";
import { networkFilterOptions } from "../queries/network.server";
import { parseRange, rangeSearch, rangeText } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · ${data ? endpointLabel(data.endpoint) : "Endpoint"}` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const endpoint = decodeEndpoint(params.endpoint ?? "");
  if (!endpoint) throw new Response("No such endpoint", { status: 404 });
  const url = new URL(request.url);
  const range = parseRange(url);
  const { platform, release } = parseNetworkFilters(url);
  const started = Date.now();
  const { data, error } = await readOrError(() =>
    Promise.all([loadEndpoint(env.clickhouse, app.id, range, { platform, release }, endpoint), networkFilterOptions(env.clickhouse, app.id, range)]),
  );
  const [view, options] = data ?? [null, null];
  return json({ viewer, app: { id: app.id, name: app.name }, range, endpoint, filters: { platform, release }, view, options, error, tookMs: Date.now() - started });
}

const outcomeLabel = (o: string): string => (Object.hasOwn(OUTCOME_LABELS, o) ? OUTCOME_LABELS[o as keyof typeof OUTCOME_LABELS] : o);

function StatusTable({ rows }: { rows: readonly StatusRow[] }) {
  const total = rows.reduce((s, r) => s + r.calls, 0);
  const max = Math.max(1, ...rows.map((r) => r.calls));
  return (
    <section className="card top" aria-label="Status codes">
      <h2>Status codes</h2>
      <table>
        <thead>
          <tr>
            <th>status</th>
            <th>outcome</th>
            <th className="num">calls</th>
            <th className="num">share</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.status}-${r.outcome}`} data-status={r.status} data-outcome={r.outcome}>
              <td>
                <span className="bar" style={{ width: `${(r.calls / max) * 100}%` }} />
                <span className="bar-label">{r.status === 0 ? "no response" : r.status}</span>
              </td>
              <td>
                <span className={`badge outcome-${r.outcome}`}>{outcomeLabel(r.outcome)}</span>
              </td>
              <td className="num">{count(r.calls)}</td>
              <td className="num">{percent(total > 0 ? r.calls / total : 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function FailingCalls({ app, range, calls }: { app: string; range: string; calls: readonly FailingCall[] }) {
  return (
    <section className="card" aria-label="Recent failing calls">
      <h2>
        Recent failing calls <span className="muted small">{`newest first, at most ${FAILING_CALLS_SHOWN}`}</span>
      </h2>
      {calls.length === 0 ? (
        <p className="muted">No failing call in this range.</p>
      ) : (
        <table className="events network-failing">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>status</th>
              <th className="num">duration</th>
              <th>URL</th>
              <th>page</th>
              <th>user</th>
              <th>session</th>
              <th>release</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((c, i) => (
              <tr key={`${c.ts}-${i}`}>
                <td>{utcTime(c.ts)}</td>
                <td>
                  {c.status > 0 ? `${c.status} ` : ""}
                  <span className={`badge outcome-${c.outcome}`}>{outcomeLabel(c.outcome)}</span>
                </td>
                <td className="num">{millis(c.durationMs)}</td>
                <td className="clip" title={c.url}>
                  <code>{c.url}</code>
                </td>
                <td className="clip" title={c.page}>
                  {c.page || <span className="muted">–</span>}
                </td>
                <td className="clip">
                  {c.userKey ? (
                    <Link to={`/apps/${app}/users/${encodeURIComponent(c.userKey)}?${range}`} title={c.identified ? "user id" : "anonymous id"}>
                      {c.userKey}
                    </Link>
                  ) : (
                    <span className="muted">–</span>
                  )}
                </td>
                <td className="clip">
                  {c.sessionId ? <Link to={`/apps/${app}/sessions/${encodeURIComponent(c.sessionId)}?${range}`}>{c.sessionId}</Link> : <span className="muted">–</span>}
                </td>
                <td>{c.release || <span className="muted">–</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export default function EndpointPage() {
  const { viewer, app, range, endpoint, filters, view, options, error, tookMs } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const back = new URLSearchParams(params);
  back.set("host", endpoint.host);
  const carried = [...params].filter(([k]) => k !== "platform" && k !== "release");
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1 className="network-endpoint-title">
          <span className="badge method">{endpoint.method || "?"}</span> <span className="muted">{endpoint.host}</span>
          <code>{endpoint.template}</code>
        </h1>
        <RangePicker current={range.key} />
      </div>
      <p>
        <Link to={`/apps/${app.id}/network?${back.toString()}`}>← All endpoints of {endpoint.host || "this host"}</Link>
      </p>
      <Form method="get" className="card filters" aria-label="Filters">
        {carried.map(([k, v]) => (
          <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
        ))}
        <ValueMenu name="platform" label="Platform" value={filters.platform} values={options?.platforms ?? []} />
        <ValueMenu name="release" label="Release" value={filters.release} values={options?.releases ?? []} />
        <button type="submit">Apply</button>
      </Form>
      {error || !view ? (
        <ErrorCard title="Could not load this endpoint" message={error} />
      ) : view.totals.calls === 0 ? (
        <div className="card empty-state">
          <h2>No calls to this endpoint {rangeText(range)}</h2>
          <p className="muted">Try a longer range or fewer filters.</p>
        </div>
      ) : (
        <>
          <div className="stats">
            <Stat label="Calls" value={count(view.totals.calls)} />
            <Stat label="Error rate" value={rate(view.totals.errorRate)} />
            <Stat label="p50 latency" value={millis(view.totals.p50)} />
            <Stat label="p95 latency" value={millis(view.totals.p95)} />
            <Stat label="p99 latency" value={millis(view.totals.p99)} />
            <Stat label="Avg sent / received" value={`${bytes(view.totals.avgRequestBytes)} / ${bytes(view.totals.avgResponseBytes)}`} />
          </div>
          <p className="muted small">
            {`4xx ${count(view.totals.clientErrors)} · 5xx ${count(view.totals.serverErrors)} · failed ${count(view.totals.failed)} · timeouts ${count(view.totals.timeouts)}`}
          </p>
          <NetworkCharts points={view.series} span={span} step={view.step} />
          <div className="grid three">
            <StatusTable rows={view.statuses} />
            <SliceTable title="By release" label="release" rows={view.releases} />
            <SliceTable title="By platform" label="platform" rows={view.platforms} />
          </div>
          <FailingCalls app={app.id} range={rangeSearch(range)} calls={view.failing} />
          <p className="muted small">
            URLs are as stored: query strings and other secrets redacted at the edge. Users link to their journey; sessions to their events. Read in {tookMs} ms.
          </p>
        </>
      )}
    </Shell>
  );
}
