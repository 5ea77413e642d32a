import { z } from "zod";

/** How an endpoint wants its bodies: the versioned JSON body, or Slack's `{text, blocks}`. */
export const WebhookFormat = z.enum(["standard", "slack"]);
/** `"standard"` or `"slack"`. */
export type WebhookFormat = z.infer<typeof WebhookFormat>;

/** What an alert delivery tells: a rule started firing, cleared, or someone asked for a sample. */
export const AlertEventType = z.enum(["alert.firing", "alert.resolved", "alert.test"]);
/** `"alert.firing"`, `"alert.resolved"` or `"alert.test"`. */
export type AlertEventType = z.infer<typeof AlertEventType>;

/** What any delivery tells: an alert's, or a scheduled export that failed for good (schemas/exports.ts ExportFailedBody). */
export const WebhookEventType = z.enum([...AlertEventType.options, "export.failed"]);
/** An alert's event type or `"export.failed"`. */
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The version of the standard body; a breaking change gets a new number, never a silent change. */
export const WEBHOOK_BODY_VERSION = 1;

/**
 * The standard webhook body, version 1, signed as sent. Example:
 * `{type: "alert.firing", version: 1, id: "msg_…", occurredAt: "2026-12-01T10:00:00.000Z",
 *   app: {id: "app_shop", name: "Shop"}, rule: {id: "rule_1", name: "Checkout failures",
 *   metric: "event_count", filter: {event: "Checkout Failed"}, window: 60, condition: "above 5"},
 *   value: 6, threshold: 5, state: "firing", links: {rule: "https://…", view: "https://…"}}`
 */
export const WebhookBody = z.object({
  type: AlertEventType,
  version: z.literal(WEBHOOK_BODY_VERSION),
  /** The same as the `webhook-id` header: receivers deduplicate retries by it. */
  id: z.string().min(1),
  /** When the rule changed state (or the test was asked for), ISO 8601 UTC. */
  occurredAt: z.iso.datetime(),
  app: z.object({ id: z.string(), name: z.string() }),
  rule: z.object({
    id: z.string(),
    name: z.string(),
    /** The metric kind the rule measures, e.g. `"event_count"`. */
    metric: z.string(),
    /** The rule's filters by dimension, e.g. `{event: "Checkout Failed", platform: "ios"}`; empty for none. */
    filter: z.record(z.string(), z.string()),
    /** The evaluation window in seconds, from 60 to 86,400. */
    window: z.number().int().positive(),
    /** The condition as people read it, e.g. `"above 5"` or `"up 20 % on the previous window"`. */
    condition: z.string(),
  }),
  /** The metric's value over the window that decided the state; null when there was no data. */
  value: z.number().nullable(),
  threshold: z.number(),
  state: z.enum(["firing", "resolved"]),
  /** Dashboard pages: the rule with its history, and the view of the metric it watches. */
  links: z.object({ rule: z.url(), view: z.url() }),
});
/** The standard webhook body. */
export type WebhookBody = z.infer<typeof WebhookBody>;

/** `POST …/webhooks`: `{url: "https://hooks.example.com/alerts", description: "on-call", format: "standard"}`. */
export const CreateWebhookEndpoint = z.object({
  url: z.string().min(1).max(2048),
  description: z.string().max(500).default(""),
  format: WebhookFormat.default("standard"),
});
/** The body of creating an endpoint. */
export type CreateWebhookEndpoint = z.infer<typeof CreateWebhookEndpoint>;

/** `PATCH …/webhooks/:id`: any of `{url, description, format, enabled}`; enabling clears the failure record. */
export const UpdateWebhookEndpoint = z.object({
  url: z.string().min(1).max(2048).optional(),
  description: z.string().max(500).optional(),
  format: WebhookFormat.optional(),
  enabled: z.boolean().optional(),
});
/** The body of changing an endpoint. */
export type UpdateWebhookEndpoint = z.infer<typeof UpdateWebhookEndpoint>;

/** An endpoint as listed, never with its secret: `{id: "whe_…", url, enabled: false, disabledReason: "failing for 24 h", …}`. */
export interface WebhookEndpointInfo {
  id: string;
  orgId: string;
  url: string;
  description: string;
  format: WebhookFormat;
  enabled: boolean;
  disabledReason: string | null;
  /** Since when every attempt has failed (ms); null while the last one succeeded. */
  failingSince: number | null;
  createdAt: number;
  createdBy: string | null;
}

/** A delivery as listed: `{id: "msg_…", status: "failed", attempts: 12, nextAttemptAt: null, …}`. */
export interface WebhookDeliveryInfo {
  id: string;
  endpointId: string;
  appId: string;
  ruleId: string | null;
  eventType: WebhookEventType;
  payload: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: number | null;
  createdAt: number;
}

/** One attempt as logged: `{at, statusCode: 500, error: null, latencyMs: 83, responseExcerpt: "oops"}`. */
export interface WebhookAttemptInfo {
  deliveryId: string;
  at: number;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  responseExcerpt: string;
}
