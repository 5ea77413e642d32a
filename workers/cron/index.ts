import { pruneDeadLetters } from "./archive-retention.cron";

/** Runs the jobs of a Cron Trigger; the schedules are in wrangler.toml. */
export async function handleScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const now = new Date(controller.scheduledTime);
  if (controller.cron === "17 3 * * *") {
    const deleted = await pruneDeadLetters(env, now);
    console.log(`cron: pruned ${deleted} dead-letter archives`);
  }
}
