import { describe, expect, it } from "vitest";
import { WebhookBody } from "../../../schemas";
import { type AlertNotice, formatValue, formatWindow, renderBody, slackBody, standardBody } from "./payload";

const notice: AlertNotice = {
  type: "alert.firing",
  id: "msg_abc",
  occurredAt: Date.UTC(2026, 11, 1, 10, 0, 0),
  app: { id: "app_shop", name: "Shop <prod>" },
  rule: { id: "rule_1", name: "Checkout failures", metric: "event_count", filter: { event: "Checkout Failed" }, window: 60, condition: "above 5" },
  value: 6,
  threshold: 5,
  state: "firing",
  links: { rule: "https://dash.example.com/apps/app_shop/alerts/rule_1", view: "https://dash.example.com/apps/app_shop/events?event=Checkout+Failed" },
};

describe("webhook payloads", () => {
  it("the standard body is versioned, carries the rule, value, threshold, state and links, and parses with its schema", () => {
    const sent: unknown = JSON.parse(renderBody("standard", standardBody(notice)));
    expect(WebhookBody.parse(sent)).toEqual({ ...notice, version: 1, occurredAt: "2026-12-01T10:00:00.000Z" });
  });

  it("a resolved notice with no data is still a valid body", () => {
    const body = standardBody({ ...notice, type: "alert.resolved", state: "resolved", value: null });
    expect(body).toMatchObject({ type: "alert.resolved", state: "resolved", value: null });
  });

  it("refuses to build a body outside the contract", () => {
    expect(() => standardBody({ ...notice, links: { ...notice.links, view: "not a url" } })).toThrow();
    expect(() => standardBody({ ...notice, rule: { ...notice.rule, window: 0 } })).toThrow();
  });

  it("the Slack body says what fired, on which app, the value against the condition, and links back", () => {
    const slack = slackBody(standardBody(notice));
    expect(slack.text).toBe("Firing: Checkout failures on Shop &lt;prod&gt;: 6 (above 5, over 1 min)");
    const json = JSON.stringify(slack.blocks);
    expect(json).toContain("*Firing: Checkout failures on Shop &lt;prod&gt;*");
    expect(json).toContain("event = Checkout Failed");
    expect(json).toContain(`<${notice.links.view}|Open the view>`);
    expect(json).toContain(`<${notice.links.rule}|Rule and history>`);
    expect(JSON.parse(renderBody("slack", standardBody(notice)))).toEqual(slack);
  });

  it("a customer's name cannot become a Slack link or mention", () => {
    const slack = slackBody(standardBody({ ...notice, rule: { ...notice.rule, name: "<!channel> <https://evil.example|click>" } }));
    expect(slack.text).not.toMatch(/<!channel>|<https:\/\/evil/);
    expect(JSON.stringify(slack.blocks)).not.toMatch(/<!channel>|<https:\/\/evil/);
  });

  it("resolved and test messages read as such", () => {
    expect(slackBody(standardBody({ ...notice, type: "alert.resolved", state: "resolved", value: 0 })).text).toMatch(/^Resolved: /);
    expect(slackBody(standardBody({ ...notice, type: "alert.test" })).text).toMatch(/^Test: /);
  });

  it("values and windows read naturally", () => {
    expect(formatValue(0.973123456)).toBe("0.973123");
    expect(formatValue(1234.5)).toBe("1,234.5");
    expect(formatValue(null)).toBe("no data");
    expect([60, 900, 3600, 7200, 86_400, 90].map(formatWindow)).toEqual(["1 min", "15 min", "1 h", "2 h", "1 day", "90 s"]);
  });
});
