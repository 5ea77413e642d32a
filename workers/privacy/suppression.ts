// The ids of deleted people, whose events the edge drops. Ingest reads an app's list through an
// in-isolate cache, so an event costs no D1 read: a deletion reaches every edge location within
// SUPPRESSION_TTL_MS of its request.
import type { EdgeRefusals } from "../../durable-objects/tallies";
import type { EventRow } from "../../schemas";
import { HttpError } from "../lib/errors";
import type { Subject } from "./subject";
import { errorText, log } from "../lib/log";

/** How long an isolate keeps an app's list: the longest a new suppression takes to apply everywhere. */
export const SUPPRESSION_TTL_MS = 30_000;
const MAX_APPS = 5_000;
// How long a list read before is used again when D1 fails, before the next try.
const STALE_RETRY_MS = 5_000;

/** An app's suppressed ids, as ingest checks them. */
export interface Suppressed {
  users: ReadonlySet<string>;
  anonymous: ReadonlySet<string>;
}

const NONE: Suppressed = { users: new Set(), anonymous: new Set() };
const cache = new Map<string, { list: Suppressed; expires: number }>();

/** The statements that add `subject`'s ids to the app's list, for a D1 batch (an id already on it stays as it was). */
export function suppressStatements(db: D1Database, appId: string, subject: Subject, requestId: string, now: number): D1PreparedStatement[] {
  const add = (kind: "user" | "anonymous", id: string) =>
    db.prepare("INSERT INTO suppressed_ids (app_id, kind, id, request_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING").bind(appId, kind, id, requestId, now);
  return [...subject.userIds.map((id) => add("user", id)), ...subject.anonymousIds.map((id) => add("anonymous", id))];
}

/**
 * The app's suppressed ids, from the isolate's cache when it is fresh. When D1 cannot be read, a
 * list read before serves a little longer; without one the request is refused with a 503, so the
 * client sends it again instead of a deleted person's events being taken.
 */
export async function suppressedIds(db: D1Database, appId: string, now = Date.now()): Promise<Suppressed> {
  const hit = cache.get(appId);
  if (hit && hit.expires > now) return hit.list;
  let results: Array<{ kind: string; id: string }>;
  try {
    ({ results } = await db.prepare("SELECT kind, id FROM suppressed_ids WHERE app_id = ?1").bind(appId).all<{ kind: string; id: string }>());
  } catch (err) {
    log.error("privacy.suppression_unread", { app: appId, error: errorText(err) });
    if (!hit) throw new HttpError(503, "unavailable", "the app's settings could not be read; retry shortly", { "Retry-After": "2" });
    cache.set(appId, { list: hit.list, expires: now + STALE_RETRY_MS });
    return hit.list;
  }
  const list: Suppressed = results.length === 0 ? NONE : { users: new Set(results.filter((r) => r.kind === "user").map((r) => r.id)), anonymous: new Set(results.filter((r) => r.kind === "anonymous").map((r) => r.id)) };
  if (cache.size >= MAX_APPS) cache.clear();
  cache.set(appId, { list, expires: now + SUPPRESSION_TTL_MS });
  return list;
}

/** Forgets cached lists; tests use it to see a new suppression at once. */
export function clearSuppressionCache(): void {
  cache.clear();
}

/**
 * Whether a row belongs to a suppressed person: its user id is listed, or it has none and its
 * anonymous id is, or it is an alias whose `previousId` is listed either way.
 */
export function isSuppressed(list: Suppressed, row: Pick<EventRow, "type" | "user_id" | "anonymous_id" | "properties">): boolean {
  if (list.users.size === 0 && list.anonymous.size === 0) return false;
  if (row.user_id !== "") {
    if (list.users.has(row.user_id)) return true;
  } else if (list.anonymous.has(row.anonymous_id)) {
    return true;
  }
  if (row.type !== "alias") return false;
  const previous = row.properties.previousId;
  return typeof previous === "string" && (list.users.has(previous) || list.anonymous.has(previous));
}

/** Splits events into those kept and the number dropped for belonging to a suppressed person. */
export function dropSuppressed<E extends { row: Pick<EventRow, "type" | "user_id" | "anonymous_id" | "properties"> }>(list: Suppressed, events: E[]): { kept: E[]; dropped: number } {
  if (list.users.size === 0 && list.anonymous.size === 0) return { kept: events, dropped: 0 };
  const kept = events.filter((e) => !isSuppressed(list, e.row));
  return { kept, dropped: events.length - kept.length };
}

/** A request's refusals with its dropped events of suppressed people added, for the app's `suppressed` counter. */
export function withSuppressed(refusals: EdgeRefusals | undefined, dropped: number): EdgeRefusals | undefined {
  return dropped > 0 ? { ...refusals, suppressed: dropped } : refusals;
}
