import { localD1Env } from "../schemas/local-d1";
import { app } from "./http/app";
import { handleScheduled } from "./cron";
import { handleDeadLetterBatch } from "./queue/dead-letters";
import { handleSinkBatch } from "./queue/sink";
import { handleWebhookBatch, handleWebhookDeadLetters, WEBHOOK_DEAD_LETTER_QUEUE, WEBHOOK_QUEUE, webhookConsumerDeps } from "./alerts/webhooks/queue";

export { AppBatcher } from "../durable-objects/app-batcher";
export { AppsService } from "./apps/service";
export { AlertsService } from "./alerts/service";
export { ExportsService } from "./exports/service";

/** Queue names as in wrangler.toml: the dead-letter queue's consumer archives to R2. */
const DEAD_LETTER_QUEUE = "telemetry-events-dlq";

/** A queue's name as the top level of wrangler.toml has it: a deployed environment's names end in `-<ENVIRONMENT>` (dev/deploy/environment.ts). */
function topLevelQueueName(name: string, env: Env): string {
  const suffix = typeof env.ENVIRONMENT === "string" && env.ENVIRONMENT !== "" ? `-${env.ENVIRONMENT}` : undefined;
  return suffix !== undefined && name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
}

export default {
  fetch: (request, env, ctx) => app.fetch(request, localD1Env(env), ctx),
  async queue(batch, raw) {
    const env = localD1Env(raw);
    const queue = topLevelQueueName(batch.queue, env);
    if (queue === WEBHOOK_QUEUE) await handleWebhookBatch(batch, webhookConsumerDeps(env));
    else if (queue === WEBHOOK_DEAD_LETTER_QUEUE) await handleWebhookDeadLetters(batch, webhookConsumerDeps(env));
    else if (queue === DEAD_LETTER_QUEUE || queue.endsWith("-dlq")) await handleDeadLetterBatch(batch, env);
    else await handleSinkBatch(batch, env);
  },
  async scheduled(controller, env) {
    await handleScheduled(controller, localD1Env(env));
  },
} satisfies ExportedHandler<Env, unknown>;
