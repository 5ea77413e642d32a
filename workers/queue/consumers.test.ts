import { describe, expect, it } from "vitest";
import { consumerOf } from "./consumers";

describe("consumerOf", () => {
  it("sends each queue of the local configuration to its consumer", () => {
    expect(consumerOf("telemetry-events", "development")).toBe("events");
    expect(consumerOf("telemetry-events-1", "development")).toBe("events");
    expect(consumerOf("telemetry-events-dlq", "development")).toBe("event-dead-letters");
    expect(consumerOf("telemetry-webhooks", "development")).toBe("webhooks");
    expect(consumerOf("telemetry-webhooks-dlq", "development")).toBe("webhook-dead-letters");
  });

  it("reads a deployed environment's queue names without their suffix", () => {
    expect(consumerOf("telemetry-events-staging", "staging")).toBe("events");
    expect(consumerOf("telemetry-events-1-production", "production")).toBe("events");
    expect(consumerOf("telemetry-events-dlq-staging", "staging")).toBe("event-dead-letters");
    expect(consumerOf("telemetry-webhooks-production", "production")).toBe("webhooks");
    expect(consumerOf("telemetry-webhooks-dlq-staging", "staging")).toBe("webhook-dead-letters");
    // Another environment's suffix is not taken off: that queue is not this Worker's webhooks.
    expect(consumerOf("telemetry-webhooks-staging", "production")).toBe("events");
  });
});
