import { config } from "../../schemas";
import { clickhouseClient } from "../lib/clickhouse";
import { runDeletions, type DeletionRun } from "../privacy/job";
import { log } from "../lib/log";

/** Every minute: the pending deletions of people's data (workers/privacy/job.ts), on a client of their own. */
export async function runPrivacyDeletions(env: Env, now: number): Promise<DeletionRun> {
  const client = clickhouseClient(config(env).clickhouse);
  try {
    const run = await runDeletions({ db: env.DB, client }, now);
    if (run.done > 0) log.info("privacy.deletions", { done: run.done, waiting: run.waiting });
    for (const f of run.failed) log.error("privacy.deletion_failed", { app: f.appId, deletion: f.id, error: f.error });
    return run;
  } finally {
    await client.close();
  }
}
