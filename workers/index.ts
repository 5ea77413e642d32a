import { localD1Env } from "../schemas/local-d1";
import { app } from "./http/app";
import { handleScheduled } from "./cron";
import { handleDeadLetterBatch } from "./queue/dead-letters";
import { handleSinkBatch } from "./queue/sink";
import { handleWebhookBatch, handleWebhookDeadLetters, webhookConsumerDeps } from "./alerts/webhooks/queue";
import { consumerOf } from "./queue/consumers";

export { AppBatcher } from "../durable-objects/app-batcher";
export { AppsService } from "./apps/service";
export { AlertsService } from "./alerts/service";
export { ExportsService } from "./exports/service";

export default {
  fetch: (request, env, ctx) => app.fetch(request, localD1Env(env), ctx),
  async queue(batch, raw) {
    const env = localD1Env(raw);
    const consumer = consumerOf(batch.queue, typeof env.ENVIRONMENT === "string" ? env.ENVIRONMENT : undefined);
    if (consumer === "webhooks") await handleWebhookBatch(batch, webhookConsumerDeps(env));
    else if (consumer === "webhook-dead-letters") await handleWebhookDeadLetters(batch, webhookConsumerDeps(env));
    else if (consumer === "event-dead-letters") await handleDeadLetterBatch(batch, env);
    else await handleSinkBatch(batch, env);
  },
  async scheduled(controller, env) {
    await handleScheduled(controller, localD1Env(env));
  },
} satisfies ExportedHandler<Env, unknown>;
