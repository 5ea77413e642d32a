// What a delivery says, in the two shapes an endpoint may ask for. The standard body is the
// documented contract (schemas/webhooks.ts WebhookBody); the Slack body is for incoming-webhook
// URLs, which show `text` in notifications and `blocks` in the channel.
import { WEBHOOK_BODY_VERSION, WebhookBody, type WebhookFormat } from "../../../schemas";

/** Everything a body is made from; `occurredAt` in ms. */
export type AlertNotice = Omit<WebhookBody, "version" | "occurredAt"> & { occurredAt: number };

/** The standard body of a notice, checked against its schema so nothing off-contract is ever sent. */
export function standardBody(notice: AlertNotice): WebhookBody {
  return WebhookBody.parse({ ...notice, version: WEBHOOK_BODY_VERSION, occurredAt: new Date(notice.occurredAt).toISOString() });
}

/** A Slack message: `text` for notifications, `blocks` for the channel. */
export interface SlackBody {
  text: string;
  blocks: Array<{ type: "section"; text: { type: "mrkdwn"; text: string } } | { type: "context"; elements: Array<{ type: "mrkdwn"; text: string }> }>;
}

// Slack reads &, < and > as markup; anything a customer named must not become a link or a mention.
export const escapeMrkdwn = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A number as people read it in a message: `6`, `0.9731`, `1,234.5`. */
export function formatValue(v: number | null): string {
  if (v === null) return "no data";
  return v.toLocaleString("en-US", { maximumSignificantDigits: 6 });
}

/** A window in seconds as words: `1 min`, `15 min`, `1 h`, `1 day`. */
export function formatWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? "1 day" : `${seconds / 86_400} days`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

const HEADLINES: Record<WebhookBody["type"], string> = {
  "alert.firing": "Firing",
  "alert.resolved": "Resolved",
  "alert.test": "Test",
};

/** The Slack message for a standard body: what fired where, the value against its condition, a link back. */
export function slackBody(body: WebhookBody): SlackBody {
  const headline = `${HEADLINES[body.type]}: ${body.rule.name} on ${body.app.name}`;
  const measure = `${formatValue(body.value)} (${body.rule.condition}, over ${formatWindow(body.rule.window)})`;
  const filters = Object.entries(body.rule.filter).map(([k, v]) => `${k} = ${v}`);
  const text = `${headline}: ${measure}`;
  const icon = body.type === "alert.resolved" ? ":white_check_mark:" : body.type === "alert.test" ? ":test_tube:" : ":rotating_light:";
  return {
    text: escapeMrkdwn(text),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `${icon} *${escapeMrkdwn(headline)}*\n${escapeMrkdwn(body.rule.metric)}: *${escapeMrkdwn(measure)}*` } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: [filters.length > 0 ? escapeMrkdwn(filters.join(", ")) : "", `<${body.links.view}|Open the view>`, `<${body.links.rule}|Rule and history>`].filter((s) => s !== "").join(" · "),
          },
        ],
      },
    ],
  };
}

/** The body an endpoint of `format` receives, as the exact string that is signed and sent. */
export function renderBody(format: WebhookFormat, body: WebhookBody): string {
  return JSON.stringify(format === "slack" ? slackBody(body) : body);
}
