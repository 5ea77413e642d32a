// How many rows a view shows at most, shared by the queries and the pages that say so.

/** Events shown for one session. */
export const SESSION_EVENTS_CAP = 1_000;
/** Events of a user's journey shown for one range. */
export const JOURNEY_CAP = 500;
