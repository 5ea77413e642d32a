import { config } from "../../schemas";
import { clickhouseClient } from "../lib/clickhouse";
import { runDeletions, type DeletionRun } from "../privacy/job";

/** Every minute: the pending deletions of people's data (workers/privacy/job.ts), on a client of their own. */
export async function runPrivacyDeletions(env: Env, now: number): Promise<DeletionRun> {
  const client = clickhouseClient(config(env).clickhouse);
  try {
    const run = await runDeletions({ db: env.DB, client }, now);
    if (run.done > 0) console.log(`cron: ${run.done} deletion requests done, ${run.waiting} waiting`);
    for (const f of run.failed) console.error(`cron: deletion ${f.id} of ${f.appId} left for the next run: ${f.error}`);
    return run;
  } finally {
    await client.close();
  }
}
