import { describe, expect, it } from "vitest";
import { encodeEventRow, Event, type EventRow } from "../../schemas";
import { ATTACKER_UA, attackerBatch, EMAIL, LEAKS, ORDINARY_PROPERTIES, ORDINARY_TRACK_COLUMNS, ORDINARY_UAS, ordinaryBatch } from "../../test/fixtures/redaction-attacker";
import { createRedactor, DEFAULT_POLICY } from "../lib/redact";
import { crashFingerprint } from "./fingerprint";
import { normalizeEvent, type RequestFacts } from "./normalize";
import { prepareBatch } from "./pipeline";

const CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const received = Date.parse("2026-11-22T12:00:00.000Z");

function facts(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    appId: "app_1",
    receivedAt: received,
    sentAt: null,
    context: undefined,
    ip: "198.51.100.23",
    userAgent: CHROME_MAC,
    geo: { country: "DE", region: "Berlin", city: "Berlin" },
    ipMode: "truncate",
    redactor: createRedactor(DEFAULT_POLICY, "00".repeat(32)),
    ...over,
  };
}

const norm = (raw: unknown, f = facts()) => normalizeEvent(Event.parse(raw), f, "m-1").row;

describe("enrichment", () => {
  it("adds receive time, geo from the connection, and browser, OS and platform from the user agent", () => {
    const row = norm({ type: "page", anonymousId: "a", name: "Home", context: { page: { path: "/", url: "https://x.example/" } } });
    expect(row).toMatchObject({ received_at: "2026-11-22 12:00:00.000", country: "DE", city: "Berlin", browser: "Chrome", os_name: "macOS", platform: "web", path: "/", event: "Home" });
    expect(row.ip).toBe("198.51.100.0");
  });

  it("prefers what the client says about itself over the request", () => {
    const row = norm({
      type: "screen",
      anonymousId: "a",
      name: "Checkout",
      context: { os: { name: "iOS", version: "17.1" }, device: { model: "iPhone15,2", type: "mobile" }, app: { version: "2.4.0", build: "812" }, library: { name: "telemetry-react-native", version: "1.0.0" }, userAgent: "okhttp/4.9" },
    });
    expect(row).toMatchObject({ os_name: "iOS", os_version: "17.1", device_model: "iPhone15,2", app_version: "2.4.0", app_build: "812", platform: "react-native", path: "Checkout" });
  });

  it("does not claim the connection's location for an address a server forwarded", () => {
    const row = norm({ type: "track", userId: "u", event: "e", context: { ip: "192.0.2.55" } });
    expect(row.country).toBe("");
    expect(row.ip).toBe("192.0.2.0");
  });

  it("merges the batch context under the event's own", () => {
    const row = norm({ type: "track", userId: "u", event: "e", context: { locale: "de-DE" } }, facts({ context: { locale: "en-US", timezone: "Europe/Berlin" } }));
    expect(row).toMatchObject({ locale: "de-DE", timezone: "Europe/Berlin" });
  });

  it("corrects device clock skew and keeps the claimed time", () => {
    const row = norm(
      { type: "track", userId: "u", event: "e", timestamp: "2026-11-22T12:55:00.000Z", sentAt: "2026-11-22T13:00:00.000Z" },
    );
    expect(row.timestamp).toBe("2026-11-22 11:55:00.000");
    expect(row.original_timestamp).toBe("2026-11-22 12:55:00.000");
  });

  it("fills the telemetry columns of crash, perf and network events", () => {
    const crash = norm({ type: "crash", anonymousId: "a", error: { type: "TypeError", message: "bad user jane@example.com", fatal: true, frames: [{ function: "f", file: "app.js", inApp: true }] } });
    expect(crash).toMatchObject({ event: "TypeError", crash_type: "TypeError", crash_fatal: 1 });
    expect(crash.crash_message).not.toContain("jane@example.com");
    expect(crash.crash_fingerprint).toMatch(/^[0-9a-f]{14}$/);
    const perf = norm({ type: "perf", anonymousId: "a", metric: { name: "TTFB", value: 0.25, unit: "s" } });
    expect(perf).toMatchObject({ perf_metric: "TTFB", perf_value: 0.25, duration_ms: 250 });
    const net = norm({ type: "network", anonymousId: "a", request: { method: "post", url: "https://api.example.com/v1/orders?token=abc", status: 503, duration: 120 } });
    expect(net).toMatchObject({ net_method: "POST", net_host: "api.example.com", net_path: "/v1/orders", net_status: 503, duration_ms: 120 });
    expect(JSON.stringify(net.properties)).not.toContain("token=abc");
  });

  it("reads the session id from context or properties", () => {
    expect(norm({ type: "track", userId: "u", event: "e", context: { sessionId: "s-1" } }).session_id).toBe("s-1");
    expect(norm({ type: "track", userId: "u", event: "e", properties: { sessionId: 42 } }).session_id).toBe("42");
  });

  it("keeps a touchpoint's campaign and ad click ids, and redacts an e-mail address in its URL or campaign", () => {
    const gclid = "Cj0KCQiA5rGuBhCnARIsAN11vgRbXQ7o4Yx8Zl3mPqT2s9Wv6UeHkLdNcJfGbRaSy1I0";
    const url = `https://shop.example/landing?utm_source=newsletter&utm_medium=email&utm_campaign=bf&utm_term=jane%40example.com&gclid=${gclid}&fbclid=IwAR2xYz`;
    const row = norm({ type: "page", anonymousId: "a", context: { page: { path: "/landing", url }, campaign: { source: "newsletter", medium: "email", name: "bf", content: "jane@example.com", gclid } } });
    expect(row).toMatchObject({ utm_source: "newsletter", utm_medium: "email", utm_campaign: "bf" });
    expect(row.url).toContain(`gclid=${gclid}`);
    expect(row.url).toContain("fbclid=IwAR2xYz");
    expect(row.url).not.toContain("jane");
    expect(row.context).toMatchObject({ campaign: { gclid } });
    expect(JSON.stringify(row.context)).not.toContain("jane@example.com");
  });

  it("redacts properties, traits and context and counts what it removed", () => {
    const row = norm({ type: "identify", userId: "u", traits: { email: "jane@example.com", password: "hunter2", plan: "pro" }, context: { page: { url: "https://x.example/?access_token=s3cr3t" } } });
    expect(JSON.stringify(row.traits)).not.toContain("jane@example.com");
    expect(JSON.stringify(row.traits)).not.toContain("hunter2");
    expect(row.traits).toMatchObject({ plan: "pro" });
    expect(JSON.stringify(row.context)).not.toContain("s3cr3t");
    expect(row.redactions).toBeGreaterThanOrEqual(3);
  });

  it("leaves the batch id empty and last, for the sink to fill", () => {
    const text = encodeEventRow(norm({ type: "track", userId: "u", event: "e" }));
    expect(text.endsWith(',""]')).toBe(true);
  });
});

describe("templates and URLs", () => {
  it("stores a network call's path templated beside its redacted URL, without the fragment", () => {
    const row = norm({
      type: "network",
      anonymousId: "a",
      request: {
        method: "GET",
        url: "https://api.example.com/v1/users/8812/avatars/3f2504e0-4f89-11d3-9a0c-0305e82c3301?email=jane%40example.com&size=64#top",
        status: 404,
        duration: 31,
        requestBytes: 120,
        responseBytes: 9000,
      },
    });
    expect(row).toMatchObject({
      net_host: "api.example.com",
      net_path: "/v1/users/8812/avatars/3f2504e0-4f89-11d3-9a0c-0305e82c3301",
      net_template: "/v1/users/:id/avatars/:uuid",
      net_outcome: "client_error",
      net_request_bytes: 120,
      net_response_bytes: 9000,
    });
    expect(row.properties.request).toMatchObject({ url: "https://api.example.com/v1/users/8812/avatars/3f2504e0-4f89-11d3-9a0c-0305e82c3301?email=[email]&size=64" });
    expect(JSON.stringify(row)).not.toContain("jane");
  });

  it("applies the app's own templates first", () => {
    const f = facts({ urlTemplates: ["/v1/users/:user/**"] });
    const row = norm({ type: "network", anonymousId: "a", request: { method: "GET", url: "https://api.example.com/v1/users/8812/avatars/x.png" } }, f);
    expect(row.net_template).toBe("/v1/users/:user/**");
    expect(row.net_outcome).toBe("failed");
  });

  it("templates page paths, and a perf or network event without a page takes the app's current screen", () => {
    const page = norm({ type: "page", anonymousId: "a", context: { page: { path: "/orders/1337", url: "https://shop.example/orders/1337?coupon=x&mail=jane%40example.com" } } });
    expect(page).toMatchObject({ path: "/orders/1337", path_template: "/orders/:id", url: "https://shop.example/orders/1337?coupon=x&mail=[email]" });
    expect(JSON.stringify(page.context)).not.toContain("jane");
    const perf = norm({ type: "perf", anonymousId: "a", metric: { name: "screen_load", value: 420 }, properties: { screen: "ProductDetail" } });
    expect(perf).toMatchObject({ path: "ProductDetail", path_template: "ProductDetail" });
    const net = norm({ type: "network", anonymousId: "a", request: { method: "GET", url: "/v1/cart", status: 200 }, properties: { screen: "Cart" } });
    expect(net).toMatchObject({ path: "Cart", net_path: "/v1/cart", net_template: "/v1/cart" });
    const track = norm({ type: "track", anonymousId: "a", event: "e" });
    expect(track).toMatchObject({ path: "", path_template: "", net_template: "" });
  });

  it("redacts the error text of a failed call", () => {
    const row = norm({ type: "network", anonymousId: "a", request: { method: "GET", url: "https://x.example/a", error: "fetch failed for jane@example.com: timed out" } });
    expect(row.net_outcome).toBe("timeout");
    expect(JSON.stringify(row)).not.toContain("jane");
  });
});

describe("prepareBatch", () => {
  it("gives a messageId to events without one and keeps the client's", () => {
    const out = prepareBatch([{ type: "track", userId: "u", event: "e" }, { type: "track", userId: "u", event: "e", messageId: "mine" }], facts());
    expect(out.rejected).toEqual([]);
    expect(out.events[0]?.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.events[1]?.messageId).toBe("mine");
  });
});

describe("odd input", () => {
  it("ignores wrongly typed context fields instead of rejecting the event", () => {
    const out = prepareBatch([{ type: "track", userId: "u", event: "e", context: { os: "iOS", page: 5, library: null, app: { version: { major: 2 } }, campaign: [] } }], facts());
    expect(out.rejected).toEqual([]);
    expect(out.events[0]?.row).toMatchObject({ os_name: "macOS", app_version: "", path: "", utm_source: "" });
  });

  it("measures events in UTF-8: multi-byte text over the limit is rejected, ASCII under it is not", () => {
    const big = prepareBatch([{ type: "track", userId: "u", event: "e", properties: { t: "€".repeat(11_000) } }], facts());
    expect(big.rejected.map((r) => r.code)).toEqual(["event_too_large"]);
    const fits = prepareBatch([{ type: "track", userId: "u", event: "e", properties: { t: "a".repeat(30_000) } }], facts());
    expect(fits.rejected).toEqual([]);
  });
});

describe("limits on the row as stored", () => {
  it("applies the event limits after merging the batch context under the event's own", () => {
    const context = { campaign: { name: "x".repeat(20_000) } };
    const events = [
      { type: "track", userId: "u", event: "big", properties: { t: "y".repeat(20_000) } },
      { type: "track", userId: "u", event: "small", properties: { t: "y".repeat(100) } },
      // Its own campaign replaces the batch's, so the merged event is small.
      { type: "track", userId: "u", event: "own", properties: { t: "y".repeat(20_000) }, context: { campaign: { name: "z" } } },
    ];
    const out = prepareBatch(events, facts({ context }));
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([[0, "event_too_large"]]);
    expect(out.events.map((e) => e.row.event)).toEqual(["small", "own"]);
  });

  it("rejects an event whose row grows past the stored-row limit through enrichment and redaction", () => {
    const emails = Array.from({ length: 3000 }, () => "a@b.co");
    const hashing = facts({ redactor: createRedactor({ ...DEFAULT_POLICY, action: "hash" }, "00".repeat(32)) });
    // Context traits are copied into the traits column, and every address grows fourfold.
    const out = prepareBatch([{ type: "track", userId: "u", event: "e", context: { traits: { emails } } }, { type: "track", userId: "u", event: "ok" }], hashing);
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([[0, "event_too_large"]]);
    expect(out.rejected[0]?.message).toMatch(/stored/);
    for (const e of out.events) expect(e.bytes).toBe(new TextEncoder().encode(e.encoded).byteLength);
    expect(out.bytes).toBe(out.events.reduce((n, e) => n + e.bytes, 0));
  });
});

describe("retention", () => {
  it("refuses an event older than the retention of raw events instead of storing it to be deleted", () => {
    const old = new Date(received - 91 * 86_400_000).toISOString();
    const recent = new Date(received - 89 * 86_400_000).toISOString();
    const out = prepareBatch([{ type: "track", userId: "u", event: "e", timestamp: old }, { type: "track", userId: "u", event: "e", timestamp: recent }], facts());
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([[0, "invalid_timestamp"]]);
    expect(out.events).toHaveLength(1);
  });
});

describe("crash fingerprints", () => {
  const frames = [{ function: "render", file: "https://cdn.example/app.3f9a2b1c.js?v=2", line: 10, inApp: true }];
  it("groups the same crash across builds, lines and hosts", () => {
    const other = [{ function: "render", file: "https://cdn2.example/app.77aa00ff.js", line: 99, inApp: true }];
    expect(crashFingerprint("TypeError", "a", frames)).toBe(crashFingerprint("TypeError", "b", other));
  });
  it("tells different crashes apart", () => {
    expect(crashFingerprint("TypeError", "a", frames)).not.toBe(crashFingerprint("RangeError", "a", frames));
    expect(crashFingerprint("E", "user 12 failed", [])).toBe(crashFingerprint("E", "user 97 failed", []));
    expect(crashFingerprint("E", "disk full", [])).not.toBe(crashFingerprint("E", "net down", []));
  });
});

describe("redaction of every field that reaches ClickHouse", () => {
  const rows = (batch: Array<Record<string, unknown>>, f = facts()) => {
    const out = prepareBatch(batch, f);
    expect(out.rejected).toEqual([]);
    return new Map(out.events.map((e) => [e.messageId, e.row]));
  };
  const attack = () => rows(attackerBatch());
  const get = (m: Map<string, EventRow>, id: string): EventRow => {
    const row = m.get(id);
    if (!row) throw new Error(`no row ${id}`);
    return row;
  };

  it("stores nothing of the attacker batch's personal data, in any column", () => {
    for (const [id, row] of attack()) {
      const text = encodeEventRow(row);
      for (const leak of LEAKS) expect(text, `${id}: ${leak}`).not.toContain(leak);
      expect(row.redactions, id).toBeGreaterThan(0);
    }
  });

  it("redacts the error text of a network call, with the card, e-mail and phone number in it", () => {
    const net = get(attack(), "atk-1");
    expect(net.properties.request).toMatchObject({ error: "declined [card] for [email] phone [phone]", url: "https://api.example.com/v1/pay?email=[email]&phone=[phone]" });
    expect(net.net_outcome).toBe("client_error");
  });

  it("redacts typed names: crash type, event, page and screen names (and the path a screen fills), metric names", () => {
    const m = attack();
    expect(get(m, "atk-2")).toMatchObject({ crash_type: "CardDeclined [card] [email]", event: "CardDeclined [card] [email]" });
    expect(get(m, "atk-2").properties.error).toMatchObject({ type: "CardDeclined [card] [email]" });
    expect(get(m, "atk-3").event).toBe("Signup [email]");
    expect(get(m, "atk-4")).toMatchObject({ event: "Profile of [email]", path: "/u/[email]", url: "https://shop.example/u/[email]" });
    expect(get(m, "atk-5")).toMatchObject({ event: "Chat with [phone]", path: "Chat with [phone]", path_template: "Chat with [phone]" });
    expect(get(m, "atk-6")).toMatchObject({ event: "ttfb [email]", perf_metric: "ttfb [email]", perf_unit: "[email]" });
  });

  it("replaces personal keys and numbers in properties, and encoded, dotted and lowercase spellings", () => {
    expect(get(attack(), "atk-3").properties).toEqual({
      "[email]": "vip",
      "[card]": true,
      ref: "[card]",
      phone: "[phone]",
      contact: "call [phone]",
      link: "https://shop.example/p/[email]?ref=mail",
      dotted: "[card]",
      iban: "[iban]",
      iban_compact: "[iban]",
    });
  });

  it("hashes ids that hold personal data with the app's salt, so one person stays one person", () => {
    const m = attack();
    const hashed = get(m, "atk-7").user_id;
    expect(hashed).toMatch(/^\[email:[0-9a-f]{16}\]$/);
    expect(get(m, "atk-8").properties.previousId).toBe(hashed);
    expect(get(m, "atk-8").user_id).toBe("u-42");
    expect(get(m, "atk-9").properties.groupId).toBe(`acct:${hashed}`);
    expect(get(m, "atk-10").user_id).toMatch(/^\[card:[0-9a-f]{16}\]$/);
    // A message id holding an e-mail is hashed too, the same way every time, so retries still deduplicate.
    const messageIds = [...m.keys()].filter((id) => !id.startsWith("atk-"));
    expect(messageIds).toEqual([expect.stringMatching(/^\[email:[0-9a-f]{16}\]$/)]);
    expect([...attack().keys()]).toContain(messageIds[0]);
    // Another app's salt gives another hash: ids cannot be joined across apps.
    const other = rows(attackerBatch(), facts({ redactor: createRedactor(DEFAULT_POLICY, "11".repeat(32)) }));
    expect(get(other, "atk-7").user_id).not.toBe(hashed);
  });

  it("runs the detectors on the user agent, locale, carrier and device, and drops the device's name", () => {
    const row = get(attack(), "atk-3");
    expect(row).toMatchObject({ locale: "[email]", device_model: "iPhone15,2", os_name: "iOS", os_version: "17.1", app_version: "2.4.0", platform: "react-native" });
    expect(row.context).toMatchObject({ userAgent: ATTACKER_UA.replace(EMAIL, "[email]"), network: { carrier: "[phone]", wifi: true } });
    expect(row.context.device).toEqual({ model: "iPhone15,2", manufacturer: "Apple", type: "mobile" });
  });

  it("drops the values the policy drops and keeps the rest of the event", () => {
    const dropping = facts({ redactor: createRedactor({ ...DEFAULT_POLICY, action: "drop" }, "00".repeat(32)) });
    const m = rows(attackerBatch(), dropping);
    for (const [id, row] of m) for (const leak of LEAKS) expect(encodeEventRow(row), `${id}: ${leak}`).not.toContain(leak);
    // Ids are hashed, never dropped: the event still belongs to its person.
    expect(get(m, "atk-7").user_id).toBe(get(attack(), "atk-7").user_id);
    expect(get(m, "atk-3").properties).toEqual({});
  });

  it("stores ordinary values exactly as sent", () => {
    const m = rows(ordinaryBatch(), facts({ userAgent: ORDINARY_UAS[1] ?? "" }));
    for (const [id, row] of m) expect(row.redactions, id).toBe(0);
    const track = get(m, "ok-1");
    expect(track.properties).toEqual(ORDINARY_PROPERTIES);
    expect(track).toMatchObject({ ...ORDINARY_TRACK_COLUMNS, app_build: "2026.11.22.1", os_version: "10.15.7", path: "/orders/1337" });
    expect(track.context).toMatchObject({ userAgent: ORDINARY_UAS[0], network: { carrier: "T-Mobile", wifi: true }, device: { id: "B5C6D7E8-1A2B-4C3D-8E9F-0A1B2C3D4E5F", model: "MacBookPro18,3", manufacturer: "Apple" } });
    expect(get(m, "ok-2").event).toBe("Order 1337");
    expect(get(m, "ok-3")).toMatchObject({ event: "ProductDetail", path: "ProductDetail" });
    expect(get(m, "ok-4").perf_metric).toBe("app_start_cold");
    expect(get(m, "ok-5").properties.request).toMatchObject({ method: "GET", url: "https://api.example.com/v1/orders/1337?page=2", error: "TypeError: Failed to fetch" });
    expect(get(m, "ok-6").crash_type).toBe("TypeError");
    expect(get(m, "ok-7").properties.groupId).toBe("acme-inc");
    expect(get(m, "ok-8").properties.previousId).toBe("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  });
});
