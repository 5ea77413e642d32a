// The retention job: each day, every app's raw events and per-person rows older than its
// retention are deleted from ClickHouse (docs/decisions/0017-retention-and-data-location.md).
import type { ClickHouseClient } from "@clickhouse/client-web";
import { config } from "../../schemas";
import { clickhouseClient } from "../lib/clickhouse";
import { recordRetentionRuns, retentionCutoff, retentionTargets, type RetentionRun } from "../apps/retention";

/**
 * The tables that hold raw events or a person's id, and the column that says when a row was
 * last touched. Rollups (hourly counts, uniq sketches) hold no id and keep their 365-day TTL.
 */
const PER_PERSON = [
  { table: "events", column: "timestamp", kind: "events" },
  { table: "sessions", column: "ended", kind: "person" },
  { table: "user_profiles", column: "last_seen", kind: "person" },
  { table: "person_identities", column: "last_seen", kind: "person" },
] as const;

// Each app's cutoff in one query: a table is counted once per run whatever the number of apps.
const DUE_PREDICATE = `app_id IN {apps:Array(String)}
  AND {c:Identifier} < fromUnixTimestamp64Milli({latest:Int64}, 'UTC')
  AND toUnixTimestamp64Milli({c:Identifier}) < transform(toString(app_id), {apps:Array(String)}, {cutoffs:Array(Int64)}, toInt64(0))`;

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
  const runs = new Map<string, RetentionRun>(
    targets.map((t) => [t.appId, { appId: t.appId, ranAt: now, cutoff: retentionCutoff(now, t.retentionDays), eventsDeleted: 0, personRowsDeleted: 0, error: null }]),
  );
  const failed: string[] = [];
  if (targets.length > 0) {
    const params = { apps: targets.map((t) => t.appId), cutoffs: targets.map((t) => retentionCutoff(now, t.retentionDays)) };
    const latest = Math.max(...params.cutoffs);
    for (const { table, column, kind } of PER_PERSON) {
      const query_params = { ...params, latest, t: table, c: column };
      try {
        const due = await (
          await deps.client.query({ query: `SELECT toString(app_id) AS app, count() AS n FROM {t:Identifier} WHERE ${DUE_PREDICATE} GROUP BY app`, query_params, format: "JSONEachRow" })
        ).json<{ app: string; n: string }>();
        const dueApps = due.filter((d) => Number(d.n) > 0);
        if (dueApps.length === 0) continue;
        await deps.client.command({
          query: `ALTER TABLE {t:Identifier} DELETE WHERE ${DUE_PREDICATE}`,
          query_params: { ...query_params, apps: dueApps.map((d) => d.app), cutoffs: dueApps.map((d) => runs.get(d.app)?.cutoff ?? 0) },
          // The run's log says what is gone, so the job waits until it is.
          clickhouse_settings: { mutations_sync: "2" },
        });
        for (const d of dueApps) {
          const run = runs.get(d.app);
          if (!run) continue;
          if (kind === "events") run.eventsDeleted += Number(d.n);
          else run.personRowsDeleted += Number(d.n);
        }
      } catch (err) {
        failed.push(table);
        const message = `${table}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
        console.error(`retention: ${message}`);
        for (const run of runs.values()) run.error = run.error ? `${run.error}; ${message}` : message;
      }
    }
  }
  const all = [...runs.values()];
  await recordRetentionRuns(deps.db, all, now);
  return {
    apps: all.length,
    eventsDeleted: all.reduce((n, r) => n + r.eventsDeleted, 0),
    personRowsDeleted: all.reduce((n, r) => n + r.personRowsDeleted, 0),
    failed,
  };
}

/** The daily Cron Trigger's part: enforces retention with the Worker's ClickHouse and logs what it did. */
export async function runRetention(env: Env, now: number): Promise<void> {
  const client = clickhouseClient(config(env).clickhouse);
  try {
    const r = await enforceRetention({ db: env.DB, client }, now);
    const failed = r.failed.length > 0 ? `; ${r.failed.join(", ")} left for the next run` : "";
    console.log(`cron: retention checked ${r.apps} apps, deleted ${r.eventsDeleted} events and ${r.personRowsDeleted} per-person rows${failed}`);
  } finally {
    await client.close();
  }
}
