import { json, redirect, type ActionFunctionArgs, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/cloudflare";
import { Form, Link, useActionData, useLoaderData, useRevalidator, useSearchParams } from "@remix-run/react";
import { useEffect, useState } from "react";
import { requireIntent, requirePermission } from "../auth/guard.server";
import { can, type Permission } from "../auth/permissions";
import { CsrfField } from "../components/csrf";
import { FormError } from "../components/form-error";
import { InsightCard } from "../components/insights/insight-card";
import dashboardStyles from "../components/insights/dashboards.css?url";
import insightStyles from "../components/insights/insights.css?url";
import { IntentForm } from "../components/intent-form";
import { RangePicker } from "../components/range-picker";
import { Shell } from "../components/shell";
import { envOf, field } from "../context.server";
import { changeCards, deleteDashboard, getDashboard, getSavedInsights, listSavedInsights, noteDashboardViewed, renameDashboard, setDashboardScope, type Dashboard } from "../db/insights.server";
import type { DashboardEnv } from "../env.server";
import { loadCards, WARM_EVERY_MS } from "../insights/cards.server";
import { INSIGHT_LABELS, scopeFromUrl, type DashboardScope, type LayoutChange } from "../insights/saved";
import { DEFAULT_RANGE } from "../queries/range";

// Cards show the insights' own views, styled as on their pages.
export const links: LinksFunction = () => [
  { rel: "stylesheet", href: insightStyles },
  { rel: "stylesheet", href: dashboardStyles },
];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.dashboard.name ?? "Dashboard"} · Dashboards` }];

async function dashboardOr404(env: DashboardEnv, orgId: string, id: string | undefined): Promise<Dashboard> {
  const d = id ? await getDashboard(env.db, orgId, id) : null;
  if (!d) throw new Response("No such dashboard in your organisation", { status: 404 });
  return d;
}

/** How long the page waits for a card that has no result yet before showing it as computing. */
const COLD_CARD_WAIT_MS = 1500;

/**
 * The cards as the page shows them under `scope`; `refresh` skips the cache; with `background`,
 * older results show while fresh ones compute, and a card with none shows as computing after
 * COLD_CARD_WAIT_MS.
 */
async function cardsOf(env: DashboardEnv, orgId: string, d: Dashboard, scope: DashboardScope, refresh: boolean, background?: (work: Promise<unknown>) => void) {
  const insights = await getSavedInsights(env.db, orgId, d.layout.map((c) => c.insightId));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const until = background ? new Promise<void>((done) => (timer = setTimeout(done, COLD_CARD_WAIT_MS))) : undefined;
  try {
    return await loadCards(env, orgId, d.layout, insights, scope, { refresh, now: Date.now(), background, until });
  } finally {
    clearTimeout(timer);
  }
}

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const viewer = await requirePermission(request, env, "data:read");
  const d = await dashboardOr404(env, viewer.orgId, params.id);
  const scope = scopeFromUrl(new URL(request.url), d.scope);
  const canEdit = can(viewer.role, "insight:update");
  const [cards, all] = await Promise.all([
    cardsOf(env, viewer.orgId, d, scope, false, context.cloudflare.waitUntil),
    canEdit ? listSavedInsights(env.db, viewer.orgId) : Promise.resolve([]),
    // Opened dashboards are the ones the cron keeps warm.
    noteDashboardViewed(env.db, viewer.orgId, d.id, Date.now()),
  ]);
  const onBoard = new Set(d.layout.map((c) => c.insightId));
  return json({
    viewer,
    dashboard: { id: d.id, name: d.name, description: d.description, saved: d.scope },
    scope,
    cards,
    addable: all.filter((i) => !onBoard.has(i.id)).map((i) => ({ id: i.id, label: `${i.name} (${INSIGHT_LABELS[i.type]}, ${i.appName})` })),
    canEdit,
    warmMinutes: WARM_EVERY_MS / 60_000,
  });
}

/** What each form's `intent` needs: reading may refresh, changing needs insight:update. */
export const INTENT_PERMISSIONS = {
  refresh: "data:read",
  rename: "insight:update",
  "save-scope": "insight:update",
  add: "insight:update",
  remove: "insight:update",
  up: "insight:update",
  down: "insight:update",
  wide: "insight:update",
  narrow: "insight:update",
  delete: "insight:update",
} as const satisfies Record<string, Permission>;

export async function action({ request, params, context }: ActionFunctionArgs) {
  const env = envOf(context);
  const { viewer, form, intent } = await requireIntent(request, env, INTENT_PERMISSIONS);
  const d = await dashboardOr404(env, viewer.orgId, params.id);
  const url = new URL(request.url);
  const here = `${url.pathname}${url.search}`;
  const insightId = field(form, "insightId");
  const cardChange: Partial<Record<typeof intent, LayoutChange>> = {
    add: { op: "add", insightId },
    remove: { op: "remove", insightId },
    up: { op: "move", insightId, by: -1 },
    down: { op: "move", insightId, by: 1 },
    wide: { op: "resize", insightId, w: 2 },
    narrow: { op: "resize", insightId, w: 1 },
  };
  const change = cardChange[intent];
  if (change) {
    const done = await changeCards(env.db, viewer.orgId, d.id, change);
    if (!done?.ok) return json({ error: done?.reason ?? "No such dashboard." }, { status: 400 });
    return redirect(here);
  }
  switch (intent) {
    case "refresh":
      // Run every card now and keep the results, then show them through the cache as a reload would.
      await cardsOf(env, viewer.orgId, d, scopeFromUrl(url, d.scope), true);
      return redirect(here);
    case "rename": {
      const done = await renameDashboard(env.db, viewer.orgId, d.id, { name: field(form, "name"), description: field(form, "description") });
      if (!done?.ok) return json({ error: done?.reason ?? "No such dashboard." }, { status: 400 });
      return redirect(here);
    }
    case "save-scope":
      // What the URL shows becomes what the dashboard opens with.
      await setDashboardScope(env.db, viewer.orgId, d.id, scopeFromUrl(url, d.scope));
      return redirect(url.pathname);
    case "delete":
      await deleteDashboard(env.db, viewer.orgId, d.id);
      return redirect("/dashboards");
    default:
      return json({ error: "Unknown action" }, { status: 400 });
  }
}

const FILTER_FIELDS = [
  { name: "platform", label: "Platform", placeholder: "any" },
  { name: "country", label: "Country", placeholder: "any" },
  { name: "release", label: "Release", placeholder: "any" },
  { name: "prop", label: "Property", placeholder: "key:value" },
  { name: "tz", label: "Time zone", placeholder: "UTC" },
] as const;

/** The shared filters, as the URL carries them; every other parameter is kept. */
function ScopeFilters({ filters }: { filters: string }) {
  const [params] = useSearchParams();
  const current = new URLSearchParams(filters);
  const names: readonly string[] = FILTER_FIELDS.map((f) => f.name);
  return (
    <Form method="get" className="card dashboard-filters" aria-label="Dashboard filters">
      {[...params].filter(([k]) => !names.includes(k)).map(([k, v]) => (
        <input key={`${k}=${v}`} type="hidden" name={k} value={v} />
      ))}
      {FILTER_FIELDS.map((f) => (
        <label key={f.name}>
          {f.label}
          <input name={f.name} defaultValue={current.get(f.name) ?? ""} placeholder={f.placeholder} key={`${f.name}-${current.get(f.name) ?? ""}`} />
        </label>
      ))}
      <button type="submit">Apply to every card</button>
    </Form>
  );
}

/** The URL with no shared range: `range=` (empty) overrides a saved one, so each card keeps its own. */
function ownRange(params: URLSearchParams): string {
  const next = new URLSearchParams(params);
  next.set("range", "");
  return next.toString();
}

function CardActions({ id, first, last, w }: { id: string; first: boolean; last: boolean; w: 1 | 2 }) {
  const button = (intent: string, label: string, title: string, danger = false) => (
    <Form method="post" aria-label={title}>
      <CsrfField />
      <input type="hidden" name="intent" value={intent} />
      <input type="hidden" name="insightId" value={id} />
      <button type="submit" title={title} className={danger ? "danger" : ""}>
        {label}
      </button>
    </Form>
  );
  return (
    <div className="card-actions">
      {first ? null : button("up", "↑", "Move card up")}
      {last ? null : button("down", "↓", "Move card down")}
      {w === 1 ? button("wide", "⇔", "Make card wide") : button("narrow", "⇐", "Make card narrow")}
      {button("remove", "✕", "Remove card", true)}
    </div>
  );
}

// Cards shown with an older result are read again this often until their fresh results are in,
// at most this many times (about a minute), so a card whose refresh failed does not poll forever.
const RELOAD_MS = 1500;
const MAX_RELOADS = 40;

/** Reloads the cards while some show an older result that is being computed again, or none yet. */
function useReloadWhileRefreshing(refreshing: boolean): void {
  const revalidator = useRevalidator();
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    if (!refreshing || reloads >= MAX_RELOADS || revalidator.state !== "idle") return;
    const timer = setTimeout(() => {
      setReloads((n) => n + 1);
      revalidator.revalidate();
    }, RELOAD_MS);
    return () => clearTimeout(timer);
  }, [refreshing, reloads, revalidator]);
}

export default function DashboardPage() {
  const { viewer, dashboard, scope, cards, addable, canEdit, warmMinutes } = useLoaderData<typeof loader>();
  useReloadWhileRefreshing(cards.some((c) => c.refreshing));
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const differs = scope.range !== dashboard.saved.range || scope.filters !== dashboard.saved.filters;
  return (
    <Shell viewer={viewer}>
      <div className="page-head">
        <div>
          <h1>{dashboard.name}</h1>
          {dashboard.description ? <p className="muted">{dashboard.description}</p> : null}
        </div>
        <div className="inline-form">
          <div className={scope.range ? "dashboard-range" : "dashboard-range unset"}>
            <RangePicker current={scope.range || DEFAULT_RANGE} days={false} />
            <Link to={`?${ownRange(params)}`} className={scope.range ? "" : "active"} aria-current={scope.range ? undefined : "page"} title="Each card keeps the range it was saved with">
              each card&apos;s own
            </Link>
          </div>
          <IntentForm intent="refresh" label="Refresh" title="Refresh every card" />
        </div>
      </div>
      <p className="small muted">
        {scope.range ? `Every card shows the last ${scope.range}` : "Each card shows its own range"}
        {scope.filters ? `, filtered to ${scope.filters.replaceAll("&", ", ").replaceAll("=", " ")}` : ""}. Results are kept for a minute; an older one shows with its time while the card reads a fresh one. While people open this dashboard, its cards are computed every {warmMinutes} minutes under its own range and filters, so it opens at once. Refresh reads them all again now.{" "}
        {canEdit && differs ? (
          <Form method="post" action={`?${params.toString()}`} style={{ display: "inline" }}>
            <CsrfField />
            <input type="hidden" name="intent" value="save-scope" />
            <button type="submit" className="link-button">
              Open with this range and these filters
            </button>
          </Form>
        ) : null}
      </p>
      <ScopeFilters filters={scope.filters} />
      <FormError result={result} />
      {cards.length === 0 ? (
        <div className="card empty-state">
          <h2>No cards yet</h2>
          <p className="muted">{canEdit ? "Add a saved insight below." : "Someone who may edit dashboards can add saved insights to it."}</p>
        </div>
      ) : (
        <div className="cards">
          {cards.map((c, i) => (
            <InsightCard key={c.insight.id} card={c} actions={canEdit ? <CardActions id={c.insight.id} first={i === 0} last={i === cards.length - 1} w={c.w} /> : null} />
          ))}
        </div>
      )}
      {canEdit ? (
        <div className="grid two dashboard-edit">
          <section className="card">
            <h2>Add a card</h2>
            {addable.length === 0 ? (
              <p className="muted">
                Every saved insight is on this dashboard. Save more from an app's Insights tab; they are listed in <Link to="/dashboards">Dashboards</Link>.
              </p>
            ) : (
              <IntentForm intent="add" label="Add card">
                <label>
                  Saved insight
                  <select name="insightId">
                    {addable.map((i) => (
                      <option key={i.id} value={i.id}>
                        {i.label}
                      </option>
                    ))}
                  </select>
                </label>
              </IntentForm>
            )}
          </section>
          <section className="card">
            <h2>Rename</h2>
            <IntentForm intent="rename" label="Save">
              <label>
                Name
                <input name="name" defaultValue={dashboard.name} required maxLength={200} />
              </label>
              <label>
                Description
                <input name="description" defaultValue={dashboard.description} maxLength={1000} />
              </label>
            </IntentForm>
            <p />
            <IntentForm intent="delete" label="Delete dashboard" confirm={`Delete the dashboard ${dashboard.name}? Its saved insights stay.`} danger />
          </section>
        </div>
      ) : null}
    </Shell>
  );
}
