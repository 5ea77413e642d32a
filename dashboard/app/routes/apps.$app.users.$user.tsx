import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useMemo } from "react";
import { requireApp } from "../auth/guard.server";
import { can } from "../auth/permissions";
import { TimeChart } from "../components/chart";
import { ErrorCard } from "../components/error-card";
import { count, utcMinute } from "../components/format";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { Stat } from "../components/stat";
import { Timeline } from "../components/timeline";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { parseRange, rangeSearch, rangeText } from "../queries/range";
import { JOURNEY_CAP } from "../queries/caps";
import { getJourney, getProfile } from "../queries/users.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · ${data?.profile?.key ?? "User"}` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const range = parseRange(new URL(request.url));
  const { data, error } = await readOrError(async () => {
    const profile = await getProfile(env.clickhouse, app.id, params.user ?? "");
    return { profile, journey: profile ? await getJourney(env.clickhouse, app.id, profile, range) : null };
  });
  const { profile, journey } = data ?? { profile: null, journey: null };
  // Another app's user is as absent as a made-up id.
  if (!profile && !error) throw new Response("No such user in this app", { status: 404 });
  return json({ viewer, app: { id: app.id, name: app.name }, range, profile, journey, error, canExport: can(viewer.role, "data:export"), canManagePrivacy: can(viewer.role, "privacy:manage") });
}

function traitValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export default function UserPage() {
  const { viewer, app, range, profile, journey, error, canExport, canManagePrivacy } = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  const series = useMemo(() => [{ label: "events", color: "#2563eb", points: journey?.activity ?? [] }], [journey]);
  const span = useMemo(() => [range.from, range.to] as const, [range.from, range.to]);
  const traits = Object.entries(profile?.traits ?? {});
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>
          {profile?.userId ? "User" : "Anonymous user"} {profile ? <code>{profile.key}</code> : null}
        </h1>
        <Link to={`/apps/${app.id}/users?${rangeSearch(range)}`}>← Back to users</Link>
        {canManagePrivacy && profile ? (
          <Link to={`/apps/${app.id}/privacy?kind=${profile.userId ? "user" : "anonymous"}&id=${encodeURIComponent(profile.key)}`}>Export or delete this person</Link>
        ) : null}
      </div>
      {error || !profile || !journey ? (
        <ErrorCard title="Could not load this user" message={error} />
      ) : (
        <>
          <div className="stats">
            <Stat label="First seen (UTC)" value={utcMinute(profile.firstSeenMs)} />
            <Stat label="Last seen (UTC)" value={utcMinute(profile.lastSeenMs)} />
            <Stat label="Events" value={count(profile.events)} />
            <Stat label="Sessions" value={count(profile.sessions)} />
          </div>
          <div className="grid detail">
            <section className="card" aria-label="Profile">
              <h2>Profile</h2>
              <dl className="facts">
                <dt>User id</dt>
                <dd>{profile.userId || <span className="muted">not identified yet</span>}</dd>
                <dt>Anonymous ids</dt>
                <dd>{profile.anonymousIds.length > 0 ? profile.anonymousIds.join(", ") : "–"}</dd>
                <dt>Latest platform</dt>
                <dd>{profile.platform || "–"}</dd>
                <dt>Latest country</dt>
                <dd>{profile.country || "–"}</dd>
              </dl>
              <h2 className="spaced">Traits</h2>
              {traits.length === 0 ? (
                <p className="muted">No traits yet: they come with identify calls.</p>
              ) : (
                <dl className="facts" aria-label="Traits">
                  {traits.map(([k, v]) => (
                    <div key={k} className="contents">
                      <dt>{k}</dt>
                      <dd>{traitValue(v)}</dd>
                    </div>
                  ))}
                </dl>
              )}
              <h2 className="spaced">Devices</h2>
              {profile.devices.length === 0 ? (
                <p className="muted">No device details were sent.</p>
              ) : (
                <table aria-label="Devices">
                  <thead>
                    <tr>
                      <th>platform</th>
                      <th>os</th>
                      <th>model</th>
                      <th>browser</th>
                      <th>app version</th>
                    </tr>
                  </thead>
                  <tbody>
                    {profile.devices.map((d) => (
                      <tr key={`${d.platform}|${d.os}|${d.model}|${d.browser}|${d.appVersion}`}>
                        <td>{d.platform}</td>
                        <td>{d.os}</td>
                        <td>{d.model}</td>
                        <td>{d.browser}</td>
                        <td>{d.appVersion}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <div>
              <TimeChart title="Activity" series={series} span={span} height={160} fillStep={range.step} />
              <section className="card" aria-label="Journey">
                <div className="page-head">
                  <h2>Journey</h2>
                  <RangePicker current={range.key} />
                </div>
                {journey.events.length === 0 ? (
                  <p className="muted">
                    No events {rangeText(range)}; last seen {utcMinute(profile.lastSeenMs)}. Pick a longer range.
                  </p>
                ) : (
                  <>
                    {canExport ? (
                      <p className="small">
                        <a href={`/apps/${app.id}/users/${encodeURIComponent(profile.key)}/journey.csv?${params.toString()}`} download>
                          Export journey as CSV
                        </a>
                      </p>
                    ) : null}
                    <Timeline appId={app.id} events={journey.events} />
                    {journey.truncated ? <p className="muted small">Showing the newest {JOURNEY_CAP} events; pick a shorter range to see older ones in detail.</p> : null}
                  </>
                )}
              </section>
            </div>
          </div>
        </>
      )}
    </Shell>
  );
}
