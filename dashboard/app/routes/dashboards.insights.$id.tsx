import { json, redirect, type ActionFunctionArgs, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireIntent, requirePermission } from "../auth/guard.server";
import { can, type Permission } from "../auth/permissions";
import { ActionNotice } from "../components/action-notice";
import { utcMinute } from "../components/format";
import { InsightCard } from "../components/insights/insight-card";
import dashboardStyles from "../components/insights/dashboards.css?url";
import insightStyles from "../components/insights/insights.css?url";
import { IntentForm } from "../components/intent-form";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { changeCards, deleteSavedInsight, getSavedInsight, listDashboards, updateSavedInsight, type SavedInsight } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { loadCard } from "../insights/cards.server";
import { INSIGHT_LABELS } from "../insights/saved";

// Cards show the insights' own views, styled as on their pages.
export const links: LinksFunction = () => [
  { rel: "stylesheet", href: insightStyles },
  { rel: "stylesheet", href: dashboardStyles },
];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.card.insight.name ?? "Saved insight"} · Dashboards` }];

async function insightOr404(env: DashboardEnv, orgId: string, id: string | undefined): Promise<SavedInsight> {
  const i = id ? await getSavedInsight(env.db, orgId, id) : null;
  if (!i) throw new Response("No such saved insight in your organisation", { status: 404 });
  return i;
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "data:read");
  const insight = await insightOr404(env, viewer.orgId, params.id);
  const canEdit = can(viewer.role, "insight:update");
  const [card, dashboards] = await Promise.all([
    loadCard(env, viewer.orgId, insight, 2, { range: "", filters: "" }, { refresh: false, now: Date.now() }),
    canEdit ? listDashboards(env.db, viewer.orgId) : Promise.resolve([]),
  ]);
  return json({
    viewer,
    card,
    saved: { createdBy: insight.createdBy, createdAt: insight.createdAt, updatedAt: insight.updatedAt },
    dashboards: dashboards.map((d) => ({ id: d.id, name: d.name, holds: d.layout.some((c) => c.insightId === insight.id) })),
    canEdit,
  });
}

/** What each form's `intent` needs. */
export const INTENT_PERMISSIONS = { update: "insight:update", "add-to": "insight:update", delete: "insight:update" } as const satisfies Record<string, Permission>;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const insight = await insightOr404(env, viewer.orgId, params.id);
  switch (intent) {
    case "update": {
      const done = await updateSavedInsight(env.db, viewer.orgId, insight.id, { name: field(form, "name"), description: field(form, "description") });
      if (!done) throw new Response("No such saved insight in your organisation", { status: 404 });
      return done.ok ? json({ ok: `Saved as ${done.value.name}.` }) : json({ error: done.reason }, { status: 400 });
    }
    case "add-to": {
      const dashboardId = field(form, "dashboardId");
      const done = await changeCards(env.db, viewer.orgId, dashboardId, { op: "add", insightId: insight.id });
      if (!done) return json({ error: "No such dashboard in your organisation." }, { status: 404 });
      if (!done.ok) return json({ error: done.reason }, { status: 400 });
      return redirect(`/dashboards/${dashboardId}`);
    }
    case "delete":
      await deleteSavedInsight(env.db, viewer.orgId, insight.id);
      return redirect("/dashboards");
  }
}

export default function SavedInsightPage() {
  const { viewer, card, saved, dashboards, canEdit } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const { insight } = card;
  const addable = dashboards.filter((d) => !d.holds);
  return (
    <Shell viewer={viewer}>
      <p className="small">
        <Link to="/dashboards">← Dashboards</Link>
      </p>
      <h1>{insight.name}</h1>
      <p className="muted">
        {INSIGHT_LABELS[insight.type]} of {insight.appName}, saved by {saved.createdBy || "someone"} on {utcMinute(saved.createdAt)} UTC.{" "}
        <Link to={card.href}>Open it on its page</Link> to change the definition and update it from there.
      </p>
      <ActionNotice result={result} />
      <div className="cards">
        <InsightCard card={card} />
      </div>
      {canEdit ? (
        <div className="grid two dashboard-edit">
          <section className="card">
            <h2>Name and description</h2>
            <IntentForm intent="update" label="Save">
              <label>
                Name
                <input name="name" defaultValue={insight.name} required maxLength={200} />
              </label>
              <label>
                Description
                <input name="description" defaultValue={insight.description} maxLength={1000} size={40} />
              </label>
            </IntentForm>
          </section>
          <section className="card">
            <h2>Dashboards</h2>
            {addable.length === 0 ? (
              <p className="muted">{dashboards.length === 0 ? <>No dashboards yet: make one in <Link to="/dashboards">Dashboards</Link>.</> : "It is on every dashboard."}</p>
            ) : (
              <IntentForm intent="add-to" label="Add to dashboard">
                <label>
                  Dashboard
                  <select name="dashboardId">
                    {addable.map((d) => (
                      <option key={d.id} value={d.id}>
                        {d.name}
                      </option>
                    ))}
                  </select>
                </label>
              </IntentForm>
            )}
            <p />
            <IntentForm intent="delete" label="Delete saved insight" confirm={`Delete ${insight.name}? It leaves every dashboard it is on.`} danger />
          </section>
        </div>
      ) : null}
    </Shell>
  );
}
