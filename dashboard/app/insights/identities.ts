// personKey's person (person.ts) worked out by a join instead of its constant map, for queries
// that resolve many rows at once: with hundreds of thousands of identified ids, the constant
// map is rebuilt for every block of rows, while a join builds its table once per query.

/** The app's identified anonymous ids and the user each became. */
const IDENTITIES = "SELECT anonymous_id, argMinMerge(user_id) AS user_id FROM person_identities WHERE app_id = {app:String} GROUP BY anonymous_id";

/**
 * `person` and the given columns of `rows` (a query with `user_id` and `anonymous_id` columns):
 * the user id, else the user the anonymous id became, else the anonymous id.
 */
export function withPerson(rows: string, columns: readonly string[]): string {
  const kept = columns.map((c) => `, ids.${c} AS ${c}`).join("");
  return `SELECT if(ids.user_id != '', ids.user_id, if(became.user_id != '', became.user_id, ids.anonymous_id)) AS person${kept}
    FROM (${rows}) AS ids LEFT JOIN (${IDENTITIES}) AS became ON ids.anonymous_id = became.anonymous_id`;
}
