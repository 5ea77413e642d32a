import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, LIMITS, type Detector, type RedactionPolicy } from "../../../schemas";
import { createRedactor, parsePolicy, redactIp } from "./index";
import { hmacSha256, keyBytes, sha256, toHex } from "./sha256";

const SALT = "0f".repeat(32);
const redactor = (policy: Partial<RedactionPolicy> = {}) => createRedactor({ ...DEFAULT_POLICY, ...policy }, SALT);
const text = (s: string, policy: Partial<RedactionPolicy> = {}) => redactor(policy).text(s);

// Each detector: values it must catch, and look-alikes it must leave alone.
const CASES: Record<Detector, { hits: string[]; misses: string[] }> = {
  email: {
    hits: ["jane.doe+shop@example.co.uk", "contact: ops@sub.example.com now"],
    misses: ["@handle", "user@localhost", "a@b", "version 2.0@beta"],
  },
  phone: {
    hits: ["+49 151 12345678", "(555) 123-4567", "call 030-1234567", "+14155552671", "415.555.2671"],
    misses: ["1700000000000", "order 12345678", "2026-11-22", "12:30:45", "v10.15.7", "3.14159265", "id 4815162342"],
  },
  card: {
    hits: ["4111 1111 1111 1111", "5500-0000-0000-0004", "paid with 378282246310005", "4242424242424242"],
    misses: ["4111 1111 1111 1112", "1700000000000000", "order 1234567890123"],
  },
  ip: {
    hits: ["from 203.0.113.77", "2001:db8:85a3::8a2e:370:7334", "fe80::1", "host ::1 up"],
    misses: ["1.2.3", "999.1.1.1", "Foo::bar", "12:30:45", "node 20.1.0"],
  },
  iban: {
    hits: ["DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "IBAN FR1420041010050500013M02606"],
    misses: ["DE89 3704 0044 0532 0130 01", "AB12 CDEF GHIJ KLMN", "ORDER123456789012345"],
  },
  national_id: {
    hits: ["SSN 123-45-6789", "NI number AB 12 34 56 C", "AB123456C"],
    misses: ["000-12-3456", "666-12-3456", "123-00-6789", "12-34-5678"],
  },
  token: {
    hits: [
      "Bearer abcdefghijklmnopqrstuvwxyz012345",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "key sk_live_4eC39HqLyjWDarjtT1zdp7dc",
      "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      "AKIAIOSFODNN7EXAMPLE",
    ],
    misses: ["the bearer of bad news walks", "sk_live_short", "a perfectly ordinary sentence of words"],
  },
  url_secret: {
    hits: ["https://x.example/cb?code=abc123&state=ok", "/reset?token=s3cr3tvalue", "https://x.example/?a=1&api_key=zzz111"],
    misses: ["https://x.example/search?q=shoes&page=2", "https://x.example/?monkey_business=1", "a=b"],
  },
};

describe("detectors", () => {
  for (const [name, { hits, misses }] of Object.entries(CASES) as Array<[Detector, { hits: string[]; misses: string[] }]>) {
    it(`${name}: masks what it should and leaves look-alikes alone`, () => {
      for (const hit of hits) {
        const r = redactor({ detectors: [name] });
        const out = r.text(hit);
        expect(out, hit).toContain(`[${name}]`);
        expect(r.counts[name], hit).toBeGreaterThanOrEqual(1);
      }
      for (const miss of misses) {
        const r = redactor({ detectors: [name] });
        expect(r.text(miss), miss).toBe(miss);
        expect(r.total, miss).toBe(0);
      }
    });
  }

  it("keeps the text around a match", () => {
    expect(text("mail jane@example.com today")).toBe("mail [email] today");
    expect(text("https://x.example/r?token=abc&next=/home")).toBe("https://x.example/r?token=[url_secret]&next=/home");
  });

  it("masks only with the detectors the policy enables", () => {
    expect(text("jane@example.com from 203.0.113.9", { detectors: ["ip"] })).toBe("jane@example.com from [ip]");
    expect(text("jane@example.com", { detectors: [] })).toBe("jane@example.com");
  });
});

describe("actions", () => {
  it("hashes with the app's salt so equal values stay equal and salts differ", () => {
    const a = text("jane@example.com", { action: "hash" });
    expect(a).toMatch(/^\[email:[0-9a-f]{16}\]$/);
    expect(text("jane@example.com", { action: "hash" })).toBe(a);
    expect(text("john@example.com", { action: "hash" })).not.toBe(a);
    const other = createRedactor({ ...DEFAULT_POLICY, action: "hash" }, "aa".repeat(32)).text("jane@example.com");
    expect(other).not.toBe(a);
  });

  it("drops values holding PII: keys disappear, array items become null, text becomes empty", () => {
    const r = redactor({ action: "drop" });
    expect(r.value({ contact: "jane@example.com", plan: "pro", list: ["ok value", "+49 151 12345678"] })).toEqual({ plan: "pro", list: ["ok value", null] });
    expect(r.text("mail jane@example.com")).toBe("");
    expect(r.total).toBe(3);
  });
});

describe("keys", () => {
  it("always removes sensitive keys, at any depth, whatever their value", () => {
    const r = redactor();
    const out = r.value({ password: "hunter2", user: { apiKey: 1, stripe_secret_key: "x", github_token: "x", Authorization: "x", name: "Jane" }, ssn: "x", tokens_used: 5 });
    expect(out).toEqual({ user: { name: "Jane" }, tokens_used: 5 });
    expect(r.counts.key).toBe(6);
  });

  it("removes the app's extra keys too", () => {
    expect(redactor({ extraKeys: ["date_of_birth"] }).value({ dateOfBirth: "1990-01-01", plan: "pro" })).toEqual({ plan: "pro" });
  });

  it("leaves client-describing context fields as sent but redacts the rest of context", () => {
    const ua = "Mozilla/5.0 (Macintosh) Chrome/120.0.0.0 Safari/537.36";
    const out = redactor().context({ userAgent: ua, library: { name: "web", version: "1.2.3.4" }, page: { url: "https://x.example/?token=abc" }, traits: { email: "a@example.com" } });
    expect(out).toEqual({ userAgent: ua, library: { name: "web", version: "1.2.3.4" }, page: { url: "https://x.example/?token=[url_secret]" }, traits: { email: "[email]" } });
  });

  it("judges text found clean under one key anew under another, however often a request repeats it", () => {
    const r = redactor();
    const address = "100.2.3.4";
    const agent = "Foo/203.0.113.77 (bar)";
    const events = Array.from({ length: 40 }, () => ({ appVersion: address, userAgent: agent, note: address, label: agent }));
    // Parsed from JSON like a batch, so each value is a string of its own.
    for (const e of JSON.parse(JSON.stringify(events)) as unknown[]) {
      expect(r.value(e)).toEqual({ appVersion: address, userAgent: agent, note: "[ip]", label: "Foo/[ip] (bar)" });
    }
    expect(r.counts.ip).toBe(80);
  });
});

describe("robustness", () => {
  it("walks nesting of any depth without exhausting the stack, cutting what lies past the depth limit", () => {
    let deep: Record<string, unknown> = { email: "jane@example.com" };
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const r = createRedactor(DEFAULT_POLICY, "00".repeat(32));
    const out = r.context({ os: { name: "iOS" }, deep, note: "mail jane@example.com" });
    // Nothing of the context is lost silently: what the limit allows stays, redacted.
    expect(out.os).toEqual({ name: "iOS" });
    expect(out.note).toBe("mail [email]");
    let level: unknown = out.deep;
    let depth = 0;
    while (level !== null && typeof level === "object") {
      level = (level as Record<string, unknown>).d;
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(LIMITS.maxDepth);
    expect(depth).toBeGreaterThan(LIMITS.maxDepth - 3);
    expect(r.counts.depth).toBe(1);
    expect(() => r.value([deep])).not.toThrow();
  });

  it("never throws on odd input and keeps non-string values", () => {
    const r = redactor();
    const odd = { n: 1, b: true, z: null, nested: [[[{ s: "\u0000\uffff\ud800" }]]], big: "x@".repeat(20_000), num: 4111111111111111 };
    expect(() => r.value(odd)).not.toThrow();
    expect(r.value({ n: 1, b: false, z: null })).toEqual({ n: 1, b: false, z: null });
    expect(r.value(undefined)).toBeUndefined();
  });

  it("stays fast on hostile strings (no catastrophic backtracking)", () => {
    const r = redactor();
    const hostile = ["1 ".repeat(16_000), "a.".repeat(16_000) + "@", "1:".repeat(16_000), "=?&token".repeat(4000), "A1".repeat(16_000)];
    for (const s of hostile) expect(typeof r.text(s)).toBe("string");
  });
});

describe("URLs", () => {
  const url = (s: string, policy: Partial<RedactionPolicy> = {}) => redactor(policy).url(s);

  it("masks e-mails and tokens in the query string, encoded or not, and drops the fragment", () => {
    expect(url("https://api.example.com/v1/search?q=shoes&email=jane.doe%40example.com&page=2#access_token=abc")).toBe(
      "https://api.example.com/v1/search?q=shoes&email=[email]&page=2",
    );
    expect(url("https://api.example.com/a?who=jane@example.com")).toBe("https://api.example.com/a?who=[email]");
    expect(url("/reset?token=Zk9xT2ZaQ3d5bUhyN3Fw&lang=en")).toBe("/reset?token=[url_secret]&lang=en");
    expect(url("/a?bearer=Bearer%20abcdefghijklmnopqrstuvwxyz012345")).toBe("/a?bearer=[redacted]");
  });

  it("masks the value of a parameter named like a secret even when no detector knows its shape", () => {
    const r = redactor();
    expect(r.url("https://x.example/cb?github_token=s3cr3tvalue&state=ok&user_password=hunter2")).toBe("https://x.example/cb?github_token=[redacted]&state=ok&user_password=[redacted]");
    expect(r.counts.key).toBe(2);
  });

  it("masks personal data in the path and leaves a clean URL as sent", () => {
    expect(url("https://x.example/users/jane@example.com/orders?page=2")).toBe("https://x.example/users/[email]/orders?page=2");
    const clean = "https://x.example/v1/items/42?page=2&sort=asc";
    expect(url(clean)).toBe(clean);
  });

  it("drops a query value that holds personal data when the policy drops values, and the whole URL for its path", () => {
    expect(url("/a?email=jane%40example.com&page=2", { action: "drop" })).toBe("/a?page=2");
    expect(url("/users/jane@example.com", { action: "drop" })).toBe("");
  });

  it("checks a value that only starts like a placeholder", () => {
    expect(url("/a?q=[x]jane%40example.com")).toBe("/a?q=[x][email]");
  });

  it("applies only the query-string rules to a URL already scanned, keeping its hash route", () => {
    expect(redactor().query("https://app.example/?mail=jane%40example.com&user_password=x#/orders/42")).toBe("https://app.example/?mail=[email]&user_password=[redacted]#/orders/42");
    expect(redactor().query("https://app.example/#/orders/42")).toBe("https://app.example/#/orders/42");
  });

  it("keeps a value that is not valid percent-encoding as sent", () => {
    expect(url("/a?q=100%&x=1")).toBe("/a?q=100%&x=1");
  });
});

describe("policies and client IPs", () => {
  it("parses stored policies, filling defaults, and falls back to the strict defaults on bad text", () => {
    expect(parsePolicy(null)).toEqual(DEFAULT_POLICY);
    expect(parsePolicy('{"action":"hash","ip":"drop"}')).toEqual({ ...DEFAULT_POLICY, action: "hash", ip: "drop" });
    expect(parsePolicy("{nope")).toEqual(DEFAULT_POLICY);
    expect(parsePolicy('{"detectors":["telepathy"]}')).toEqual(DEFAULT_POLICY);
  });

  it("truncates, keeps or drops client addresses", () => {
    expect(redactIp("203.0.113.77", "truncate")).toBe("203.0.113.0");
    expect(redactIp("203.0.113.77", "keep")).toBe("203.0.113.77");
    expect(redactIp("203.0.113.77", "drop")).toBe("");
    expect(redactIp("2001:db8:85a3:1:2:3:4:5", "truncate")).toBe("2001:db8:85a3::");
    expect(redactIp("2001:db8::1", "truncate")).toBe("2001:db8:0::");
    expect(redactIp("::ffff:203.0.113.7", "truncate")).toBe("0:0:0::");
    expect(redactIp("not an ip", "keep")).toBe("");
    expect(redactIp("300.1.1.1", "truncate")).toBe("");
  });
});

describe("sha256", () => {
  it("matches the published test vectors", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(toHex(sha256(enc("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(sha256(enc("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(sha256(enc("a".repeat(1000))))).toBe("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    // RFC 4231 test case 2.
    expect(toHex(hmacSha256(keyBytes("Jefe"))("what do ya want for nothing?"))).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
});
