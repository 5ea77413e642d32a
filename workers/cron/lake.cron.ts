import { archiveAllApps } from "../lake/archive";
import { forgetInLakes } from "../lake/forget";
import { withLakeDeps } from "../lake/service";

/**
 * The hourly part of the data lake: every app's finished hours to Parquet in R2, then the files of
 * people whose deletion ClickHouse is done with rewritten without them.
 */
export async function runLakeArchive(env: Env, now: number): Promise<void> {
  await withLakeDeps(env, async (deps) => {
    const { archived, failed } = await archiveAllApps(deps, now);
    const files = archived.reduce((n, a) => n + a.files, 0);
    if (files > 0) console.log(`cron: lake: ${files} files of ${archived.filter((a) => a.files > 0).length} apps`);
    for (const f of failed) console.error(`cron: lake of ${f.appId} left for the next run: ${f.error}`);
    const forgot = await forgetInLakes(deps, now);
    if (forgot.rewritten + forgot.done > 0) console.log(`cron: lake: ${forgot.rewritten} files rewritten without deleted people, ${forgot.done} deletions done in the lake`);
    for (const f of forgot.failed) console.error(`cron: lake: deletion ${f.id} of ${f.appId} left for the next run: ${f.error}`);
  });
}
