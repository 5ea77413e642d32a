import { archiveAllApps } from "../lake/archive";
import { withLakeDeps } from "../lake/service";

/** The hourly part of the data lake: every app's finished hours to Parquet in R2. */
export async function runLakeArchive(env: Env, now: number): Promise<void> {
  const { archived, failed } = await withLakeDeps(env, (deps) => archiveAllApps(deps, now));
  const files = archived.reduce((n, a) => n + a.files, 0);
  if (files > 0) console.log(`cron: lake: ${files} files of ${archived.filter((a) => a.files > 0).length} apps`);
  for (const f of failed) console.error(`cron: lake of ${f.appId} left for the next run: ${f.error}`);
}
