// Who did an event, for every insight that counts people (unique users, funnels, retention,
// paths, stickiness). A person is the event's user id; an event without one belongs to the user
// its anonymous id was later identified as (`person_identities`, 0012_person_identities.sql),
// else to the anonymous id itself. So someone who browsed anonymously and then signed up is one
// person, whichever came first in the range, and their key is the `user_key` of the users view
// (`/apps/:app/users/:key`), which shows the same person's anonymous history too.
//
// The identity map is read once per query as a constant (a scalar subquery: ClickHouse runs it
// once and `transform` looks ids up in a hash table), so the key is a plain expression that
// works anywhere: SELECT, WHERE, GROUP BY, inside windowFunnel subqueries, with no join over
// events. It needs the `{app:String}` parameter that queryApp always sets.

/** The app's anonymous ids that were identified, and the user id each became (two aligned arrays). */
const IDENTITY_MAP = `(SELECT (groupArray(anonymous_id), groupArray(user_id)) FROM (
  SELECT anonymous_id, argMinMerge(user_id) AS user_id FROM person_identities WHERE app_id = {app:String} GROUP BY anonymous_id))`;

/**
 * The person key of an events row, e.g. `SELECT ${personKey()} AS person FROM events WHERE …`;
 * `table` qualifies the columns (`personKey("e")` reads `e.user_id`, `e.anonymous_id`).
 * Rows with neither id give '': filter them with {@link hasPerson}.
 */
export function personKey(table = ""): string {
  const t = table ? `${table}.` : "";
  return `if(${t}user_id != '', ${t}user_id, transform(${t}anonymous_id, tupleElement(${IDENTITY_MAP}, 1), tupleElement(${IDENTITY_MAP}, 2), ${t}anonymous_id))`;
}

/** The rows that belong to someone: a user id or an anonymous id. */
export function hasPerson(table = ""): string {
  const t = table ? `${table}.` : "";
  return `(${t}user_id != '' OR ${t}anonymous_id != '')`;
}
