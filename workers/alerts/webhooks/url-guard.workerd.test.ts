// The guard relies on the URL parser turning odd address spellings into canonical ones; this
// checks that workerd's parser, the one production runs, does so as Node's does.
import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "./url-guard";

describe("webhook URL guard in workerd", () => {
  it.each([
    ["https://2130706433/", /127\.0\.0\.1 is a loopback/],
    ["https://0x7f.1/", /127\.0\.0\.1 is a loopback/],
    ["https://0177.0.0.1/", /127\.0\.0\.1 is a loopback/],
    ["https://0xa9.254.0251.254/", /169\.254\.169\.254 is a link-local/],
    ["https://[::ffff:169.254.169.254]/", /IPv4 link-local/],
    ["https://[0:0:0:0:0:0:0:1]/", /loopback/],
    ["https://LOCALHOST./", /local or internal host name/],
  ])("refuses %s", (raw, reason) => {
    const r = checkWebhookUrl(raw);
    expect(r.ok ? null : r.reason).toMatch(reason);
  });

  it("accepts a public receiver", () => {
    expect(checkWebhookUrl("https://hooks.example.com/alerts").ok).toBe(true);
  });
});
