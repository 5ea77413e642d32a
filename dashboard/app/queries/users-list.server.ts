// What the users list reads from its URL (range, search, filters, page and, from an insight, the
// people on one path or who dropped at a funnel's step) and what it shows for it; one reading
// for the page, its CSV and the query API.
import type { DashboardEnv } from "../env.server";
import { funnelDropouts } from "../insights/funnel-people.server";
import { pathPeople } from "../insights/paths.server";
import { parseCursor } from "./cursor";
import { loadDimOptions } from "./overview.server";
import { parseRange } from "./range";
import { activeUsersPerDay, listUsers, parseUserFilters } from "./users.server";

export function parseUsersQuery(url: URL, now = Date.now()) {
  const onPath = pathPeople(url, now);
  const dropped = onPath ? null : funnelDropouts(url, now);
  const raw = parseCursor(url.searchParams.get("before"));
  return {
    range: parseRange(url, now),
    filters: { ...parseUserFilters(url), people: onPath?.people ?? dropped?.people },
    before: raw ? { ts: raw.ts, key: raw.id } : null,
    onPath: onPath ? { steps: onPath.steps, insight: onPath.insight } : null,
    dropped: dropped ? { step: dropped.step, reached: dropped.reached, missed: dropped.missed, insight: dropped.insight, breakdown: dropped.breakdown } : null,
  };
}

export type UsersQuery = ReturnType<typeof parseUsersQuery>;

/** A page of users, active users per day and the filters' options. */
export async function loadUsersList(cfg: DashboardEnv["clickhouse"], appId: string, q: UsersQuery) {
  const [page, daily, options] = await Promise.all([
    listUsers(cfg, appId, q.range, q.filters, q.before),
    activeUsersPerDay(cfg, appId, q.range, q.filters.dims, q.filters.people),
    loadDimOptions(cfg, appId, q.range),
  ]);
  return { page, daily, options };
}
