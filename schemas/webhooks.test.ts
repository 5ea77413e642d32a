import { describe, expect, it } from "vitest";
import { CreateWebhookEndpoint, UpdateWebhookEndpoint, WEBHOOK_BODY_VERSION, WebhookBody, WebhookEventType, WebhookFormat } from "./webhooks";

describe("webhook schemas", () => {
  it("a new endpoint needs only its URL: standard format, no description", () => {
    expect(CreateWebhookEndpoint.parse({ url: "https://hooks.example.com/a" })).toEqual({ url: "https://hooks.example.com/a", description: "", format: "standard" });
    expect(CreateWebhookEndpoint.safeParse({ url: "https://hooks.example.com/a", format: "teams" }).success).toBe(false);
    expect(CreateWebhookEndpoint.safeParse({ url: "" }).success).toBe(false);
  });

  it("a change names only what changes", () => {
    expect(UpdateWebhookEndpoint.parse({ enabled: true })).toEqual({ enabled: true });
    expect(UpdateWebhookEndpoint.safeParse({ enabled: "yes" }).success).toBe(false);
    expect(UpdateWebhookEndpoint.safeParse({ description: "x".repeat(501) }).success).toBe(false);
  });

  it("the body is version 1 and says one of three alert event types (or a failed export); endpoints choose one of two formats", () => {
    expect(WEBHOOK_BODY_VERSION).toBe(1);
    expect(WebhookEventType.options).toEqual(["alert.firing", "alert.resolved", "alert.test", "export.failed"]);
    expect(WebhookFormat.options).toEqual(["standard", "slack"]);
    const body = {
      type: "alert.firing",
      version: 1,
      id: "msg_1",
      occurredAt: "2026-12-01T10:00:00.000Z",
      app: { id: "app_shop", name: "Shop" },
      rule: { id: "rule_1", name: "Checkout failures", metric: "event_count", filter: {}, window: 60, condition: "above 5" },
      value: 6,
      threshold: 5,
      state: "firing",
      links: { rule: "https://dash.example.com/r", view: "https://dash.example.com/v" },
    };
    expect(WebhookBody.parse(body)).toEqual(body);
    expect(WebhookBody.safeParse({ ...body, version: 2 }).success).toBe(false);
    expect(WebhookBody.safeParse({ ...body, state: "ok" }).success).toBe(false);
  });
});
