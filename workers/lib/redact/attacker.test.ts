import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, type RedactionPolicy } from "../../../schemas";
import { ORDINARY_PROPERTIES, ORDINARY_UAS } from "../../../test/fixtures/redaction-attacker";
import { createRedactor } from "./index";

const SALT = "0f".repeat(32);
const redactor = (policy: Partial<RedactionPolicy> = {}) => createRedactor({ ...DEFAULT_POLICY, ...policy }, SALT);

describe("keys that are personal data", () => {
  it("replaces the key with the detector's placeholder and keeps its value", () => {
    const r = redactor();
    expect(r.value({ "jane.doe@example.com": "vip", "4111111111111111": true, plan: "pro" })).toEqual({ "[email]": "vip", "[card]": true, plan: "pro" });
    expect(r.counts).toMatchObject({ email: 1, card: 1 });
  });

  it("keeps every value when several keys redact to the same placeholder", () => {
    const out = redactor().value({ "jane@example.com": 1, "john@example.com": 2, "[email]#2": 3 });
    expect(Object.values(out as object).sort()).toEqual([1, 2, 3]);
    expect(JSON.stringify(out)).not.toMatch(/jane|john/);
  });

  it("hashes a key with the app's salt, and drops the member when the policy drops", () => {
    const hashed = redactor({ action: "hash" }).value({ "jane@example.com": 1 });
    expect(Object.keys(hashed as object)[0]).toMatch(/^\[email:[0-9a-f]{16}\]$/);
    expect(redactor({ action: "drop" }).value({ "jane@example.com": 1, plan: "pro" })).toEqual({ plan: "pro" });
  });

  it("matches a percent-encoded key as decoded", () => {
    expect(redactor().value({ "jane.doe%40example.com": 1 })).toEqual({ "[email]": 1 });
  });

  it("counts a redacted key every time it appears, not once per request", () => {
    const r = redactor();
    r.value({ "jane@example.com": 1 });
    r.value({ "jane@example.com": 1 });
    expect(r.counts.email).toBe(2);
  });
});

describe("numbers", () => {
  it("masks a card number sent as a JSON number", () => {
    expect(redactor().value({ n: 4111111111111111, list: [5500000000000004] })).toEqual({ n: "[card]", list: ["[card]"] });
  });

  it("masks a phone number sent as a number, or as bare digits, under a key that names a phone", () => {
    expect(redactor().value({ phone: 14155550123, mobileNumber: "4155550123", user: { work_phone: 4155550123 } })).toEqual({
      phone: "[phone]",
      mobileNumber: "[phone]",
      user: { work_phone: "[phone]" },
    });
  });

  it("keeps ordinary numbers: amounts, counts, epoch milliseconds, order numbers, flags under phone keys", () => {
    const ordinary = { price: 1234.56, qty: 3, at: 1700000000000, order: 23456789012, phone_verified: 1, phone_count: 2, big: 1e21, neg: -4111111111111111 };
    const r = redactor();
    expect(r.value(ordinary)).toBe(ordinary);
    expect(r.total).toBe(0);
  });
});

describe("URL-encoded text", () => {
  it("matches the decoded text of an encoded value anywhere, not only in a URL's query", () => {
    const r = redactor();
    expect(r.text("https://shop.example/p/jane.doe%40example.com?ref=mail")).toBe("https://shop.example/p/[email]?ref=mail");
    expect(r.text("to=%2B1%20415%20555%200123")).toBe("to=[phone]");
    expect(r.value({ q: "jane.doe%40example.com" })).toEqual({ q: "[email]" });
  });

  it("masks encoded personal data in a URL's path and query", () => {
    expect(redactor().url("https://api.example.com/v1/users/jane.doe%40example.com?phone=%2B1%20415%20555%200123&page=2")).toBe(
      "https://api.example.com/v1/users/[email]?phone=[phone]&page=2",
    );
  });

  it("leaves ordinary encoded text and stray percent signs as sent", () => {
    for (const s of ["https://shop.example/search?q=red%20shoes&size=42", "50%", "100% cotton, 20%-off", "%E2%82%AC 12", "%%%%zz%"]) {
      expect(redactor().text(s), s).toBe(s);
    }
  });

  it("stays fast on a hostile string of percent signs", () => {
    const r = redactor();
    const hostile = ["%".repeat(40_000), "%4".repeat(20_000), "a%40".repeat(10_000)];
    for (const s of hostile) expect(typeof r.text(s)).toBe("string");
  });
});

describe("spellings of card numbers and IBANs", () => {
  it("masks card numbers written with dots", () => {
    expect(redactor().text("card 4111.1111.1111.1111.")).toBe("card [card].");
  });

  it("masks lowercase and mixed-case IBANs", () => {
    const r = redactor();
    expect(r.text("iban de89 3704 0044 0532 0130 00")).toBe("iban [iban]");
    expect(r.text("gb29nwbk60161331926819")).toBe("[iban]");
    expect(r.text("Fr1420041010050500013m02606")).toBe("[iban]");
  });

  it("leaves hashes and ids that only look like an IBAN or a card", () => {
    for (const s of ["ab12cd34ef5678901234567890abcdef", "de12345678901234567890ab", "9fceb02d0ae598e95dc970b74767f19372d61af8", "Chrome/120.0.0.0", "203.0.113.0", "1234.56"]) {
      expect(redactor().text(s), s).toBe(s);
    }
  });
});

describe("joinable ids", () => {
  it("hashes an id holding personal data with the app's salt, whatever the policy's action", () => {
    for (const action of ["mask", "hash", "drop"] as const) {
      const id = redactor({ action }).id("jane.doe@example.com");
      expect(id).toMatch(/^\[email:[0-9a-f]{16}\]$/);
      expect(redactor({ action }).id("jane.doe@example.com")).toBe(id);
    }
    expect(redactor().id("jane.doe@example.com")).not.toBe(redactor().id("john.roe@example.com"));
    expect(createRedactor(DEFAULT_POLICY, "aa".repeat(32)).id("jane.doe@example.com")).not.toBe(redactor().id("jane.doe@example.com"));
  });

  it("gives an e-mail used as an id the same hash as the same e-mail hashed in properties", () => {
    const r = redactor({ action: "hash" });
    expect(r.id("jane.doe@example.com")).toBe(r.text("jane.doe@example.com"));
  });

  it("keeps ordinary ids as sent", () => {
    const r = redactor();
    for (const id of ["u-8812", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "B5C6D7E8-1A2B-4C3D-8E9F-0A1B2C3D4E5F", "acme-inc", "4242", "1700000000000", "user_123456789"]) {
      expect(r.id(id), id).toBe(id);
    }
    expect(r.total).toBe(0);
  });
});

describe("client fields of context", () => {
  it("runs the detectors on the user agent, locale, carrier and device, and drops the device's name", () => {
    const r = redactor();
    const out = r.context({
      userAgent: "Mozilla/5.0 (iPhone; jane.doe@example.com) AppleWebKit/605.1.15",
      locale: "jane.doe@example.com",
      network: { carrier: "+1 415 555 0123", wifi: true },
      device: { name: "Jane Doe's iPhone", model: "iPhone15,2", id: "jane.doe@example.com" },
    });
    expect(out).toEqual({
      userAgent: "Mozilla/5.0 (iPhone; [email]) AppleWebKit/605.1.15",
      locale: "[email]",
      network: { carrier: "[phone]", wifi: true },
      device: { model: "iPhone15,2", id: "[email]" },
    });
  });

  it("keeps ordinary user agents, versions, builds and locales exactly as sent", () => {
    for (const userAgent of ORDINARY_UAS) {
      const ctx = { userAgent, locale: "en-US", app: { version: "120.0.0.0", build: "2026.11.22.1" }, library: { name: "web", version: "1.2.3.4" }, os: { version: "10.15.7" }, timezone: "Europe/Berlin", screen: { width: 1440 } };
      const r = redactor();
      expect(r.context(ctx), userAgent).toEqual(ctx);
      expect(r.total, userAgent).toBe(0);
    }
  });

  it("still finds an address in a user agent outside a product's version", () => {
    expect(redactor().context({ userAgent: "curl/8.4.0 (from 203.0.113.77)" })).toEqual({ userAgent: "curl/8.4.0 (from [ip])" });
  });

  it("hashes the session id as an id, so sessions stay whole", () => {
    const r = redactor();
    const out = r.context({ sessionId: "jane.doe@example.com" });
    expect(out.sessionId).toBe(r.id("jane.doe@example.com"));
    expect(redactor().context({ sessionId: 1732270000 })).toEqual({ sessionId: 1732270000 });
  });
});

describe("ordinary values", () => {
  it("survive unchanged, as the very same object", () => {
    const r = redactor();
    expect(r.value(ORDINARY_PROPERTIES)).toBe(ORDINARY_PROPERTIES);
    expect(r.total).toBe(0);
    for (const name of ["Order Completed", "Checkout Started", "ProductDetail", "app_start_cold", "LCP", "GET", "TypeError", "Order 1337"]) expect(r.text(name), name).toBe(name);
  });
});

describe("ids that only add up like a card", () => {
  it("leaves digit runs that are not grouped as a card is written", () => {
    for (const s of ["m-5123-123456789", "order 4123-123456789", "4111 11111111 1111", "4111-1111 1111-1111"]) expect(redactor().text(s), s).toBe(s);
    for (const s of ["4111-1111-1111-1111", "3782 822463 10005", "4111 1111 1111 1111 003"]) expect(redactor().text(s), s).toBe("[card]");
  });
});

describe("hostile keys", () => {
  it("renames thousands of colliding keys without losing one, in linear time", () => {
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`user${i}@example.com`, i]));
    const out = redactor().value(many) as Record<string, number>;
    expect(Object.keys(out)).toHaveLength(3000);
    expect(Object.values(out).sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(out["[email]#3000"]).toBe(2999);
  });
});
