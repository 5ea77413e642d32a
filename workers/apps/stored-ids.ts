import { createRedactor, parsePolicy } from "../lib/redact";

/**
 * How ingest stores the app's ids (an id holding personal data is hashed with the app's salt, an
 * ordinary one kept as sent), for finding a person by the id they gave: `(await storedIdOf(db,
 * "app_x"))?.("jane@example.com") === "[email:9f86d081884c7d65]"`. Null when there is no such app.
 */
export async function storedIdOf(db: D1Database, appId: string): Promise<((id: string) => string) | null> {
  const row = await db.prepare("SELECT redaction_policy, hash_salt FROM apps WHERE id = ?1").bind(appId).first<{ redaction_policy: string | null; hash_salt: string }>();
  if (!row) return null;
  const redactor = createRedactor(parsePolicy(row.redaction_policy), row.hash_salt);
  return (id) => redactor.id(id);
}
