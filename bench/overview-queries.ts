// The reads an overview page and alert rules make: counts, unique users and sessions per day,
// top events, pages, countries and platforms, crash-free users, and short-window rates. They
// read the rollups of 0004_rollups.sql; only the last-hour alert touches raw events, over one
// hour. Every value is a query parameter and every query filters by app.

/** A named query; parameters: `app`, and the range `from`/`to` as `DateTime64(3)` text. */
export interface TimedQuery {
  name: string;
  query: string;
}

const HOURS = "app_id = {app:String} AND hour >= toStartOfHour({from:DateTime64(3)}) AND hour < {to:DateTime64(3)}";
const DAYS = "app_id = {app:String} AND day >= toDate({from:DateTime64(3)}) AND day <= toDate({to:DateTime64(3)})";

export const OVERVIEW_QUERIES: readonly TimedQuery[] = [
  { name: "events per day", query: `SELECT toDate(hour) AS day, sum(events) AS events FROM events_hourly WHERE ${HOURS} GROUP BY day ORDER BY day` },
  { name: "unique users per day", query: `SELECT day, uniqMerge(users) AS users FROM users_daily WHERE ${DAYS} GROUP BY day ORDER BY day` },
  { name: "sessions per day", query: `SELECT day, uniqMerge(sessions) AS sessions FROM users_daily WHERE ${DAYS} GROUP BY day ORDER BY day` },
  { name: "unique users in range", query: `SELECT uniqMerge(users) AS users, uniqMerge(sessions) AS sessions FROM users_daily WHERE ${DAYS}` },
  { name: "top events", query: `SELECT event, sum(events) AS events FROM events_hourly WHERE ${HOURS} AND type = 'track' GROUP BY event ORDER BY events DESC LIMIT 10` },
  { name: "top pages", query: `SELECT path, sum(views) AS views FROM pages_hourly WHERE ${HOURS} GROUP BY path ORDER BY views DESC LIMIT 10` },
  { name: "top countries", query: `SELECT country, sum(events) AS events FROM events_hourly WHERE ${HOURS} GROUP BY country ORDER BY events DESC LIMIT 10` },
  { name: "platforms and versions", query: `SELECT platform, app_version, sum(events) AS events FROM events_hourly WHERE ${HOURS} GROUP BY platform, app_version ORDER BY events DESC LIMIT 20` },
  {
    name: "crash-free users (alert)",
    query: `SELECT 1 - uniqMerge(crashed_users) / greatest(uniqMerge(users), 1) AS crash_free FROM users_daily WHERE ${DAYS}`,
  },
  {
    name: "events per minute, last hour (live)",
    query: `SELECT minute, sum(events) AS events FROM events_minutely WHERE app_id = {app:String} AND minute >= toStartOfMinute({to:DateTime64(3)} - INTERVAL 1 HOUR) GROUP BY minute ORDER BY minute`,
  },
  {
    name: "errors last hour (alert)",
    query: `SELECT count() AS errors FROM events WHERE app_id = {app:String} AND type = 'crash' AND timestamp >= {to:DateTime64(3)} - INTERVAL 1 HOUR AND timestamp < {to:DateTime64(3)}`,
  },
];
