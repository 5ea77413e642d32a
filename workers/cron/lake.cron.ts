import { archiveAllApps } from "../lake/archive";
import { compactAllApps } from "../lake/compact";
import { forgetInLakes } from "../lake/forget";
import { withLakeDeps } from "../lake/service";

/**
 * The hourly part of the data lake: every app's finished hours to Parquet in R2, each finished
 * small day compacted into fewer files, then the files of people whose deletion ClickHouse is done
 * with rewritten without them.
 */
export async function runLakeArchive(env: Env, now: number): Promise<void> {
  await withLakeDeps(env, async (deps) => {
    const { archived, failed } = await archiveAllApps(deps, now);
    const files = archived.reduce((n, a) => n + a.files, 0);
    if (files > 0) console.log(`cron: lake: ${files} files of ${archived.filter((a) => a.files > 0).length} apps`);
    for (const f of failed) console.error(`cron: lake of ${f.appId} left for the next run: ${f.error}`);
    const compaction = await compactAllApps(deps, now);
    const days = compaction.compacted.filter((c) => c.days > 0);
    if (days.length > 0) console.log(`cron: lake: ${days.reduce((n, c) => n + c.days, 0)} days of ${days.length} apps compacted from ${days.reduce((n, c) => n + c.filesBefore, 0)} files into ${days.reduce((n, c) => n + c.filesAfter, 0)}`);
    for (const f of compaction.failed) console.error(`cron: lake compaction of ${f.appId} left for the next run: ${f.error}`);
    const forgot = await forgetInLakes(deps, now);
    if (forgot.rewritten + forgot.done > 0) console.log(`cron: lake: ${forgot.rewritten} files rewritten without deleted people, ${forgot.done} deletions done in the lake`);
    for (const f of forgot.failed) console.error(`cron: lake: deletion ${f.id} of ${f.appId} left for the next run: ${f.error}`);
  });
}
