import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { ErrorCard } from "../components/error-card";
import { count, utcMinute } from "../components/format";
import { IssueStatusBadge } from "../components/issue-status";
import { Pager, useParamLink } from "../components/pager";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { Sparkline } from "../components/sparkline";
import { envOf } from "../context.server";
import { issueStates } from "../db/crash-issues.server";
import { readOrError } from "../queries/clickhouse.server";
import { issueTitle, ISSUE_SORTS, parseIssueFilters, STATUS_FILTERS, type StatusFilter } from "../queries/crash-filters";
import { issueFilterOptions, listIssues, type IssueFilterOptions } from "../queries/crashes.server";
import { parseCursor } from "../queries/cursor";
import { parseRange, rangeSearch, rangeText } from "../queries/range";
import { ValueMenu } from "../components/dim-filter";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Crashes` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const url = new URL(request.url);
  const range = parseRange(url);
  const filters = parseIssueFilters(url);
  const after = parseCursor(url.searchParams.get("before"));
  const states = await issueStates(env.db, app.id);
  const started = Date.now();
  const { data, error } = await readOrError(() => Promise.all([listIssues(env.clickhouse, app.id, range, filters, states, after), issueFilterOptions(env.clickhouse, app.id, range)]));
  const [page, options] = data ?? [null, null];
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range,
    filters,
    options,
    page: page ? { ...page, rows: page.rows.map((r) => ({ ...r, status: states.get(r.fingerprint)?.status ?? "unresolved" })) } : null,
    error,
    paged: after !== null,
    canExport: can(viewer.role, "data:export"),
    tookMs: Date.now() - started,
  });
}

function Filters({ options }: { options: IssueFilterOptions | null }) {
  const { filters } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const own = ["release", "platform", "environment", "q", "sort", "before"];
  const carried = [...params].filter(([k]) => !own.includes(k));
  return (
    <Form method="get" className="card filters" aria-label="Filters">
      {carried.map(([k, v]) => (
        <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
      ))}
      <ValueMenu name="release" label="Release" value={filters.release} values={options?.releases ?? []} />
      <ValueMenu name="platform" label="Platform" value={filters.platform} values={options?.platforms ?? []} />
      <ValueMenu name="environment" label="Environment" value={filters.environment} values={options?.environments ?? []} />
      <label>
        Search
        <input type="search" name="q" defaultValue={filters.q} key={filters.q} placeholder="type, message or culprit" />
      </label>
      <label>
        Sort by
        <select name="sort" defaultValue={filters.sort} key={filters.sort}>
          {Object.entries(ISSUE_SORTS).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Apply</button>
    </Form>
  );
}

export default function CrashesPage() {
  const { viewer, app, range, filters, options, page, error, paged, canExport, tookMs } = useLoaderData<typeof loader>();
  const withParams = useParamLink();
  const filtered = filters.release !== "" || filters.platform !== "" || filters.environment !== "" || filters.q !== "";
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Crashes</h1>
        <RangePicker current={range.key} />
      </div>
      <nav className="range" aria-label="Status">
        {(Object.keys(STATUS_FILTERS) as StatusFilter[]).map((s) => (
          <Link
            key={s}
            to={withParams((q) => {
              q.set("status", s);
              q.delete("before");
            })}
            className={s === filters.status ? "active" : ""}
            aria-current={s === filters.status ? "page" : undefined}
          >
            {STATUS_FILTERS[s]}
          </Link>
        ))}
        <span className="spacer" />
        <Link to={`/apps/${app.id}/crashes/rules`}>Grouping rules</Link>
        {canExport ? (
          <a href={`/apps/${app.id}/crashes.csv${withParams((q) => q.delete("before"))}`} download>
            Export CSV
          </a>
        ) : null}
      </nav>
      <Filters options={options} />
      {error || !page ? (
        <ErrorCard title="Could not load crashes" message={error} />
      ) : page.rows.length === 0 ? (
        <div className="card empty-state">
          <h2>{filtered || filters.status !== "unresolved" ? "No issue matches" : `No unresolved crashes ${rangeText(range)}`}</h2>
          <p className="muted">
            Crashes from our SDK and from Sentry SDKs are grouped into issues by their stack; try another status, a longer range or fewer filters.
          </p>
        </div>
      ) : (
        <section className="card" aria-label="Issues">
          <table className="events issues">
            <thead>
              <tr>
                <th>issue</th>
                <th>trend</th>
                <th className="num">events</th>
                <th className="num">users</th>
                <th>first seen</th>
                <th>last seen</th>
                <th>releases</th>
                <th>platforms</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((r) => (
                <tr key={r.fingerprint} data-fingerprint={r.fingerprint}>
                  <td className="clip" style={{ maxWidth: "26rem" }}>
                    <IssueStatusBadge status={r.status} />{" "}
                    <Link to={`/apps/${app.id}/crashes/${encodeURIComponent(r.fingerprint)}?${rangeSearch(range)}`}>
                      <strong>{r.type}</strong>
                      {r.message ? `: ${r.message}` : ""}
                    </Link>
                    <div className="muted small">
                      {r.culprit || "no stack"}
                      {r.fatal > 0 ? ` · ${count(r.fatal)} fatal` : ""}
                      {r.dropped > 0 ? ` · ${count(r.dropped)} dropped` : ""}
                    </div>
                  </td>
                  <td>
                    <Sparkline points={r.trend} width={96} label={`${issueTitle(r)}: ${r.trend.join(", ")} per bucket`} />
                  </td>
                  <td className="num">{count(r.events)}</td>
                  <td className="num">{count(r.users)}</td>
                  <td className="small" style={{ whiteSpace: "nowrap" }}>{utcMinute(r.firstSeenMs)}</td>
                  <td className="small" style={{ whiteSpace: "nowrap" }}>{utcMinute(r.lastSeenMs)}</td>
                  <td className="small">{r.releases.slice(0, 3).join(", ") + (r.releases.length > 3 ? ` +${r.releases.length - 3}` : "")}</td>
                  <td className="small">{r.platforms.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager paged={paged} next={page.next} first="← First page" more="Next →" />
        </section>
      )}
      <p className="muted small">
        Times are UTC. Events, users and last seen count the range and filters{range.key === "1h" ? " (over whole hours: the last hour and the one it started in)" : ""}; first seen is the
        issue&apos;s first crash ever. Read in {tookMs} ms.
      </p>
    </Shell>
  );
}
