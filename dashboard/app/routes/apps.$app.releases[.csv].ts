// Release health as a CSV download: the releases page's table for the same range.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseRange, rangeName } from "../queries/range";
import { loadReleases } from "../queries/releases.server";

const COLUMNS = ["release", "first_seen", "adoption", "users", "crashed_users", "crash_free_users", "sessions", "crashed_sessions", "crash_free_sessions", "crashes", "new_issues"] as const;

const ratio = (r: number | null): string => (r === null ? "" : r.toFixed(6));

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const range = parseRange(new URL(request.url));
  return exportOr503(async () => {
    const { releases } = await loadReleases(env.clickhouse, app.id, range);
    const rows = releases.map((r) => ({
      release: r.release,
      first_seen: r.firstSeen ? new Date(r.firstSeen).toISOString() : "",
      adoption: ratio(r.adoption),
      users: r.users,
      crashed_users: r.crashedUsers,
      crash_free_users: ratio(r.crashFreeUsers),
      sessions: r.sessions,
      crashed_sessions: r.crashedSessions,
      crash_free_sessions: ratio(r.crashFreeSessions),
      crashes: r.crashes,
      new_issues: r.newIssues,
    }));
    return csvResponse(`${app.id}-releases-${rangeName(range)}.csv`, toCsv(COLUMNS, rows));
  });
}
