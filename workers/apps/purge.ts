import type { ClickHouseClient } from "@clickhouse/client-web";

// Found by their `app_id` column, so a table added by a later migration is purged too.
// `ingest_batches` is kept: it holds batch ids only, and it is what makes the sink skip a batch
// of the deleted app that the queue delivers again.
const TABLES_WITH_APP_ROWS = `
  SELECT DISTINCT table FROM system.columns
  WHERE database = currentDatabase() AND name = 'app_id' AND table != 'ingest_batches'
    AND table IN (SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree')
  ORDER BY table`;

/**
 * Removes every row of `appId` from ClickHouse: raw events, rollups, sessions, profiles and
 * pipeline counters. Only tables that hold rows of the app get a mutation, and each waits until
 * it is done, so a resolved call means the rows are gone. Throws when ClickHouse fails.
 */
export async function purgeAppRows(client: ClickHouseClient, appId: string): Promise<void> {
  const tables = await (await client.query({ query: TABLES_WITH_APP_ROWS, format: "JSONEachRow" })).json<{ table: string }>();
  for (const { table } of tables) {
    const params = { t: table, app: appId };
    const [held] = await (await client.query({ query: "SELECT count() AS n FROM {t:Identifier} WHERE app_id = {app:String}", query_params: params, format: "JSONEachRow" })).json<{ n: string }>();
    if (Number(held?.n ?? 0) === 0) continue;
    await client.command({ query: "ALTER TABLE {t:Identifier} DELETE WHERE app_id = {app:String}", query_params: params, clickhouse_settings: { mutations_sync: "2" } });
  }
}

/**
 * Removes what D1 holds about an app's data: its crashes (grouping rules, issue states and their
 * history), its flags and configuration with their history, its exports and its dashboard cards' results. The app's own row stays as its
 * tombstone, so these rows would never go by cascade.
 */
export async function purgeAppMetadata(db: D1Database, appId: string): Promise<void> {
  await db.batch(
    ["crash_rules", "crash_issue_states", "crash_issue_history", "flags", "flag_changes", "app_config_versions", "export_runs", "export_schedules", "card_results"].map((table) => db.prepare(`DELETE FROM ${table} WHERE app_id = ?`).bind(appId)),
  );
}
