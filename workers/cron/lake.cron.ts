import { archiveAllApps } from "../lake/archive";
import { compactAllApps } from "../lake/compact";
import { forgetInLakes } from "../lake/forget";
import { withLakeDeps } from "../lake/service";
import { log } from "../lib/log";

/**
 * The hourly part of the data lake: every app's finished hours to Parquet in R2, each finished
 * small day compacted into fewer files, then the files of people whose deletion ClickHouse is done
 * with rewritten without them.
 */
export async function runLakeArchive(env: Env, now: number): Promise<void> {
  await withLakeDeps(env, async (deps) => {
    const { archived, failed } = await archiveAllApps(deps, now);
    const files = archived.reduce((n, a) => n + a.files, 0);
    if (files > 0) log.info("lake.archived", { files, apps: archived.filter((a) => a.files > 0).length });
    for (const f of failed) log.error("lake.archive_failed", { app: f.appId, error: f.error });
    const compaction = await compactAllApps(deps, now);
    const days = compaction.compacted.filter((c) => c.days > 0);
    if (days.length > 0) log.info("lake.compacted", { days: days.reduce((n, c) => n + c.days, 0), apps: days.length, files_before: days.reduce((n, c) => n + c.filesBefore, 0), files_after: days.reduce((n, c) => n + c.filesAfter, 0) });
    for (const f of compaction.failed) log.error("lake.compaction_failed", { app: f.appId, error: f.error });
    const forgot = await forgetInLakes(deps, now);
    if (forgot.rewritten + forgot.done > 0) log.info("lake.people_deleted", { files_rewritten: forgot.rewritten, deletions_done: forgot.done });
    for (const f of forgot.failed) log.error("lake.deletion_failed", { app: f.appId, deletion: f.id, error: f.error });
  });
}
