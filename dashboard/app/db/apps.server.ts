// Apps and write keys for the dashboard: the shared apps module (workers/apps), always scoped to
// the viewer's organisation, plus the forms' parsing. Deleting goes to the edge Worker through
// the APPS service binding: only it can retire the app's batchers and purge its rows.
import { z } from "zod";
import { AppId, AppLocation, MAX_RETENTION_DAYS, MAX_SHARD_COUNT, MAX_URL_TEMPLATES, RedactionPolicy, UrlTemplate, type AppInfo, type AttributionSettings, type WriteKeyInfo } from "../../../schemas";
import type { AppsApi, DeletionResult } from "../../../workers/apps/delete";
import { lastRetentionRun as lastRun, type RetentionRun } from "../../../workers/apps/retention";

export { retentionCutoff } from "../../../workers/apps/retention";
import * as store from "../../../workers/apps/store";
import type { RawEnv } from "../env.server";

export type AppDetails = AppInfo;
export type KeyInfo = WriteKeyInfo;

export const listApps = (db: D1Database, orgId: string): Promise<AppInfo[]> => store.listApps(db, store.inOrg(orgId));

export const getApp = (db: D1Database, orgId: string, appId: string): Promise<AppInfo | null> => store.getApp(db, store.inOrg(orgId), appId);

/** The new-app form; `location` is fixed for the app's life (an empty field means the default). */
export const NewApp = z.object({
  id: AppId,
  name: z.string().trim().min(1).max(200),
  location: z.preprocess((v) => (v === "" ? undefined : v), AppLocation.default("default")),
});

/** Creates an app in the organisation; false when the id is not available (held by any app, live or deleted, anywhere). */
export async function createApp(db: D1Database, orgId: string, input: Omit<z.infer<typeof NewApp>, "location"> & { location?: AppLocation }): Promise<boolean> {
  return (await store.createApp(db, store.inOrg(orgId), input)) !== "unavailable";
}

export const renameApp = (db: D1Database, orgId: string, appId: string, name: string): Promise<boolean> => store.renameApp(db, store.inOrg(orgId), appId, name);

export const AppSettings = z.object({
  rateLimit: z.coerce.number().int().min(0).max(1_000_000),
  shardCount: z.coerce.number().int().min(1).max(MAX_SHARD_COUNT),
  autoShards: z.boolean(),
  retentionDays: z.coerce
    .number()
    .int()
    .min(1, "retention: at least 1 day")
    .max(MAX_RETENTION_DAYS, `retention: at most ${MAX_RETENTION_DAYS} days, as long as raw events are stored`),
  redactionPolicy: z
    .string()
    .trim()
    .transform((text, ctx) => {
      if (text === "") return null;
      try {
        const parsed = RedactionPolicy.safeParse(JSON.parse(text));
        if (parsed.success) return JSON.stringify(parsed.data);
        ctx.addIssue({ code: "custom", message: `redaction policy: ${parsed.error.issues.map((i) => `${i.path.join(".") || "policy"} ${i.message}`).join("; ")}` });
      } catch {
        ctx.addIssue({ code: "custom", message: "redaction policy: not valid JSON" });
      }
      return z.NEVER;
    }),
});

export const updateSettings = (db: D1Database, orgId: string, appId: string, s: z.infer<typeof AppSettings>): Promise<store.SettingsSaved> =>
  store.updateAppSettings(db, store.inOrg(orgId), appId, s);

/** The retention job's last run for the organisation's app; null before its first run. */
export const lastRetentionRun = (db: D1Database, orgId: string, appId: string): Promise<RetentionRun | null> => lastRun(db, store.inOrg(orgId), appId);

/** The app's URL templates in the order the edge tries them; null when the organisation has no such app. */
export const getUrlTemplates = (db: D1Database, orgId: string, appId: string): Promise<string[] | null> => store.getUrlTemplates(db, store.inOrg(orgId), appId);

/** Replaces the app's URL templates (parsed with parseUrlTemplateLines); false when the organisation has no such app. */
export const setUrlTemplates = (db: D1Database, orgId: string, appId: string, templates: readonly string[]): Promise<boolean> =>
  store.setUrlTemplates(db, store.inOrg(orgId), appId, templates);

/** The app's attribution settings (the defaults until it saves its own); null when the organisation has no such app. */
export const getAttribution = (db: D1Database, orgId: string, appId: string): Promise<AttributionSettings | null> => store.getAttribution(db, store.inOrg(orgId), appId);

/** Replaces the app's attribution settings (checked by the caller); false when the organisation has no such app. */
export const setAttribution = (db: D1Database, orgId: string, appId: string, settings: AttributionSettings): Promise<boolean> => store.setAttribution(db, store.inOrg(orgId), appId, settings);

/**
 * URL templates as typed in the form, one a line (blank lines skipped), in order; or what is
 * wrong, naming each line, so a long list is fixed in one go.
 */
export function parseUrlTemplateLines(text: string): { templates: string[] } | { error: string } {
  const lines = text
    .split(/\r?\n/)
    .map((line, i) => ({ n: i + 1, text: line.trim() }))
    .filter((l) => l.text !== "");
  if (lines.length > MAX_URL_TEMPLATES) return { error: `An app has at most ${MAX_URL_TEMPLATES} URL templates; this list has ${lines.length}.` };
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const l of lines) {
    const parsed = UrlTemplate.safeParse(l.text);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const why = issue?.code === "too_small" ? "too short: a template is a path such as /orders/:id" : issue?.code === "too_big" ? "longer than 512 characters" : (issue?.message ?? "not a template");
      problems.push(`line ${l.n} (${l.text.slice(0, 80)}): ${why}`);
      continue;
    }
    const earlier = seen.get(parsed.data);
    if (earlier !== undefined) problems.push(`line ${l.n} repeats line ${earlier}`);
    else seen.set(parsed.data, l.n);
  }
  if (problems.length > 0) return { error: `Nothing saved. ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}.` };
  return { templates: [...seen.keys()] };
}

/** The app's keys, prefixes only, newest first. */
export const listKeys = (db: D1Database, orgId: string, appId: string): Promise<WriteKeyInfo[]> => store.listWriteKeys(db, store.inOrg(orgId), appId);

/** A new write key, returned in full this once; null when the organisation has no such app. */
export async function createKey(db: D1Database, orgId: string, appId: string, name: string): Promise<{ id: string; key: string } | null> {
  const created = await store.createWriteKey(db, store.inOrg(orgId), appId, { name });
  return typeof created === "string" ? null : { id: created.id, key: created.key };
}

export async function revokeKey(db: D1Database, orgId: string, appId: string, keyId: string): Promise<boolean> {
  return (await store.revokeWriteKey(db, store.inOrg(orgId), appId, keyId)) !== null;
}

function isAppsApi(value: unknown): value is AppsApi {
  return typeof value === "object" && value !== null && typeof (value as { deleteApp?: unknown }).deleteApp === "function";
}

/** Deletes the organisation's app through the edge Worker (workers/apps/delete.ts). */
export async function deleteApp(raw: RawEnv, orgId: string, appId: string): Promise<DeletionResult> {
  if (!isAppsApi(raw.APPS)) throw new Error("dashboard configuration: APPS must be a service binding to the edge Worker's AppsService entrypoint (dashboard/wrangler.toml)");
  return raw.APPS.deleteApp(orgId, appId);
}
