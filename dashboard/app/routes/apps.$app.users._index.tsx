import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { TimeChart } from "../components/chart";
import { DimFilter } from "../components/dim-filter";
import { ErrorCard } from "../components/error-card";
import { count, utcMinute } from "../components/format";
import { RangePicker } from "../components/range-picker";
import { Pager, useParamLink } from "../components/pager";
import { Shell } from "../components/shell";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { hasDims } from "../queries/dims";
import { rangeSearch, rangeText } from "../queries/range";
import { loadUsersList, parseUsersQuery } from "../queries/users-list.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Users` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const q = parseUsersQuery(new URL(request.url));
  const started = Date.now();
  const { data, error } = await readOrError(() => loadUsersList(env.clickhouse, app.id, q));
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range: q.range,
    filters: { dims: q.filters.dims, q: q.filters.q },
    onPath: q.onPath,
    dropped: q.dropped,
    options: data?.options ?? null,
    page: data?.page ?? null,
    daily: data?.daily ?? [],
    error,
    paged: q.before !== null,
    canExport: can(viewer.role, "data:export"),
    tookMs: Date.now() - started,
  });
}

export default function UsersPage() {
  const { viewer, app, range, filters, onPath, dropped, options, page, daily, error, paged, canExport, tookMs } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const series = useMemo(() => [{ label: "active users", color: "#059669", points: daily }], [daily]);
  const span = useMemo(() => {
    const day = Math.floor(range.from / 86_400) * 86_400;
    return [day, Math.max(range.to, day + 86_400)] as const;
  }, [range.from, range.to]);
  const filtered = hasDims(filters.dims) || filters.q !== "" || onPath !== null || dropped !== null;

  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Users</h1>
        <RangePicker current={range.key} />
      </div>
      {onPath ? (
        <p className="card" role="status">
          People whose path was <strong>{onPath.steps.join(" → ")}</strong> in the <Link to={`/apps/${app.id}/insights/paths?${onPath.insight}`}>paths insight</Link>.{" "}
          <Link to={`?${rangeSearch(range)}`}>All users</Link>
        </p>
      ) : null}
      {dropped ? (
        <p className="card" role="status">
          People who reached <strong>{dropped.reached}</strong> but not <strong>{dropped.missed}</strong> (step {dropped.step})
          {dropped.breakdown ? (
            <>
              {" "}
              with {dropped.breakdown.label} <strong>{dropped.breakdown.value === "" ? "(none)" : dropped.breakdown.value}</strong>
            </>
          ) : null}{" "}
          in the{" "}
          <Link to={`/apps/${app.id}/insights/funnels?${dropped.insight}`}>funnel</Link>. <Link to={`?${rangeSearch(range)}`}>All users</Link>
        </p>
      ) : null}
      <DimFilter dims={filters.dims} options={options} fields={["q"]}>
        <label>
          User or anonymous id
          <input type="search" name="q" defaultValue={filters.q} key={filters.q} placeholder="part of an id, or an exact anonymous id" />
        </label>
        <span className="spacer" />
        {canExport ? (
          <a href={`/apps/${app.id}/users.csv${withParams((q) => q.delete("before"))}`} download>
            Export CSV
          </a>
        ) : null}
      </DimFilter>
      {error || !page ? (
        <ErrorCard title="Could not load users" message={error} />
      ) : (
        <>
          <TimeChart title="Active users per day" series={series} span={span} fillStep={86_400} />
          {page.rows.length === 0 ? (
            <div className="card empty-state">
              <h2>{filtered ? "No user matches" : `No users seen ${rangeText(range)}`}</h2>
              <p className="muted">
                {filters.q
                  ? "The search matches part of a user id or anonymous id, or an anonymous id exactly. Try a longer range."
                  : "Users appear once their events arrive; identify calls give them a user id and traits."}
              </p>
            </div>
          ) : (
            <section className="card" aria-label="Users list">
              <table className="events">
                <thead>
                  <tr>
                    <th>user</th>
                    <th>last seen (UTC)</th>
                    <th>first seen (UTC)</th>
                    <th className="num">events</th>
                    <th className="num">sessions</th>
                    <th>platform</th>
                    <th>country</th>
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((u) => (
                    <tr key={u.key}>
                      <td className="clip">
                        <Link to={`/apps/${app.id}/users/${encodeURIComponent(u.key)}?${rangeSearch(range)}`}>{u.key}</Link>
                        {u.name ? <span className="muted small"> {u.name}</span> : null}
                        {u.userId ? null : <span className="muted small"> anonymous</span>}
                      </td>
                      <td>{utcMinute(u.lastSeenMs)}</td>
                      <td>{utcMinute(u.firstSeenMs)}</td>
                      <td className="num">{count(u.events)}</td>
                      <td className="num">{count(u.sessions)}</td>
                      <td>{u.platform}</td>
                      <td>{u.country}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager paged={paged} next={page.next} first="← Most recent" more="Next →" />
            </section>
          )}
          <p className="muted small">Users seen in the range; first seen, events and sessions count over the profile&apos;s whole history. Read in {tookMs} ms.</p>
        </>
      )}
    </Shell>
  );
}
