// The sessions list as a CSV download: same range and filters, newest first.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportOr503 } from "../queries/clickhouse.server";
import { csvResponse, toCsv } from "../queries/csv";
import { parseRange, rangeName } from "../queries/range";
import { exportSessions, parseSessionFilters } from "../queries/sessions.server";

const COLUMNS = [
  "session_id",
  "started",
  "duration_s",
  "events",
  "views",
  "actions",
  "crashes",
  "user_id",
  "anonymous_id",
  "platform",
  "country",
  "entry",
  "exit",
  "bounced",
] as const;

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { app } = await requireApp(request, env, params.app, "data:export");
  const url = new URL(request.url);
  const range = parseRange(url);
  return exportOr503(async () => {
    const rows = (await exportSessions(env.clickhouse, app.id, range, parseSessionFilters(url))).map((s) => ({
      session_id: s.id,
      started: new Date(s.startedMs).toISOString(),
      duration_s: Math.round(s.durationMs / 1000),
      events: s.events,
      views: s.views,
      actions: s.actions,
      crashes: s.crashes,
      user_id: s.userId,
      anonymous_id: s.anonymousId,
      platform: s.platform,
      country: s.country,
      entry: s.entry,
      exit: s.exit,
      bounced: s.bounced,
    }));
    return csvResponse(`${app.id}-sessions-${rangeName(range)}.csv`, toCsv(COLUMNS, rows));
  });
}
