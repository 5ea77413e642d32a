import { z } from "zod";

/** Every error code the API can answer with, e.g. `"invalid_json"`. */
export const ErrorCode = z.enum([
  "invalid_json",
  "invalid_body",
  "empty_batch",
  "unsupported_media_type",
  "unsupported_encoding",
  "payload_too_large",
  "batch_too_large",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "rate_limited",
  "buffer_full",
  "unavailable",
  "internal",
]);
/** An error code, e.g. `"rate_limited"`. */
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The one error body every non-2xx answer uses, e.g. `{error: {code: "unauthorized", message: "unknown write key"}}`. */
export const ApiError = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
/** The one error body: `{error: {code, message, details?}}`. */
export type ApiError = z.infer<typeof ApiError>;

/** Why a single event of a batch was rejected, e.g. `"invalid_event"`. */
export const RejectCode = z.enum(["invalid_event", "event_too_large", "too_deep", "invalid_timestamp"]);
/** A per-event rejection code, e.g. `"event_too_large"`. */
export type RejectCode = z.infer<typeof RejectCode>;
