import { DEFAULT_POLICY, LIMITS, RedactionPolicy, type Detector, type IpMode } from "../../../schemas";
import { DETECTOR_SPECS, plainText, shapeOf, type DetectorSpec } from "./detectors";
import { hmacSha256, keyBytes, toHex } from "./sha256";

export { DEFAULT_POLICY, type RedactionPolicy, type IpMode };

/** What a redactor removed, by reason: a detector's name, or `key` for a sensitive key. */
export type RedactionKind = Detector | "key" | "depth";

/** Redacts values for one request, counting what it removed. It never throws. */
export interface Redactor {
  /** Redactions so far: read it before and after a value to count that value's. */
  readonly total: number;
  /** Redactions so far by kind. */
  readonly counts: Readonly<Partial<Record<RedactionKind, number>>>;
  /** A redacted copy of any JSON value; sensitive keys are gone, detected values masked, hashed or dropped. */
  value(v: unknown): unknown;
  /** Redacted free text (a crash message, a URL); a value the policy drops becomes "". */
  text(s: string): string;
  /**
   * A redacted URL for storage: the fragment dropped, detectors run on the whole URL and again on
   * each query value as decoded (an e-mail sent as `alice%40example.com`), and the value of a
   * parameter named like a secret (`?token=`, `?api_key=`) masked; "" when the policy drops it.
   */
  url(s: string): string;
  /**
   * Only the query-string rules of `url`, for a URL whose whole text `value` or `context`
   * already redacted (a page's address): its fragment stays, a hash route being the page.
   */
  query(s: string): string;
  /** Like `value` for a Segment `context`, leaving the fields that describe the client (user agent, library, OS…) as sent. */
  context(ctx: Record<string, unknown>): Record<string, unknown>;
}

// Keys whose value is a secret whatever it looks like, compared lowercased without separators.
const SENSITIVE_KEYS = new Set([
  "password", "passwd", "pwd", "pass", "passcode", "passphrase", "token", "secret", "authorization", "auth", "ssn",
  "socialsecuritynumber", "card", "cardnumber", "creditcard", "ccnumber", "cc", "cvv", "cvc", "cvv2", "pin", "apikey",
  "privatekey", "clientsecret", "accesstoken", "refreshtoken", "idtoken", "authtoken", "sessiontoken", "csrftoken",
  "xsrftoken", "cookie", "setcookie", "xapikey", "secretkey", "accesskey", "bearer",
]);
// Parts that make any key sensitive (`user_password`, `stripeSecretKey`, `github_token`).
const SENSITIVE_PARTS = ["password", "passwd", "secret", "apikey", "privatekey", "accesstoken", "refreshtoken", "authtoken", "creditcard", "cardnumber"];

// Context fields that describe the client, not the person: detectors would only mangle them
// (a browser version such as 120.0.0.0 reads as an IPv4 address).
const CONTEXT_AS_SENT = new Set(["userAgent", "library", "os", "app", "device", "screen", "locale", "timezone", "network", "sessionId"]);

const KEY_CACHE_LIMIT = 5000;
const MIN_DETECTABLE_LENGTH = 6;
const DROPPED = Symbol("dropped");
// What a detector left in place of a value: `[email]`, or `[email:9f86d081884c7d65]` when hashing.
const PLACEHOLDER = /^\[[a-z_]+(?::[0-9a-f]+)?\]$/;

const normalizeKey = (k: string): string => k.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Parses an app's stored policy; text that is not a valid policy falls back to the strict defaults. */
export function parsePolicy(text: string | null | undefined): RedactionPolicy {
  if (!text) return DEFAULT_POLICY;
  try {
    const parsed = RedactionPolicy.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  console.error("redaction: the app's stored policy is invalid; using the defaults");
  return DEFAULT_POLICY;
}

/**
 * Applies the app's IP rule to a client address: `truncate` zeroes the last IPv4 octet or keeps
 * an IPv6 /48 (`2001:db8:85a3::`); anything that is not an address is dropped.
 */
export function redactIp(ip: string, mode: IpMode): string {
  // Every event of a batch usually carries the same address: answer a repeat from memory.
  if (ip === lastIp.input && mode === lastIp.mode) return lastIp.output;
  const output = redactIpOnce(ip, mode);
  lastIp = { input: ip, mode, output };
  return output;
}

let lastIp: { input: string; mode: IpMode; output: string } = { input: "", mode: "drop", output: "" };

function redactIpOnce(ip: string, mode: IpMode): string {
  const s = ip.trim();
  if (mode === "drop" || s === "") return "";
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((o) => o > 255)) return "";
    return mode === "keep" ? octets.join(".") : `${octets.slice(0, 3).join(".")}.0`;
  }
  if (!/^[0-9a-f:.]+$/i.test(s) || !s.includes(":") || s.length > 45) return "";
  if (mode === "keep") return s.toLowerCase();
  const groups = expandIpv6(s);
  return groups ? `${groups.slice(0, 3).join(":")}::` : "";
}

function expandIpv6(s: string): string[] | null {
  const halves = s.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = tail.length > 0 ? tail : head;
  if (last.length > 0 && (last[last.length - 1] ?? "").includes(".")) last.splice(last.length - 1, 1, "0", "0");
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

/** A redactor for one app's policy; `salt` (hex) keys the `hash` action's HMAC-SHA256. */
export function createRedactor(policy: RedactionPolicy, salt: string): Redactor {
  const enabled = new Set(policy.detectors);
  const specs: readonly DetectorSpec[] = DETECTOR_SPECS.filter((d) => enabled.has(d.name));
  const extraKeys = new Set(policy.extraKeys.map(normalizeKey));
  const keyVerdicts = new Map<string, boolean>();
  const counts: Partial<Record<RedactionKind, number>> = {};
  let total = 0;
  let hmac: ((m: string) => Uint8Array) | null = null;

  const count = (kind: RedactionKind): void => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    total++;
  };

  const replacement = (kind: Detector, found: string): string => {
    if (policy.action !== "hash") return `[${kind}]`;
    hmac ??= hmacSha256(keyBytes(salt));
    return `[${kind}:${toHex(hmac(found)).slice(0, 16)}]`;
  };

  const sensitiveKey = (key: string): boolean => {
    const hit = keyVerdicts.get(key);
    if (hit !== undefined) return hit;
    const k = normalizeKey(key);
    const verdict = SENSITIVE_KEYS.has(k) || extraKeys.has(k) || SENSITIVE_PARTS.some((p) => k.includes(p)) || (k.endsWith("token") && k.length > 5);
    if (keyVerdicts.size >= KEY_CACHE_LIMIT) keyVerdicts.clear();
    keyVerdicts.set(key, verdict);
    return verdict;
  };

  // Returns the redacted string, or DROPPED when the policy drops values that hold PII.
  const scan = (s: string): string | typeof DROPPED => {
    if (s.length < MIN_DETECTABLE_LENGTH || specs.length === 0 || plainText(s)) return s;
    const shape = shapeOf(s);
    let out = s;
    let found = false;
    for (const spec of specs) {
      if (!spec.applies(shape)) continue;
      spec.pattern.lastIndex = 0;
      if (!spec.pattern.test(out)) continue;
      spec.pattern.lastIndex = 0;
      out = out.replace(spec.pattern, (match: string, ...groups: unknown[]) => {
        const part = spec.group ? String(groups[spec.group - 1] ?? "") : match;
        if (spec.valid && !spec.valid(part)) return match;
        found = true;
        count(spec.name);
        const masked = replacement(spec.name, part);
        return spec.group ? match.slice(0, match.length - part.length) + masked : masked;
      });
    }
    return found && policy.action === "drop" ? DROPPED : out;
  };

  // Copy on write: a value with nothing to redact comes back as the very same object, so clean
  // events cost no allocation and serialize from the objects JSON.parse made. `depth` counts
  // the containers above `v`: the edge refuses deeper events before this, but the walk itself
  // must not exhaust the stack on any input, so what lies past the limit is cut and counted.
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return scan(v);
    if (v === null || typeof v !== "object") return v;
    if (depth >= LIMITS.maxDepth) {
      count("depth");
      return DROPPED;
    }
    if (Array.isArray(v)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        const r = walk(item, depth + 1);
        if (r !== item && out === null) out = v.slice(0, i);
        if (out !== null) out.push(r === DROPPED ? null : r);
      }
      return out ?? v;
    }
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    let out: Record<string, unknown> | null = null;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] ?? "";
      const item = obj[k];
      let r: unknown = DROPPED;
      if (sensitiveKey(k)) count("key");
      else r = walk(item, depth + 1);
      if (r !== item && out === null) {
        out = {};
        for (let j = 0; j < i; j++) {
          const prev = keys[j] ?? "";
          out[prev] = obj[prev];
        }
      }
      if (out !== null && r !== DROPPED) out[k] = r;
    }
    return out ?? obj;
  };

  const queryValue = (raw: string): string | typeof DROPPED => {
    if (!raw.includes("%") && !raw.includes("+")) return raw;
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw.replace(/\+/g, " "));
    } catch {
      return raw;
    }
    const r = scan(decoded);
    if (r === DROPPED) return DROPPED;
    return r === decoded ? raw : encodeURIComponent(r).replace(/%5B/g, "[").replace(/%5D/g, "]").replace(/%3A/g, ":");
  };

  // The per-parameter rules on a URL whose whole text was already scanned; a fragment stays.
  const redactQuery = (s: string): string => {
    const q = s.indexOf("?");
    if (q < 0) return s;
    const hash = s.indexOf("#", q);
    const query = hash < 0 ? s.slice(q + 1) : s.slice(q + 1, hash);
    let changed = false;
    const kept: string[] = [];
    for (const param of query.split("&")) {
      const eq = param.indexOf("=");
      const value = eq < 0 ? "" : param.slice(eq + 1);
      if (eq < 0 || value === "" || PLACEHOLDER.test(value)) {
        kept.push(param);
        continue;
      }
      const name = param.slice(0, eq);
      if (sensitiveKey(name)) {
        count("key");
        kept.push(`${name}=[redacted]`);
        changed = true;
        continue;
      }
      const r = queryValue(value);
      if (r !== value) changed = true;
      if (r !== DROPPED) kept.push(`${name}=${r}`);
    }
    return changed ? `${s.slice(0, q)}?${kept.join("&")}${hash < 0 ? "" : s.slice(hash)}` : s;
  };

  const redactUrl = (s: string): string => {
    const hash = s.indexOf("#");
    const whole = scan(hash < 0 ? s : s.slice(0, hash));
    return whole === DROPPED ? "" : redactQuery(whole);
  };


  const safely = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      // Unreachable for JSON input; if it ever happens, keep nothing rather than raw PII.
      console.error("redaction failed", err);
      return fallback;
    }
  };

  return {
    get total() {
      return total;
    },
    counts,
    value: (v) => safely(() => {
      const r = walk(v, 0);
      return r === DROPPED ? null : r;
    }, null),
    text: (s) => safely(() => {
      const r = scan(s);
      return r === DROPPED ? "" : r;
    }, ""),
    url: (s) => safely(() => redactUrl(s), ""),
    query: (s) => safely(() => redactQuery(s), ""),
    context: (ctx) =>
      safely(() => {
        const out: Record<string, unknown> = {};
        for (const [k, item] of Object.entries(ctx)) {
          if (CONTEXT_AS_SENT.has(k)) out[k] = item;
          else if (sensitiveKey(k)) count("key");
          else {
            const r = walk(item, 1);
            if (r !== DROPPED) out[k] = r;
          }
        }
        return out;
      }, {}),
  };
}
