// A person as the privacy jobs see them: user ids and anonymous ids, and the closed set of ids
// linked to them. Identify links an anonymous id to the user it turned out to be (the first one,
// as person_identities keeps it, so a shared device does not pull in its later users); alias links
// a user id to its `previousId` both ways.
import type { ClickHouseClient } from "@clickhouse/client-web";
import { z } from "zod";

/** The ids of one person: `{userIds: ["u_42"], anonymousIds: ["a_1", "a_2"]}`. */
export interface Subject {
  userIds: string[];
  anonymousIds: string[];
}

/** Query parameters: strings, numbers and lists of strings. */
export type ReadParams = Record<string, string | number | readonly string[]>;

/** A read of one app's rows: the query names `{app:String}`, which the reader fills in. */
export type AppRead = <T>(query: string, params: ReadParams) => Promise<T[]>;

/** A reader over the Worker's ClickHouse client for one app. */
export function clientRead(client: ClickHouseClient, appId: string): AppRead {
  return async <T>(query: string, params: ReadParams): Promise<T[]> => {
    const rs = await client.query({ query, query_params: { ...params, app: appId }, format: "JSONEachRow" });
    return rs.json<T>();
  };
}

/** The longest id accepted, as the event schema bounds ids. */
export const MAX_ID_CHARS = 256;
/** Past this many linked ids the job stops following links and says so: a person has a handful. */
export const MAX_LINKED_IDS = 1000;

const Id = z.string().trim().min(1, "an id must not be empty").max(MAX_ID_CHARS, `an id is at most ${MAX_ID_CHARS} characters`);

/** The body of a deletion or export request: `{userId}`, `{anonymousId}`, or both, or lists of either. */
export const SubjectInput = z
  .object({
    userId: Id.optional(),
    anonymousId: Id.optional(),
    userIds: z.array(Id).max(100).optional(),
    anonymousIds: z.array(Id).max(100).optional(),
  })
  .strict();
export type SubjectInput = z.infer<typeof SubjectInput>;

/** The subject a request names, or a message saying why it names none. */
export function subjectOf(input: SubjectInput): Subject | { error: string } {
  const userIds = [...new Set([...(input.userId === undefined ? [] : [input.userId]), ...(input.userIds ?? [])])];
  const anonymousIds = [...new Set([...(input.anonymousId === undefined ? [] : [input.anonymousId]), ...(input.anonymousIds ?? [])])];
  if (userIds.length + anonymousIds.length === 0) return { error: "name the person: give a userId or an anonymousId" };
  return { userIds, anonymousIds };
}

/**
 * The subject with each id also as ingest stores it (`storedId`, see workers/apps/stored-ids.ts),
 * so a person named by an e-mail address used as their id is found by its hash.
 */
export function withStoredIds(s: Subject, storedId: ((id: string) => string) | null): Subject {
  if (!storedId) return s;
  const both = (ids: readonly string[]) => [...new Set(ids.flatMap((id) => [id, storedId(id)]))].filter((id) => id !== "");
  return { userIds: both(s.userIds), anonymousIds: both(s.anonymousIds) };
}

/** `user_id IN U OR (user_id = '' AND anonymous_id IN A)`: the rows of events (and sessions) that are the subject's. */
export const OWN_EVENTS = "(user_id IN {u:Array(String)} OR (user_id = '' AND anonymous_id IN {a:Array(String)}))";

/** Query parameters for `OWN_EVENTS` and the other predicates over a subject. */
export const subjectParams = (s: Subject): { u: string[]; a: string[] } => ({ u: s.userIds, a: s.anonymousIds });

interface Link {
  kind: "user" | "anonymous" | "both";
  id: string;
}

// One round of link-following: the owners of the anonymous ids, the anonymous ids the users own,
// and both ends of every alias that touches an id.
const LINKS = `
  SELECT 'user' AS kind, owner AS id FROM (
    SELECT anonymous_id, argMinMerge(user_id) AS owner FROM person_identities
    WHERE app_id = {app:String} GROUP BY anonymous_id
  ) WHERE anonymous_id IN {a:Array(String)} AND owner != ''
  UNION DISTINCT
  SELECT 'anonymous' AS kind, anonymous_id AS id FROM (
    SELECT anonymous_id, argMinMerge(user_id) AS owner FROM person_identities
    WHERE app_id = {app:String} GROUP BY anonymous_id
  ) WHERE owner IN {u:Array(String)}
  UNION DISTINCT
  SELECT link.1 AS kind, link.2 AS id FROM (
    SELECT arrayJoin([('user', user_id), ('both', JSONExtractString(properties, 'previousId'))]) AS link FROM events
    WHERE app_id = {app:String} AND type = 'alias'
      AND (user_id IN {all:Array(String)} OR JSONExtractString(properties, 'previousId') IN {all:Array(String)})
  )`;

/**
 * The subject with every id linked to it, followed until nothing new turns up. An alias's
 * `previousId` may have been a user id or an anonymous id, so alias ends count as both.
 */
export async function linkedSubject(read: AppRead, asked: Subject): Promise<{ subject: Subject; complete: boolean }> {
  const users = new Set(asked.userIds);
  const anons = new Set(asked.anonymousIds);
  for (let round = 0; round < 20; round++) {
    const all = [...new Set([...users, ...anons])];
    const links = await read<Link>(LINKS, { u: [...users], a: [...anons], all });
    let grew = false;
    for (const l of links) {
      if (l.id === "" || l.id.length > MAX_ID_CHARS) continue;
      if (l.kind !== "anonymous" && !users.has(l.id)) {
        users.add(l.id);
        grew = true;
      }
      if (l.kind !== "user" && !anons.has(l.id)) {
        anons.add(l.id);
        grew = true;
      }
    }
    const subject = { userIds: [...users].sort(), anonymousIds: [...anons].sort() };
    if (!grew) return { subject, complete: true };
    if (users.size + anons.size > MAX_LINKED_IDS) return { subject, complete: false };
  }
  return { subject: { userIds: [...users].sort(), anonymousIds: [...anons].sort() }, complete: false };
}

/** Whether two subjects hold the same ids. */
export function sameSubject(x: Subject, y: Subject): boolean {
  const key = (s: Subject) => JSON.stringify([[...s.userIds].sort(), [...s.anonymousIds].sort()]);
  return key(x) === key(y);
}
