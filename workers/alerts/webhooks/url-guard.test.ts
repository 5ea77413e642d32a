import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "./url-guard";

const reasonOf = (raw: string, localMode = false): string | null => {
  const r = checkWebhookUrl(raw, { localMode });
  return r.ok ? null : r.reason;
};

describe("webhook URL guard", () => {
  it.each([
    "https://hooks.example.com/alerts",
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://example.com:8443/x?y=1",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://1.1.1.1./hook",
  ])("accepts the public receiver %s", (raw) => {
    expect(reasonOf(raw)).toBeNull();
  });

  it.each([
    ["http://hooks.example.com/alerts", /only https/],
    ["ftp://example.com/x", /only https/],
    ["javascript:alert(1)", /only https/],
    ["not a url", /not a valid URL/],
    ["https://user:pw@example.com/", /user name or password/],
    // IPv4 ranges, in the spellings the URL parser turns into dotted quads
    ["https://127.0.0.1/", /127\.0\.0\.1 is a loopback address/],
    ["https://2130706433/", /127\.0\.0\.1 is a loopback address/],
    ["https://0x7f.1/", /127\.0\.0\.1 is a loopback address/],
    ["https://0177.0.0.1/", /127\.0\.0\.1 is a loopback address/],
    ["https://127.1/", /loopback/],
    ["https://10.1.2.3/", /private/],
    ["https://172.16.0.1/", /private/],
    ["https://172.31.255.255/", /private/],
    ["https://192.168.1.1/", /private/],
    ["https://100.64.0.1/", /carrier-grade NAT/],
    ["https://100.100.100.200/", /carrier-grade NAT/],
    ["https://169.254.169.254/latest/meta-data/", /link-local \(cloud metadata\)/],
    ["https://0.0.0.0/", /unspecified/],
    ["https://224.0.0.1/", /multicast/],
    ["https://255.255.255.255/", /reserved|broadcast/],
    // IPv6 ranges, including IPv4 inside IPv6
    ["https://[::1]/", /\[::1\] is a loopback address/],
    ["https://[::]/", /unspecified/],
    ["https://[::ffff:127.0.0.1]/", /IPv4 loopback/],
    ["https://[::ffff:169.254.169.254]/", /IPv4 link-local/],
    ["https://[::ffff:7f00:1]/", /IPv4 loopback/],
    ["https://[::127.0.0.1]/", /IPv4 loopback/],
    ["https://[::ffff:0:10.0.0.1]/", /IPv4 private/],
    ["https://[0:0:0:0:0:ffff:a9fe:a9fe]/", /IPv4 link-local/],
    ["https://[fe80::1%25eth0]/", /not a valid URL|IPv6/],
    ["https://[64:ff9b::10.0.0.1]/", /IPv4 private/],
    ["https://[2002:a00:1::]/", /IPv4 private/],
    ["https://[2001:0::1]/", /Teredo/],
    ["https://[fc00::1]/", /unique-local/],
    ["https://[fd00:ec2::254]/", /unique-local/],
    ["https://[fe80::1]/", /link-local/],
    ["https://[ff02::1]/", /multicast/],
    // names
    ["https://localhost/", /local or internal host name/],
    ["https://LOCALHOST./", /local or internal host name/],
    ["https://api.localhost/", /local or internal host name/],
    ["https://printer.local/", /local or internal host name/],
    ["https://metadata.google.internal/computeMetadata/v1/", /local or internal host name/],
    ["https://db.internal/", /local or internal host name/],
    ["https://metadata/", /local or internal host name/],
    ["https://intranet/", /no domain/],
  ])("refuses %s", (raw, reason) => {
    expect(reasonOf(raw)).toMatch(reason);
  });

  it("public IPv4 inside IPv6 is let through like the IPv4 itself", () => {
    expect(reasonOf("https://[::ffff:8.8.8.8]/")).toBeNull();
  });

  it("local mode allows http to 127.0.0.1 and localhost with a port, and nothing else private", () => {
    expect(reasonOf("http://127.0.0.1:9999/hook", true)).toBeNull();
    expect(reasonOf("http://localhost:9999/hook", true)).toBeNull();
    expect(reasonOf("https://hooks.example.com/", true)).toBeNull();
    expect(reasonOf("http://127.0.0.1/hook", true)).toMatch(/local mode also allows/);
    expect(reasonOf("http://10.0.0.1:9999/", true)).toMatch(/only https/);
    expect(reasonOf("https://169.254.169.254:443/", true)).toMatch(/link-local/);
    expect(reasonOf("http://example.com:8080/", true)).toMatch(/only https/);
    expect(reasonOf("http://127.0.0.1:9999/hook")).toMatch(/only https/);
  });
});
