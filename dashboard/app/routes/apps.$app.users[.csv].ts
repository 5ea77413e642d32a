// The users list as a CSV download: same range, search and filters, most recently seen first.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseRange, rangeName } from "../queries/range";
import { exportUsers, parseUserFilters } from "../queries/users.server";
import { funnelDropouts } from "../insights/funnel-people.server";
import { pathPeople } from "../insights/paths.server";

const COLUMNS = ["user", "user_id", "first_seen", "last_seen", "events", "sessions", "platform", "country"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  return exportOr503(async () => {
    // The people a path or a funnel's drop-off narrowed the page to, as on the page.
    const people = pathPeople(url)?.people ?? funnelDropouts(url)?.people;
    const rows = (await exportUsers(env.clickhouse, app.id, range, { ...parseUserFilters(url), people })).map((u) => ({
      user: u.key,
      user_id: u.userId,
      first_seen: new Date(u.firstSeenMs).toISOString(),
      last_seen: new Date(u.lastSeenMs).toISOString(),
      events: u.events,
      sessions: u.sessions,
      platform: u.platform,
      country: u.country,
    }));
    return csvResponse(`${app.id}-users-${rangeName(range)}.csv`, toCsv(COLUMNS, rows));
  });
}
