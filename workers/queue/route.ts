// Which event queue carries an app's messages. One queue takes at most 5,000 messages/s, so
// apps are spread over `EVENTS_QUEUES` queues (bindings EVENTS_QUEUE, EVENTS_QUEUE_1, …), each
// consumed by the same sink. Exactly-once does not depend on the queue: a batch id is skipped
// by the sink whichever queue brings it, so changing the count while traffic flows only moves
// apps, and a batch resent after the change may arrive through another queue harmlessly.
import { config } from "../../schemas";
import { fnv1a32 } from "../lib/hash";

/** The binding name of event queue `index`: the first keeps the name it had before there were several. */
export function eventsQueueBinding(index: number): string {
  return index === 0 ? "EVENTS_QUEUE" : `EVENTS_QUEUE_${index}`;
}

/** The queue index of `appId` among `queues`: FNV-1a of the id, so an app always uses the same queue. */
export function eventsQueueIndex(appId: string, queues: number): number {
  return queues <= 1 ? 0 : fnv1a32(appId) % queues;
}

function isQueue(value: unknown): value is Queue {
  return typeof value === "object" && value !== null && "sendBatch" in value && typeof value.sendBatch === "function";
}

/**
 * The queue `appId`'s event and counter messages go to. Throws naming the binding when
 * `EVENTS_QUEUES` counts more queues than are bound: the sender keeps its rows and retries.
 */
export function eventsQueue(env: Env, appId: string): Queue {
  const name = eventsQueueBinding(eventsQueueIndex(appId, config(env).eventQueues));
  const queue: unknown = (env as unknown as Record<string, unknown>)[name];
  if (!isQueue(queue)) throw new Error(`EVENTS_QUEUES is ${config(env).eventQueues} but ${name} is not bound to a queue (wrangler.toml [[queues.producers]])`);
  return queue;
}

/** The event queue bindings `EVENTS_QUEUES` counts that are not bound: what `/ready` reports. */
export function unboundEventQueues(env: Env): string[] {
  const bindings = env as unknown as Record<string, unknown>;
  return Array.from({ length: config(env).eventQueues }, (_, i) => eventsQueueBinding(i)).filter((name) => !isQueue(bindings[name]));
}
