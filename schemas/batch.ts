import { z } from "zod";
import { JsonObject, TimeInput } from "./events";
import { RejectCode } from "./errors";

/**
 * The `POST /v1/batch` body: `{batch: [event…], sentAt?, context?}`. Events stay `unknown`
 * here so that each is validated alone and one bad event does not reject the batch.
 */
export const BatchRequest = z.looseObject({
  batch: z.array(z.unknown()),
  sentAt: TimeInput.optional(),
  context: JsonObject.optional(),
  writeKey: z.string().max(256).optional(),
});
/** The `POST /v1/batch` body. */
export type BatchRequest = z.infer<typeof BatchRequest>;

/** Why one event was not accepted: `{index: 3, messageId: "m-3", code: "invalid_event", message: "event: required"}`. */
export const EventRejection = z.object({
  index: z.number().int().nonnegative(),
  messageId: z.string().nullable(),
  code: RejectCode,
  message: z.string(),
});
/** One event's rejection. */
export type EventRejection = z.infer<typeof EventRejection>;

/**
 * The 200 answer to an ingest request: `{accepted: 99, duplicates: 0, rejected: [{index: 3, …}]}`.
 * `accepted` counts events now durably buffered (duplicates included: sending twice is safe).
 */
export const BatchResponse = z.object({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  rejected: z.array(EventRejection),
});
/** The 200 answer to an ingest request. */
export type BatchResponse = z.infer<typeof BatchResponse>;
