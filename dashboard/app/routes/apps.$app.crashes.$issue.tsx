import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { TimeChart } from "../components/chart";
import { ErrorCard } from "../components/error-card";
import { count, percent, utcMinute, utcTime } from "../components/format";
import { IssueStateForm } from "../components/issue-state-form";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { StackTrace } from "../components/stack-trace";
import { Stat } from "../components/stat";
import { Timeline } from "../components/timeline";
import { envOf } from "../context.server";
import { issueStateAction } from "../crashes/issue-state.server";
import { issueHistory, issueState, listRules } from "../db/crash-issues.server";
import { readOrError } from "../queries/clickhouse.server";
import { TAGS, type TagName } from "../queries/crash-detail";
import { loadIssuePage, type CrashEvent } from "../queries/crash-issue.server";
import { parseRange, rangeSearch, rangeText, rangeName } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · ${data?.issue ? `${data.issue.type}: ${data.issue.message}` : "Issue"}` }];

export const action = issueStateAction;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const range = parseRange(new URL(request.url));
  const fp = (params.issue ?? "").slice(0, 256);
  const { data, error } = await readOrError(() => loadIssuePage(env.clickhouse, app.id, fp, range));
  // Another app's issue is as absent as a made-up fingerprint.
  if (data === null && !error) throw new Response("No such issue in this app", { status: 404 });
  const [state, history, rules] = await Promise.all([issueState(env.db, app.id, fp), issueHistory(env.db, app.id, fp), listRules(env.db, app.id)]);
  const ruleId = data?.events.latest?.detail.rule ?? "";
  const rule = ruleId ? (rules.find((r) => r.id === ruleId) ?? null) : null;
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    range,
    issue: data?.issue ?? null,
    series: data?.series ?? [],
    tags: data?.tags ?? null,
    events: data?.events ?? null,
    users: data?.users ?? [],
    dropped: data?.dropped ?? null,
    releases: data?.releases ?? [],
    trail: data?.trail ?? [],
    rule: ruleId ? { id: ruleId, label: rule?.label ?? "", exists: rule !== null } : null,
    state,
    history,
    error,
    canUpdate: can(viewer.role, "issue:update"),
  });
}

function CrashFacts({ appId, crash }: { appId: string; crash: CrashEvent }) {
  const facts: Array<[string, string]> = [
    ["When (UTC)", utcTime(crash.ts)],
    ["Release", crash.release],
    ["Environment", crash.detail.environment],
    ["Platform", crash.platform],
    ["OS", crash.os],
    ["Device", crash.device],
    ["Browser", crash.browser],
    ["Country", crash.country],
    ["Handled", crash.detail.handled === null ? "" : crash.detail.handled ? "yes" : "no"],
    ["Fatal", crash.fatal ? "yes" : "no"],
  ];
  return (
    <dl className="facts">
      {facts
        .filter(([, v]) => v !== "")
        .map(([k, v]) => (
          <div key={k} className="contents">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      <dt>Event</dt>
      <dd>
        <Link to={`/apps/${appId}/events/${encodeURIComponent(crash.messageId)}`}>
          <code className="small">{crash.messageId}</code>
        </Link>
      </dd>
    </dl>
  );
}

function TagTable({ name, values }: { name: TagName; values: ReadonlyArray<{ value: string; n: number; share: number }> }) {
  return (
    <div>
      <h3 className="small">{TAGS[name]}</h3>
      {values.length === 0 ? (
        <p className="muted small">not sent</p>
      ) : (
        <table aria-label={`Tag ${TAGS[name]}`}>
          <tbody>
            {values.map((v) => (
              <tr key={v.value}>
                <td>
                  <span className="bar" style={{ width: `${v.share * 100}%` }} />
                  <span className="bar-label">{v.value}</span>
                </td>
                <td className="num" style={{ width: "5rem" }}>
                  {count(v.n)}
                </td>
                <td className="num" style={{ width: "5rem" }}>
                  {percent(v.share)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export default function IssuePage() {
  const { viewer, app, range, issue, series, tags, events, users, dropped, releases, trail, rule, state, history, error, canUpdate } = useLoaderData<typeof loader>();
  const chart = useMemo(() => [{ label: "crashes", color: "#dc2626", points: series }], [series]);
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const latest = events?.latest ?? null;
  const first = events?.first ?? null;
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <Link to={`/apps/${app.id}/crashes?${rangeSearch(range)}`}>← Back to crashes</Link>
        <RangePicker current={range.key} />
      </div>
      {error || !issue ? (
        <ErrorCard title="Could not load this issue" message={error} />
      ) : (
        <>
          <h1 style={{ marginBottom: ".2rem", overflowWrap: "anywhere" }}>
            {issue.type}
            {issue.message ? <span style={{ fontWeight: 400 }}>: {issue.message}</span> : null}
          </h1>
          <p className="muted" style={{ marginTop: 0 }}>
            {issue.culprit ? <code>{issue.culprit}</code> : "no stack frames"} · fingerprint <code>{issue.fingerprint}</code>
          </p>
          {rule ? (
            <p className="notice small" role="note">
              Grouped by rule {rule.label ? <strong>{rule.label}</strong> : <code>{rule.id}</code>}
              {rule.exists ? "" : " (since removed)"}: crashes it matched were put in this issue; changing the rule applies to new crashes only.
            </p>
          ) : null}
          <IssueStateForm state={state} releases={releases} canUpdate={canUpdate} />
          <div className="stats">
            <Stat label={`Events (${rangeName(range)})`} value={count(issue.events)} />
            <Stat label={`Users (${rangeName(range)})`} value={count(issue.users)} />
            <Stat label="First seen (UTC)" value={`${utcMinute(issue.firstSeenMs)}${issue.firstRelease ? ` in ${issue.firstRelease}` : ""}`} />
            <Stat label="Last seen (UTC)" value={utcMinute(issue.lastSeenMs)} />
            <Stat label="Events, all time" value={count(issue.totalEvents)} />
          </div>
          {dropped && dropped.issueCap + dropped.appCap > 0 ? (
            <p className="notice" role="status" aria-label="Dropped crashes">
              {dropped.issueCap > 0 ? `${count(dropped.issueCap)} crashes dropped by the crash-loop cap` : ""}
              {dropped.issueCap > 0 && dropped.appCap > 0 ? "; " : ""}
              {dropped.appCap > 0 ? `${count(dropped.appCap)} dropped by the app's crash budget` : ""} {rangeText(range)}: counted here, not stored.
            </p>
          ) : null}
          <TimeChart title="Occurrences" series={chart} span={span} height={160} fillStep={range.step} />
          <div className="grid detail">
            <div>
              <section className="card" aria-label="Latest crash">
                <h2>Latest crash</h2>
                {latest ? (
                  <>
                    <CrashFacts appId={app.id} crash={latest} />
                    <h3>Stack trace</h3>
                    <StackTrace frames={latest.detail.frames} />
                    <h3>Breadcrumbs</h3>
                    {trail.length === 0 && latest.detail.breadcrumbs.length === 0 ? (
                      <p className="muted small">{latest.sessionId ? "Nothing happened in this session in the hour before the crash." : "This crash named no session."}</p>
                    ) : null}
                    {trail.length > 0 ? (
                      <div aria-label="Session before the crash">
                        <p className="muted small">The user&apos;s last {trail.length} events of this session before the crash:</p>
                        <Timeline appId={app.id} events={trail} />
                      </div>
                    ) : null}
                    {latest.detail.breadcrumbs.length > 0 ? (
                      <table aria-label="Sentry breadcrumbs" className="small">
                        <thead>
                          <tr>
                            <th>time (UTC)</th>
                            <th>category</th>
                            <th>level</th>
                            <th>message</th>
                          </tr>
                        </thead>
                        <tbody>
                          {latest.detail.breadcrumbs.map((b, i) => (
                            <tr key={i}>
                              <td>{b.ts === null ? "" : utcTime(b.ts)}</td>
                              <td>{b.category}</td>
                              <td>{b.level}</td>
                              <td className="clip">{[b.message, b.data].filter(Boolean).join(" ")}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    ) : null}
                  </>
                ) : (
                  <p className="muted">No crash of this issue {rangeText(range)} is still stored in full (raw crashes are kept 90 days). Pick another range.</p>
                )}
              </section>
              {first ? (
                <section className="card" aria-label="First crash of the range">
                  <h2>First crash of the range</h2>
                  <p className="muted small">The crash that opened this issue&apos;s run in the range, to compare with the latest.</p>
                  <CrashFacts appId={app.id} crash={first} />
                  <details>
                    <summary>Stack trace</summary>
                    <StackTrace frames={first.detail.frames} />
                  </details>
                </section>
              ) : null}
            </div>
            <div>
              <section className="card top" aria-label="Tags">
                <h2>Tags</h2>
                {tags ? (Object.keys(TAGS) as TagName[]).map((t) => <TagTable key={t} name={t} values={tags[t]} />) : null}
              </section>
              <section className="card" aria-label="Affected users">
                <h2>Affected users</h2>
                <p className="muted small">Each links to the user&apos;s profile and journey.</p>
                {users.length === 0 ? (
                  <p className="muted small">These crashes carried no user or anonymous id.</p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th>user</th>
                        <th className="num">crashes</th>
                        <th>last (UTC)</th>
                      </tr>
                    </thead>
                    <tbody>
                      {users.map((u) => (
                        <tr key={u.key}>
                          <td className="clip">
                            <Link to={`/apps/${app.id}/users/${encodeURIComponent(u.key)}?${rangeSearch(range)}`}>{u.key}</Link>
                            {u.identified ? null : <span className="muted small"> anonymous</span>}
                          </td>
                          <td className="num">{count(u.crashes)}</td>
                          <td>{utcMinute(u.lastMs)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section className="card" aria-label="History">
                <h2>History</h2>
                {history.length === 0 ? (
                  <p className="muted small">Nobody has changed this issue&apos;s state yet.</p>
                ) : (
                  <ol className="small" style={{ paddingLeft: "1.2rem" }}>
                    {history.map((h, i) => (
                      <li key={i}>
                        {utcMinute(h.at)} · <strong>{h.detail || h.status}</strong> · {h.by || "system"}
                      </li>
                    ))}
                  </ol>
                )}
              </section>
            </div>
          </div>
        </>
      )}
    </Shell>
  );
}
