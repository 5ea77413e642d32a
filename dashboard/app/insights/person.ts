// Who did an event, for every insight that counts people (unique users, funnels, retention,
// paths, stickiness). A person is the event's user id; an event without one belongs to the user
// its anonymous id was later identified as (`person_identities`, 0012_person_identities.sql),
// else to the anonymous id itself. So someone who browsed anonymously and then signed up is one
// person, whichever came first in the range, and their key is the `user_key` of the users view
// (`/apps/:app/users/:key`), which shows the same person's anonymous history too.
//
// Two ways to read it, one answer. `personKey()` is a plain expression that works anywhere
// (SELECT, WHERE, GROUP BY, nested subqueries): the identity map is a constant (a scalar
// subquery) looked up with `transform`. ClickHouse rebuilds that lookup table for every block of
// rows, which is cheap for a few rows and slow for millions when thousands of ids were
// identified; a scan of many rows joins the map instead (`identityJoin`, `joinedPersonKey`),
// whose table is built once per query. Both need the `{app:String}` parameter queryApp sets.
// Where people are only counted or grouped, not named, the join and the person are 64-bit hashes
// of the ids (`identityHashJoin`, `joinedPersonHash`): a hash table of integers is several times
// faster to build and probe than one of strings, and two ids collide with odds near 10^-7 among
// ten million people.

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

/**
 * The app's identified anonymous ids and the user each became, one row per anonymous id. FINAL
 * merges the rows of one anonymous id (the table's key) as a GROUP BY with argMinMerge would,
 * at a third of its cost: every query that counts people builds its join from this.
 */
export const IDENTITIES = "SELECT anonymous_id, finalizeAggregation(user_id) AS user_id FROM person_identities FINAL WHERE app_id = {app:String}";

/**
 * The join that resolves persons over many rows: `FROM events AS e${identityJoin("e")} WHERE …`,
 * then `joinedPersonKey("e")` is each row's person (name the events' `user_id` and
 * `anonymous_id` through the alias; every other column is the events' own).
 */
export function identityJoin(table: string): string {
  return ` LEFT ANY JOIN (${IDENTITIES}) AS became ON became.anonymous_id = ${table}.anonymous_id`;
}

/** personKey's person over `identityJoin`: the user id, else the user the anonymous id became, else the anonymous id. */
export function joinedPersonKey(table: string): string {
  return `if(${table}.user_id != '', ${table}.user_id, if(became.user_id != '', became.user_id, ${table}.anonymous_id))`;
}

/** An id as a UInt64 for counting people: 0 for no id. */
export const idHash = (column: string): string => `if(${column} = '', 0, cityHash64(${column}))`;

/** The identity map as hashes: `anon_h` of each identified anonymous id, `user_h` of the user it became. */
const IDENTITY_HASHES = "SELECT cityHash64(anonymous_id) AS anon_h, cityHash64(finalizeAggregation(user_id)) AS user_h FROM person_identities FINAL WHERE app_id = {app:String}";

/**
 * identityJoin for counting: `FROM events AS e${identityHashJoin("e")} WHERE …`, then
 * `joinedPersonHash("e")`. With `hashed`, the rows already carry their ids as `user_h` and
 * `anon_h` ({@link idHash}), e.g. after a GROUP BY on them; then `hashedPerson(table)`.
 */
export function identityHashJoin(table: string, hashed = false): string {
  return ` LEFT ANY JOIN (${IDENTITY_HASHES}) AS became_h ON became_h.anon_h = ${hashed ? `${table}.anon_h` : `cityHash64(${table}.anonymous_id)`}`;
}

/**
 * The person of a row as a UInt64 over `identityHashJoin`: equal for two rows exactly when
 * joinedPersonKey is (up to hash collisions), and 0 for a row with neither id, which no count
 * should include (`uniqIf(person, person != 0)`); filtering those rows out in WHERE instead
 * stops ClickHouse from reading the range's rows before the join, and doubles the query's time.
 */
export function joinedPersonHash(table: string): string {
  const t = `${table}.`;
  return `if(${t}user_id != '', cityHash64(${t}user_id), if(became_h.user_h != 0, became_h.user_h, ${idHash(`${t}anonymous_id`)}))`;
}

/** joinedPersonHash over rows that carry `user_h` and `anon_h` (`identityHashJoin(table, true)`). */
export function hashedPerson(table: string): string {
  return `if(${table}.user_h != 0, ${table}.user_h, if(became_h.user_h != 0, became_h.user_h, ${table}.anon_h))`;
}
