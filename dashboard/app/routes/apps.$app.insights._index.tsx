import { json, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useLoaderData } from "@remix-run/react";
import { requireApp } from "../auth/guard.server";
import insightStyles from "../components/insights/insights.css?url";
import { Shell } from "../components/shell";
import { envOf } from "../context.server";
import { listSavedInsights } from "../db/insights.server";
import { INSIGHT_LABELS, insightPath, type InsightType } from "../insights/saved";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: insightStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.app.name ?? "App"} · Insights` }];

/** Each insight type with the question it answers, in the order people usually ask them. */
const TYPES: ReadonlyArray<{ type: InsightType; title: string; question: string }> = [
  { type: "trends", title: "Trends", question: "How many events, people or sessions over time; sums, averages and percentiles of a property, broken down and compared with the period before." },
  { type: "funnels", title: "Funnels", question: "Of the people who did the first step, how many went on to each next one, how fast, and who dropped where." },
  { type: "retention", title: "Retention", question: "Of the people who started in a day, week or month, how many came back in each one after." },
  { type: "paths", title: "Paths", question: "What people do most often after a chosen event or page, or before one, a few steps deep." },
  { type: "stickiness", title: "Stickiness", question: "On how many days of a week or month people come back to do something." },
];

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "data:read");
  const saved = (await listSavedInsights(env.db, viewer.orgId)).filter((s) => s.appId === app.id);
  return json({
    viewer,
    app: { id: app.id, name: app.name },
    saved: saved.map((s) => ({ id: s.id, name: s.name, description: s.description, type: s.type, href: insightPath(app.id, s.type, s.query, s.id), updatedAt: s.updatedAt })),
  });
}

export default function InsightsIndex() {
  const { viewer, app, saved } = useLoaderData<typeof loader>();
  return (
    <Shell viewer={viewer} app={app}>
      <div className="page-head">
        <h1>Insights</h1>
        <Link to="/dashboards">Dashboards</Link>
      </div>
      <div className="insight-types" role="list" aria-label="Insight types">
        {TYPES.map((t) => (
          <section key={t.type} className="card" role="listitem" aria-label={t.title}>
            <h2>
              <Link to={`/apps/${app.id}/insights/${t.type}`}>{t.title}</Link>
            </h2>
            <p className="muted">{t.question}</p>
          </section>
        ))}
      </div>
      <section className="card" aria-label="Saved insights">
        <h2>Saved insights of {app.name}</h2>
        {saved.length === 0 ? (
          <p className="muted">
            None yet. Open an insight, shape it, and save it from its page: saved insights can be put on <Link to="/dashboards">dashboards</Link>.
          </p>
        ) : (
          <ul className="saved-list">
            {saved.map((s) => (
              <li key={s.id}>
                <span className="badge">{INSIGHT_LABELS[s.type]}</span> <Link to={s.href}>{s.name}</Link>
                {s.description ? <span className="muted small"> · {s.description}</span> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <p className="muted small">Every insight&apos;s definition is in its address: copy the link to share exactly what you see.</p>
    </Shell>
  );
}
