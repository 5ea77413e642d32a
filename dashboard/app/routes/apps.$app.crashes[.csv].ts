// The crash issues list as a CSV download: same range, filters, status and order as the page.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { issueStates } from "../db/crash-issues.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { parseIssueFilters } from "../queries/crash-filters";
import { exportIssues } from "../queries/crashes.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseRange, rangeName } from "../queries/range";

const COLUMNS = ["fingerprint", "status", "type", "message", "culprit", "events", "users", "fatal", "dropped", "first_seen", "last_seen", "releases", "platforms"] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  const states = await issueStates(env.db, app.id);
  return exportOr503(async () => {
    const rows = (await exportIssues(env.clickhouse, app.id, range, parseIssueFilters(url), states)).map((r) => ({
      fingerprint: r.fingerprint,
      status: states.get(r.fingerprint)?.status ?? "unresolved",
      type: r.type,
      message: r.message,
      culprit: r.culprit,
      events: r.events,
      users: r.users,
      fatal: r.fatal,
      dropped: r.dropped,
      first_seen: new Date(r.firstSeenMs).toISOString(),
      last_seen: new Date(r.lastSeenMs).toISOString(),
      releases: r.releases.join(" "),
      platforms: r.platforms.join(" "),
    }));
    return csvResponse(`${app.id}-crashes-${rangeName(range)}.csv`, toCsv(COLUMNS, rows));
  });
}
