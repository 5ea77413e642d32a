import { json, redirect, type ActionFunctionArgs, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireIntent, requirePermission } from "../auth/guard.server";
import { can, type Permission } from "../auth/permissions";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { utcMinute } from "../components/format";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { createDashboard, listDashboards, listSavedInsights } from "../db/insights.server";
import { INSIGHT_LABELS, insightPath } from "../insights/saved";
import insightStyles from "../components/insights/dashboards.css?url";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: insightStyles }];

export const meta: MetaFunction = () => [{ title: "Dashboards · edge-telemetry" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "data:read");
  const [dashboards, insights] = await Promise.all([listDashboards(env.db, viewer.orgId), listSavedInsights(env.db, viewer.orgId)]);
  return json({
    viewer,
    dashboards: dashboards.map((d) => ({ id: d.id, name: d.name, description: d.description, cards: d.layout.length, updatedAt: d.updatedAt })),
    insights,
    canEdit: can(viewer.role, "insight:update"),
  });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = { create: "insight:update" } as const satisfies Record<string, Permission>;

export async function action({ request, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const made = await createDashboard(env.db, viewer.orgId, { name: field(form, "name"), description: field(form, "description") }, viewer.email);
  if (!made.ok) return json({ error: made.reason }, { status: 400 });
  return redirect(`/dashboards/${made.value.id}`);
}

export default function DashboardsPage() {
  const { viewer, dashboards, insights, canEdit } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Shell viewer={viewer}>
      <h1>Dashboards of {viewer.orgName}</h1>
      {dashboards.length === 0 ? (
        <div className="card empty-state">
          <h2>No dashboards yet</h2>
          <p className="muted">
            A dashboard is a grid of saved insights that share one range and filters. Save an insight from its page (an app's Insights tab), then make a dashboard and add it.
          </p>
        </div>
      ) : (
        <section className="card" aria-label="Dashboards">
          <table className="dashboards">
            <thead>
              <tr>
                <th>Dashboard</th>
                <th>Description</th>
                <th className="num">Cards</th>
                <th>Changed (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {dashboards.map((d) => (
                <tr key={d.id} data-dashboard={d.id}>
                  <td>
                    <Link to={`/dashboards/${d.id}`}>{d.name}</Link>
                  </td>
                  <td>{d.description || <span className="muted">none</span>}</td>
                  <td className="num">{d.cards}</td>
                  <td className="nowrap">{utcMinute(d.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {canEdit ? (
        <section className="card">
          <h2>New dashboard</h2>
          <Form method="post" className="inline-form" aria-label="New dashboard">
            <CsrfField />
            <input type="hidden" name="intent" value="create" />
            <label>
              Name
              <input name="name" required maxLength={200} />
            </label>
            <label>
              Description
              <input name="description" maxLength={1000} size={40} />
            </label>
            <button type="submit">Create dashboard</button>
          </Form>
          <FormError result={result} />
        </section>
      ) : null}
      <section className="card" aria-label="Saved insights">
        <h2>Saved insights</h2>
        {insights.length === 0 ? (
          <p className="muted">None yet. Open an insight in an app's Insights tab and save it; it is listed here for everyone in {viewer.orgName}.</p>
        ) : (
          <table className="saved-insights">
            <thead>
              <tr>
                <th>Insight</th>
                <th>Kind</th>
                <th>App</th>
                <th>Description</th>
                <th>Saved by</th>
                <th>Changed (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {insights.map((i) => (
                <tr key={i.id} data-insight={i.id}>
                  <td>
                    <Link to={`/dashboards/insights/${i.id}`}>{i.name}</Link>
                  </td>
                  <td>
                    <Link to={insightPath(i.appId, i.type, i.query, i.id)}>{INSIGHT_LABELS[i.type]}</Link>
                  </td>
                  <td>{i.appName}</td>
                  <td>{i.description || <span className="muted">none</span>}</td>
                  <td className="small">{i.createdBy}</td>
                  <td className="nowrap">{utcMinute(i.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Shell>
  );
}
