import { finishPendingDeletions } from "../apps/delete";
import { withDeletionDeps } from "../apps/service";
import { config } from "../../schemas";
import { exportDeps } from "../exports/service";
import { runDueExports } from "../exports/run";
import { clickhouseClient } from "../lib/clickhouse";
import { warmDashboards } from "../../dashboard/app/insights/cards.server";
import { runAlerts } from "./alerts.cron";
import { pruneDeadLetters } from "./archive-retention.cron";
import { runLakeArchive } from "./lake.cron";
import { updateCrashStates } from "./crash-states.cron";
import { runPrivacyDeletions } from "./deletions.cron";
import { runRetention } from "./retention.cron";
import { log } from "../lib/log";

/** Schedules as in wrangler.toml. */
export const ARCHIVE_CRON = "17 3 * * *";
export const PURGE_CRON = "41 * * * *";
export const MINUTE_CRON = "* * * * *";

/** Runs the jobs of a Cron Trigger. */
export async function handleScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const now = new Date(controller.scheduledTime);
  if (controller.cron === ARCHIVE_CRON) {
    const deleted = await pruneDeadLetters(env, now);
    log.info("cron.dead_letters_pruned", { archives: deleted });
  }
  if (controller.cron === ARCHIVE_CRON) await runRetention(env, now.getTime());
  if (controller.cron === PURGE_CRON) {
    // Exports run even when purging fails this hour; the first failure is rethrown after.
    let failure: unknown = null;
    try {
      const { purged, failed } = await withDeletionDeps(env, (deps) => finishPendingDeletions(deps, now.getTime()));
      if (purged + failed > 0) log.info("cron.apps_purged", { purged, left: failed });
    } catch (err) {
      failure = err;
    }
    try {
      const exports = await exportDeps(env, (deps) => runDueExports(deps, now.getTime()));
      if (exports.ok + exports.retrying + exports.failed > 0) log[exports.failed > 0 ? "warn" : "info"]("cron.exports", { written: exports.ok, retrying: exports.retrying, failed: exports.failed });
    } catch (err) {
      failure ??= err;
    }
    try {
      await runLakeArchive(env, now.getTime());
    } catch (err) {
      failure ??= err;
    }
    if (failure !== null) throw failure;
  }
  if (controller.cron === MINUTE_CRON) {
    const client = clickhouseClient(config(env).clickhouse);
    // Alerting runs even when the crash states fail this minute; the first failure is rethrown after.
    let failure: unknown = null;
    try {
      const { changed, failed } = await updateCrashStates({ db: env.DB, client }, now.getTime());
      if (changed + failed > 0) log[failed > 0 ? "warn" : "info"]("cron.crash_states", { changed, left: failed });
    } catch (err) {
      failure = err;
    }
    try {
      // After the crash states: a regressed-issue rule reads the regressions this run recorded.
      const alerts = await runAlerts({ db: env.DB, client, queue: env.WEBHOOKS, dashboardUrl: config(env).dashboardUrl }, now.getTime());
      if (alerts.queued + alerts.requeued > 0) log.info("cron.alerts", { queued: alerts.queued, requeued: alerts.requeued });
      for (const f of alerts.failed) log.error("cron.alert_rules_failed", { app: f.appId, rule: f.ruleId, error: f.error });
      for (const s of alerts.skipped) log.error("cron.alert_not_sent", { rule: s.ruleId, endpoint: s.endpointId, reason: s.reason });
    } catch (err) {
      failure ??= err;
    } finally {
      await client.close();
    }
    try {
      // A deletion waits on ClickHouse mutations, which must not hold up alerting.
      await runPrivacyDeletions(env, now.getTime());
    } catch (err) {
      failure ??= err;
    }
    try {
      // Last, within its own time budget: the dashboards people open, computed before they are opened.
      const warmed = await warmDashboards({ db: env.DB, clickhouse: config(env).clickhouse }, now.getTime());
      if (warmed.dashboards + warmed.pruned > 0) log[warmed.failed > 0 ? "warn" : "info"]("cron.dashboards_warmed", { ...warmed });
    } catch (err) {
      failure ??= err;
    }
    if (failure !== null) throw failure;
  }
}
