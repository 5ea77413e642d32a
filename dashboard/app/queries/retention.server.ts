// What the app's settings page says about its data's lifetime: the oldest raw event still kept.
import type { DashboardEnv } from "../env.server";
import { queryApp } from "./clickhouse.server";

/**
 * The time of the app's oldest stored event (epoch ms), or null when it has none. Read in the
 * events table's key order (app, day), so only the first day's rows are read.
 */
export async function oldestEvent(cfg: DashboardEnv["clickhouse"], app: string): Promise<number | null> {
  const rows = await queryApp<{ ts: number }>(
    cfg,
    app,
    "SELECT toUnixTimestamp64Milli(timestamp) AS ts FROM events WHERE app_id = {app:String} ORDER BY toDate(timestamp), timestamp LIMIT 1",
  );
  return rows[0]?.ts ?? null;
}
