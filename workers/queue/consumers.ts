// Which of the Worker's queue consumers a batch is for, from the name of the queue it came from.
import { WEBHOOK_DEAD_LETTER_QUEUE, WEBHOOK_QUEUE } from "../alerts/webhooks/queue";

/** The dead-letter queue of the events queues: its consumer archives to R2. */
const EVENTS_DEAD_LETTER_QUEUE = "telemetry-events-dlq";

export type Consumer = "events" | "event-dead-letters" | "webhooks" | "webhook-dead-letters";

/**
 * The consumer of queue `name`. A deployed environment's queues are the top-level names of
 * wrangler.toml with `-<ENVIRONMENT>` after them (dev/deploy/environment.ts): `consumerOf("telemetry-webhooks-staging", "staging")` is `"webhooks"`.
 */
export function consumerOf(name: string, environment: string | undefined): Consumer {
  const suffix = environment ? `-${environment}` : "";
  const queue = suffix && name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
  if (queue === WEBHOOK_QUEUE) return "webhooks";
  if (queue === WEBHOOK_DEAD_LETTER_QUEUE) return "webhook-dead-letters";
  if (queue === EVENTS_DEAD_LETTER_QUEUE || queue.endsWith("-dlq")) return "event-dead-letters";
  return "events";
}
