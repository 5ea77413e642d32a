// Saved insights and dashboards in D1: the one place that reads and writes them. Every call
// names the viewer's organisation, so no page reaches another organisation's; a saved insight's
// app must be a live app of that organisation.
import { z } from "zod";
import { changeLayout, definitionOf, INSIGHT_TYPES, isRangeKey, normalizeFilters, parseLayout, type CardLayout, type DashboardScope, type InsightType, type LayoutChange } from "../insights/saved";
import { getApp } from "./apps.server";
import { randomHex } from "./ids.server";

export interface SavedInsight {
  id: string;
  appId: string;
  appName: string;
  type: InsightType;
  name: string;
  description: string;
  /** The definition: the insight page's URL query string. */
  query: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface Dashboard {
  id: string;
  name: string;
  description: string;
  scope: DashboardScope;
  layout: CardLayout[];
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

/** What is wrong with a form, in words; or the change made. */
export type Change<T> = { ok: true; value: T } | { ok: false; reason: string };

const Name = z.string().trim().min(1, "Give it a name.").max(200, "A name is at most 200 characters.");
const Description = z.string().trim().max(1000, "A description is at most 1,000 characters.");

export const InsightFields = z.object({
  type: z.enum(INSIGHT_TYPES, { error: "Unknown insight type." }),
  appId: z.string().min(1, "Which app?").max(128),
  name: Name,
  description: Description,
  query: z.string().max(4000, "This insight's definition is too long to save (at most 4,000 characters).").transform(definitionOf),
});
export type InsightFields = z.infer<typeof InsightFields>;

export const DashboardFields = z.object({ name: Name, description: Description });
export type DashboardFields = z.infer<typeof DashboardFields>;

const problem = (e: z.ZodError): string => e.issues.map((i) => i.message).join(" ");

interface InsightRow {
  id: string;
  app_id: string;
  app_name: string;
  type: InsightType;
  name: string;
  description: string;
  query: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

const toInsight = (r: InsightRow): SavedInsight => ({
  id: r.id,
  appId: r.app_id,
  appName: r.app_name,
  type: r.type,
  name: r.name,
  description: r.description,
  query: r.query,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

// Insights of deleted apps stay stored (the app's id is never reused) but are never shown.
const SELECT_INSIGHTS = `SELECT i.id, i.app_id, a.name AS app_name, i.type, i.name, i.description, i.query, i.created_by, i.created_at, i.updated_at
  FROM saved_insights i JOIN apps a ON a.id = i.app_id AND a.org_id = i.org_id AND a.deleted_at IS NULL`;

/** The organisation's saved insights, most recently changed first. */
export async function listSavedInsights(db: D1Database, orgId: string): Promise<SavedInsight[]> {
  const rs = await db.prepare(`${SELECT_INSIGHTS} WHERE i.org_id = ?1 ORDER BY i.updated_at DESC, i.id`).bind(orgId).all<InsightRow>();
  return rs.results.map(toInsight);
}

export async function getSavedInsight(db: D1Database, orgId: string, id: string): Promise<SavedInsight | null> {
  const row = await db.prepare(`${SELECT_INSIGHTS} WHERE i.org_id = ?1 AND i.id = ?2`).bind(orgId, id).first<InsightRow>();
  return row ? toInsight(row) : null;
}

/** The saved insights among `ids` that the organisation has, by id. */
export async function getSavedInsights(db: D1Database, orgId: string, ids: readonly string[]): Promise<Map<string, SavedInsight>> {
  if (ids.length === 0) return new Map();
  const rs = await db.prepare(`${SELECT_INSIGHTS} WHERE i.org_id = ?1 AND i.id IN (SELECT value FROM json_each(?2))`).bind(orgId, JSON.stringify(ids)).all<InsightRow>();
  return new Map(rs.results.map((r) => [r.id, toInsight(r)]));
}

/** Saves an insight of one of the organisation's apps. */
export async function createSavedInsight(db: D1Database, orgId: string, input: Record<string, string>, createdBy: string): Promise<Change<SavedInsight>> {
  const parsed = InsightFields.safeParse(input);
  if (!parsed.success) return { ok: false, reason: problem(parsed.error) };
  const v = parsed.data;
  if (!(await getApp(db, orgId, v.appId))) return { ok: false, reason: "No such app in your organisation." };
  const id = `ins_${randomHex(10)}`;
  const now = Date.now();
  await db
    .prepare(`INSERT INTO saved_insights (id, org_id, app_id, type, name, description, query, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)`)
    .bind(id, orgId, v.appId, v.type, v.name, v.description, v.query, createdBy, now)
    .run();
  const saved = await getSavedInsight(db, orgId, id);
  return saved ? { ok: true, value: saved } : { ok: false, reason: "No such app in your organisation." };
}

/** Renames or re-describes a saved insight; null when the organisation has no such insight. */
export async function updateSavedInsight(db: D1Database, orgId: string, id: string, input: Record<string, string>): Promise<Change<SavedInsight> | null> {
  const parsed = DashboardFields.safeParse(input);
  if (!parsed.success) return (await getSavedInsight(db, orgId, id)) ? { ok: false, reason: problem(parsed.error) } : null;
  const rs = await db
    .prepare(`UPDATE saved_insights SET name = ?3, description = ?4, updated_at = ?5 WHERE org_id = ?1 AND id = ?2`)
    .bind(orgId, id, parsed.data.name, parsed.data.description, Date.now())
    .run();
  if (rs.meta.changes === 0) return null;
  const saved = await getSavedInsight(db, orgId, id);
  return saved ? { ok: true, value: saved } : null;
}

/**
 * Replaces a saved insight's definition with the one its page now shows (same app and type: a
 * funnel saved as a trend would break the dashboards that show it); null when the organisation
 * has no such insight.
 */
export async function replaceSavedInsightQuery(db: D1Database, orgId: string, id: string, input: Record<string, string>): Promise<Change<SavedInsight> | null> {
  const current = await getSavedInsight(db, orgId, id);
  if (!current) return null;
  const parsed = InsightFields.pick({ type: true, appId: true, query: true }).safeParse(input);
  if (!parsed.success) return { ok: false, reason: problem(parsed.error) };
  if (parsed.data.type !== current.type || parsed.data.appId !== current.appId) return { ok: false, reason: `“${current.name}” is a ${current.type} insight of another page; save this one as a new insight.` };
  await db.prepare(`UPDATE saved_insights SET query = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2`).bind(orgId, id, parsed.data.query, Date.now()).run();
  const saved = await getSavedInsight(db, orgId, id);
  return saved ? { ok: true, value: saved } : null;
}

/** Deletes a saved insight and its cards on the organisation's dashboards; false when there was none. */
export async function deleteSavedInsight(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const rs = await db.prepare(`DELETE FROM saved_insights WHERE org_id = ?1 AND id = ?2`).bind(orgId, id).run();
  if (rs.meta.changes === 0) return false;
  const holding = await db
    .prepare(`SELECT id, layout FROM dashboards WHERE org_id = ?1 AND EXISTS (SELECT 1 FROM json_each(layout) WHERE json_extract(value, '$.insightId') = ?2)`)
    .bind(orgId, id)
    .all<{ id: string; layout: string }>();
  const now = Date.now();
  await Promise.all(
    holding.results.map((d) =>
      db
        .prepare(`UPDATE dashboards SET layout = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2`)
        .bind(orgId, d.id, JSON.stringify(parseLayout(d.layout).filter((c) => c.insightId !== id)), now)
        .run(),
    ),
  );
  return true;
}

interface DashboardRow {
  id: string;
  name: string;
  description: string;
  range: string;
  filters: string;
  layout: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

const toDashboard = (r: DashboardRow): Dashboard => ({
  id: r.id,
  name: r.name,
  description: r.description,
  scope: { range: isRangeKey(r.range) ? r.range : "", filters: normalizeFilters(r.filters) },
  layout: parseLayout(r.layout),
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const SELECT_DASHBOARDS = `SELECT id, name, description, range, filters, layout, created_by, created_at, updated_at FROM dashboards`;

/** The organisation's dashboards, most recently changed first. */
export async function listDashboards(db: D1Database, orgId: string): Promise<Dashboard[]> {
  const rs = await db.prepare(`${SELECT_DASHBOARDS} WHERE org_id = ?1 ORDER BY updated_at DESC, id`).bind(orgId).all<DashboardRow>();
  return rs.results.map(toDashboard);
}

export async function getDashboard(db: D1Database, orgId: string, id: string): Promise<Dashboard | null> {
  const row = await db.prepare(`${SELECT_DASHBOARDS} WHERE org_id = ?1 AND id = ?2`).bind(orgId, id).first<DashboardRow>();
  return row ? toDashboard(row) : null;
}

export async function createDashboard(db: D1Database, orgId: string, input: Record<string, string>, createdBy: string): Promise<Change<Dashboard>> {
  const parsed = DashboardFields.safeParse(input);
  if (!parsed.success) return { ok: false, reason: problem(parsed.error) };
  const id = `dsh_${randomHex(10)}`;
  const now = Date.now();
  await db
    .prepare(`INSERT INTO dashboards (id, org_id, name, description, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`)
    .bind(id, orgId, parsed.data.name, parsed.data.description, createdBy, now)
    .run();
  const made = await getDashboard(db, orgId, id);
  if (!made) throw new Error(`dashboard ${id} was not stored`);
  return { ok: true, value: made };
}

async function write(db: D1Database, orgId: string, d: Dashboard): Promise<Dashboard> {
  await db
    .prepare(`UPDATE dashboards SET name = ?3, description = ?4, range = ?5, filters = ?6, layout = ?7, updated_at = ?8 WHERE org_id = ?1 AND id = ?2`)
    .bind(orgId, d.id, d.name, d.description, d.scope.range, d.scope.filters, JSON.stringify(d.layout), Date.now())
    .run();
  return (await getDashboard(db, orgId, d.id)) ?? d;
}

/** Renames or re-describes a dashboard; null when the organisation has no such dashboard. */
export async function renameDashboard(db: D1Database, orgId: string, id: string, input: Record<string, string>): Promise<Change<Dashboard> | null> {
  const d = await getDashboard(db, orgId, id);
  if (!d) return null;
  const parsed = DashboardFields.safeParse(input);
  if (!parsed.success) return { ok: false, reason: problem(parsed.error) };
  return { ok: true, value: await write(db, orgId, { ...d, ...parsed.data }) };
}

/** Makes `scope` the range and filters the dashboard opens with; null when there is no such dashboard. */
export async function setDashboardScope(db: D1Database, orgId: string, id: string, scope: DashboardScope): Promise<Dashboard | null> {
  const d = await getDashboard(db, orgId, id);
  if (!d) return null;
  return write(db, orgId, { ...d, scope: { range: scope.range, filters: normalizeFilters(scope.filters) } });
}

/** Adds, removes, moves or resizes a card; an added insight must be the organisation's. Null when there is no such dashboard. */
export async function changeCards(db: D1Database, orgId: string, id: string, change: LayoutChange): Promise<Change<Dashboard> | null> {
  const d = await getDashboard(db, orgId, id);
  if (!d) return null;
  if (change.op === "add" && !(await getSavedInsight(db, orgId, change.insightId))) return { ok: false, reason: "No such saved insight in your organisation." };
  const next = changeLayout(d.layout, change);
  if ("error" in next) return { ok: false, reason: next.error };
  return { ok: true, value: await write(db, orgId, { ...d, layout: next.layout }) };
}

export async function deleteDashboard(db: D1Database, orgId: string, id: string): Promise<boolean> {
  const rs = await db.prepare(`DELETE FROM dashboards WHERE org_id = ?1 AND id = ?2`).bind(orgId, id).run();
  return rs.meta.changes > 0;
}

/** A view is recorded at most this often: a dashboard open all day writes one row an hour. */
const VIEW_NOTED_EVERY_MS = 3_600_000;

/** Records that someone opened the dashboard at `now`, which makes the cron keep it warm. */
export async function noteDashboardViewed(db: D1Database, orgId: string, id: string, now: number): Promise<void> {
  await db.prepare(`UPDATE dashboards SET viewed_at = ?3 WHERE org_id = ?1 AND id = ?2 AND viewed_at <= ?4`).bind(orgId, id, now, now - VIEW_NOTED_EVERY_MS).run();
}

/**
 * Takes the dashboard that has waited longest among those opened since `viewedSince` and not
 * warmed since `warmedBefore`, marking it warmed at `now` in the same statement, so two cron runs
 * never take the same one; null when none is due. Returns its organisation with it.
 */
export async function claimDashboardToWarm(db: D1Database, now: number, viewedSince: number, warmedBefore: number): Promise<{ orgId: string; dashboard: Dashboard } | null> {
  const row = await db
    .prepare(
      `UPDATE dashboards SET warmed_at = ?1
       WHERE id = (SELECT id FROM dashboards WHERE warmed_at <= ?3 AND viewed_at >= ?2 ORDER BY warmed_at, id LIMIT 1) AND warmed_at <= ?3
       RETURNING org_id, id, name, description, range, filters, layout, created_by, created_at, updated_at`,
    )
    .bind(now, viewedSince, warmedBefore)
    .first<DashboardRow & { org_id: string }>();
  return row ? { orgId: row.org_id, dashboard: toDashboard(row) } : null;
}
