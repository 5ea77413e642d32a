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

export default {
  fetch: (request, env, ctx) => app.fetch(request, localD1Env(env), ctx),
  async queue(batch, raw) {
    const env = localD1Env(raw);
    if (batch.queue === WEBHOOK_QUEUE) await handleWebhookBatch(batch, webhookConsumerDeps(env));
    else if (batch.queue === WEBHOOK_DEAD_LETTER_QUEUE) await handleWebhookDeadLetters(batch, webhookConsumerDeps(env));
    else if (batch.queue === DEAD_LETTER_QUEUE || batch.queue.endsWith("-dlq")) await handleDeadLetterBatch(batch, env);
    else await handleSinkBatch(batch, env);
  },
  async scheduled(controller, env) {
    await handleScheduled(controller, localD1Env(env));
  },
} satisfies ExportedHandler<Env, unknown>;
