import { json, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { attributionPage } from "../attribution/page.server";
import { personPaths } from "../attribution/report.server";
import { ChannelCells, ChannelHeads, money } from "../components/attribution";
import { ErrorCard } from "../components/error-card";
import { utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { envOf } from "../context.server";
import { readOrError } from "../queries/clickhouse.server";
import { rangeSearch, rangeText } from "../queries/range";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Touch path of ${data?.person ?? "a person"}` }];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app, settings, url, q } = await attributionPage(request, env, params.app, "data:read");
  const person = (url.searchParams.get("person") ?? "").trim().slice(0, 200);
  const { data, error } = person === "" ? { data: [], error: null } : await readOrError(() => personPaths(env.clickhouse, app.id, settings, q.conversion, q.range, person));
  return json({ viewer, app: { id: app.id, name: app.name }, person, range: q.range, conversion: q.conversion, problems: q.problems, paths: data, error });
}

const credit = (v: number): string => `${(v * 100).toLocaleString("en", { maximumFractionDigits: 1 })} %`;

export default function AttributionPersonPage() {
  const { viewer, app, person, range, conversion, problems, paths, error } = useLoaderData<typeof loader>();
  const back = `/apps/${app.id}/attribution?${rangeSearch(range)}&conversion=${encodeURIComponent(conversion.id)}`;
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Touch path of {person || "a person"}</h1>
        <Link to={back}>Back to attribution</Link>
      </div>
      <p className="muted">
        Their {conversion.name.toLowerCase()} {rangeText(range)}, newest first, each with the touches credited for it and the share each model gives them. Anonymous
        touches from before they identified count as theirs.{" "}
        {person ? <Link to={`/apps/${app.id}/users/${encodeURIComponent(person)}?${rangeSearch(range)}`}>Their profile and journey</Link> : null}
      </p>
      {problems.map((p) => (
        <p key={p} className="card notice">
          {p}
        </p>
      ))}
      {error ? <ErrorCard title="Could not read the touch path" message={error} /> : null}
      {paths && paths.length === 0 && person ? (
        <p className="card muted">
          No {conversion.name.toLowerCase()} by {person} {rangeText(range)}.
        </p>
      ) : null}
      {(paths ?? []).map((p) => (
        <section key={p.at} className="card" aria-label={`Conversion at ${utcMinute(p.at)}`}>
          <h2>
            {conversion.name} at {utcMinute(p.at)} UTC{conversion.revenueProp ? ` · ${money(p.revenue, p.currency)}` : ""}
          </h2>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Touch (UTC)</th>
                  <th>Kind</th>
                  <ChannelHeads />
                </tr>
              </thead>
              <tbody>
                {p.touches.map((t, i) => (
                  <tr key={`${i}-${t.source}`}>
                    <td>{t.at === null ? "no touch in the window" : utcMinute(t.at)}</td>
                    <td>{t.at === null ? "–" : t.view ? "impression" : "click"}</td>
                    <ChannelCells channel={t} value={(m) => credit(t.credits[m])} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </Shell>
  );
}
