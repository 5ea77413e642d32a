// The users list as a CSV download: same range, search and filters, most recently seen first.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { rangeName } from "../queries/range";
import { parseUsersQuery } from "../queries/users-list.server";
import { exportUsers } from "../queries/users.server";

const COLUMNS = ["user", "user_id", "first_seen", "last_seen", "events", "sessions", "platform", "country"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  // The people a path or a funnel's drop-off narrowed the page to, as on the page.
  const { range, filters } = parseUsersQuery(new URL(request.url));
  return exportOr503(async () => {
    const rows = (await exportUsers(env.clickhouse, app.id, range, filters)).map((u) => ({
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
