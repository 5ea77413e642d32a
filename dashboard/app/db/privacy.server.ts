// A person's data for the dashboard: deletion requests and the audit log through the shared
// privacy module (workers/privacy), exports read through the dashboard's scoped ClickHouse reads.
// Callers have checked that the app belongs to the viewer's organisation.
import { storedIdOf } from "../../../workers/apps/stored-ids";
import { exportStream } from "../../../workers/privacy/export";
import { recordExport } from "../../../workers/privacy/requests";
import { linkedSubject, subjectOf, SubjectInput, withStoredIds, type AppRead, type Subject } from "../../../workers/privacy/subject";
import type { DashboardEnv } from "../env.server";
import { queryApp } from "../queries/clickhouse.server";

export { DELETE_AFTER_MS, listAudit, listDeletions, requestDeletion, type AuditEntry, type DeletionRequest } from "../../../workers/privacy/requests";
export { SUPPRESSION_TTL_MS } from "../../../workers/privacy/suppression";
export type { Subject } from "../../../workers/privacy/subject";

/** The subject a form or a query string names (`kind` user or anonymous, and `id`), or why it names none. */
export function parseSubject(kind: string, id: string): Subject | { error: string } {
  if (kind !== "user" && kind !== "anonymous") return { error: "Choose whether the id is a user id or an anonymous id." };
  const parsed = SubjectInput.safeParse(kind === "user" ? { userId: id } : { anonymousId: id });
  if (!parsed.success) return { error: `The id ${parsed.error.issues[0]?.message ?? "is not valid"}.` };
  return subjectOf(parsed.data);
}

const read =
  (cfg: DashboardEnv["clickhouse"], appId: string): AppRead =>
  (query, params) =>
    queryApp(cfg, appId, query, params);

/**
 * The person's data as a JSON download, written page by page, after recording who exported
 * whose data (every linked id). The file name says whose data it is.
 */
export async function exportDownload(env: DashboardEnv, appId: string, asked: Subject, actor: string, now = new Date()): Promise<Response> {
  const subject = withStoredIds(asked, await storedIdOf(env.db, appId));
  await recordExport(env.db, appId, (await linkedSubject(read(env.clickhouse, appId), subject)).subject, actor, now.getTime());
  const who = (subject.userIds[0] ?? subject.anonymousIds[0] ?? "person").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64);
  return new Response(exportStream(read(env.clickhouse, appId), subject, { appId, exportedAt: now.toISOString() }), {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${appId}-${who}-export.json"`,
      "cache-control": "no-store",
    },
  });
}
