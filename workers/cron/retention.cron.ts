// The retention job: each day, every app's raw events and per-person rows older than its
// retention are deleted from ClickHouse (docs/decisions/0017-retention-and-data-location.md).
import type { ClickHouseClient } from "@clickhouse/client-web";
import { config } from "../../schemas";
import { clickhouseClient, describeClickHouseError } from "../lib/clickhouse";
import { recordRetentionRuns, retentionCutoff, retentionTargets, type RetentionRun } from "../apps/retention";
import { log } from "../lib/log";

/**
 * The tables that hold raw events or a person's id, and the column that says when a row was
 * last touched. Rollups (hourly counts, uniq sketches) hold no id and keep their 365-day TTL.
 */
const PER_PERSON = [
  { table: "events", column: "timestamp", kind: "events" },
  // Ids by the hour they were active: a row goes once its whole hour is past the cutoff.
  { table: "people_hourly", column: "ended", kind: "person" },
  { table: "sessions", column: "ended", kind: "person" },
  { table: "user_profiles", column: "last_seen", kind: "person" },
  { table: "person_identities", column: "last_seen", kind: "person" },
] as const;

// Apps per count query and mutation: their ids and cutoffs travel as query parameters in the
// request's URL, which servers cap (16 KB for Node's HTTP server, 1 MiB for ClickHouse's).
const APPS_PER_QUERY = 100;

// Each app's cutoff in one query: a table is counted once per run whatever the number of apps.
const DUE_PREDICATE = `app_id IN {apps:Array(String)}
  AND {c:Identifier} < fromUnixTimestamp64Milli({latest:Int64}, 'UTC')
  AND toUnixTimestamp64Milli(toDateTime64({c:Identifier}, 3)) < transform(toString(app_id), {apps:Array(String)}, {cutoffs:Array(Int64)}, toInt64(0))`;

/** What a run did, for the cron's log line. */
export interface RetentionSummary {
  apps: number;
  eventsDeleted: number;
  personRowsDeleted: number;
  /** Tables whose count or delete failed; their rows are due again at the next run. */
  failed: string[];
}

/**
 * Deletes, for every live app, raw events older than its retention and the sessions, profiles
 * and identity links of people last seen before then; logs one run row per app in D1. Safe to
 * repeat: a second run finds nothing due and sends no mutation. A table that fails is logged on
 * the apps it concerned and retried by the next run.
 */
export async function enforceRetention(deps: { db: D1Database; client: ClickHouseClient }, now: number): Promise<RetentionSummary> {
  const targets = await retentionTargets(deps.db);
  const runs = targets.map((t): RetentionRun => ({ appId: t.appId, ranAt: now, cutoff: retentionCutoff(now, t.retentionDays), eventsDeleted: 0, personRowsDeleted: 0, error: null }));
  const failed = new Set<string>();
  for (let i = 0; i < runs.length; i += APPS_PER_QUERY) {
    const chunk = runs.slice(i, i + APPS_PER_QUERY);
    for (const table of PER_PERSON) {
      try {
        await enforceOn(deps.client, table, chunk);
      } catch (err) {
        failed.add(table.table);
        const message = `${table.table}: ${describeClickHouseError(err)}`.slice(0, 500);
        log.error("retention.failed", { table: table.table, apps: chunk.map((r) => r.appId), error: describeClickHouseError(err).slice(0, 500) });
        for (const run of chunk) run.error = run.error ? `${run.error}; ${message}` : message;
      }
    }
  }
  await recordRetentionRuns(deps.db, runs, now);
  return {
    apps: runs.length,
    eventsDeleted: runs.reduce((n, r) => n + r.eventsDeleted, 0),
    personRowsDeleted: runs.reduce((n, r) => n + r.personRowsDeleted, 0),
    failed: [...failed],
  };
}

// One table for a group of apps: a count of what is due, then one mutation for the apps that
// have rows due, counted on their runs.
async function enforceOn(client: ClickHouseClient, { table, column, kind }: (typeof PER_PERSON)[number], runs: readonly RetentionRun[]): Promise<void> {
  const paramsFor = (list: readonly RetentionRun[]) => ({
    t: table,
    c: column,
    apps: list.map((r) => r.appId),
    cutoffs: list.map((r) => r.cutoff),
    latest: Math.max(...list.map((r) => r.cutoff)),
  });
  const due = await (
    await client.query({ query: `SELECT toString(app_id) AS app, count() AS n FROM {t:Identifier} WHERE ${DUE_PREDICATE} GROUP BY app`, query_params: paramsFor(runs), format: "JSONEachRow" })
  ).json<{ app: string; n: string }>();
  const counts = new Map(due.map((d) => [d.app, Number(d.n)]));
  const dueRuns = runs.filter((r) => (counts.get(r.appId) ?? 0) > 0);
  if (dueRuns.length === 0) return;
  await client.command({
    query: `ALTER TABLE {t:Identifier} DELETE WHERE ${DUE_PREDICATE}`,
    query_params: paramsFor(dueRuns),
    // The run's log says what is gone, so the job waits until it is.
    clickhouse_settings: { mutations_sync: "2" },
  });
  for (const run of dueRuns) {
    const n = counts.get(run.appId) ?? 0;
    if (kind === "events") run.eventsDeleted += n;
    else run.personRowsDeleted += n;
  }
}

// Not typed by the Worker's Env (config checks the ClickHouse settings): the dashboard's tests
// compile this file to run the job against their own D1.
/** The daily Cron Trigger's part: enforces retention with the Worker's ClickHouse and logs what it did. */
export async function runRetention(env: { DB: D1Database }, now: number): Promise<void> {
  const client = clickhouseClient(config(env).clickhouse);
  try {
    const r = await enforceRetention({ db: env.DB, client }, now);
    log[r.failed.length > 0 ? "warn" : "info"]("retention.run", { apps: r.apps, events_deleted: r.eventsDeleted, person_rows_deleted: r.personRowsDeleted, failed_tables: r.failed });
  } finally {
    await client.close();
  }
}
