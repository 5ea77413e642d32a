import { DEFAULT_POLICY, LIMITS, RedactionPolicy, type Detector, type IpMode } from "../../../schemas";
import { DETECTOR_SPECS, matchesNoDetector, mayMatch, plainText, shapeOf, USER_AGENT_IP, type DetectorSpec, type TextShape } from "./detectors";
import { hmacSha256, keyBytes, toHex } from "./sha256";
import { errorText, log } from "../log";

export { DEFAULT_POLICY, type RedactionPolicy, type IpMode };

/** What a redactor removed, by reason: a detector's name, or `key` for a sensitive key. */
export type RedactionKind = Detector | "key" | "depth";

/** Redacts values for one request, counting what it removed. It never throws. */
export interface Redactor {
  /** Redactions so far: read it before and after a value to count that value's. */
  readonly total: number;
  /** Redactions so far by kind. */
  readonly counts: Readonly<Partial<Record<RedactionKind, number>>>;
  /**
   * A redacted copy of any JSON value: sensitive keys are gone, detected values (in strings, in
   * numbers, in keys, percent-encoded or not) masked, hashed or dropped. What a key says about
   * its value steers the detectors: under `phone` bare digits are a phone number, under
   * `version` a dotted quad is a version, under `userId` or `sessionId` the value is an id.
   */
  value(v: unknown): unknown;
  /**
   * Redacted free text (a crash message, a URL, an event or metric name); a value the policy
   * drops becomes "". Short text found clean is remembered: a batch repeats its names.
   */
  text(s: string): string;
  /**
   * An id that must stay joinable (user, anonymous, group, previous, session, message ids): kept
   * as sent unless a detector finds personal data in it, then that part is hashed with the app's
   * salt whatever the policy's action, so one person keeps one id and no two people share one.
   * `once` marks an id no other event repeats (a message id): not worth remembering as clean.
   */
  id(s: string, once?: boolean): string;
  /** A user agent as stored: detectors run on it without taking a product's version for an address. */
  userAgent(s: string): string;
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
  /**
   * Like `value` for a Segment `context`: the user agent passes the detectors without taking a
   * product's version for an address, the session id is an id, and the device's name (often
   * its owner's name, which no detector can tell) is removed. Like `value`, it hands back the
   * very object it was given when nothing in it was redacted: copy it before adding to it.
   */
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

const KEY_CACHE_LIMIT = 5000;
const MIN_DETECTABLE_LENGTH = 6;
const DROPPED = Symbol("dropped");
// What a detector left in place of a value: `[email]`, or `[email:9f86d081884c7d65]` when hashing.
const PLACEHOLDER = /^\[[a-z_]+(?::[0-9a-f]+)?\]$/;

const normalizeKey = (k: string): string => k.toLowerCase().replace(/[^a-z0-9]/g, "");

/** What a key is whatever the app's policy: its normalized form, and its verdict when it is clean. */
interface KeyFacts {
  normalized: string;
  /** The verdict for a key no detector matches, under any policy without extra keys. */
  verdict: KeyVerdict | null;
}

// Keys repeat across requests far more than within one (a Sentry envelope is one event): what
// does not depend on the policy is worked out once per isolate.
const keyFactsCache = new Map<string, KeyFacts>();

function keyFactsOf(key: string): KeyFacts {
  const hit = keyFactsCache.get(key);
  if (hit !== undefined) return hit;
  const k = normalizeKey(key);
  const sensitive = SENSITIVE_KEYS.has(k) || SENSITIVE_PARTS.some((p) => k.includes(p)) || (k.endsWith("token") && k.length > 5);
  const clean = sensitive || key.length < MIN_DETECTABLE_LENGTH || matchesNoDetector(key);
  const facts: KeyFacts = { normalized: k, verdict: clean ? { sensitive, hint: hintOf(k), stored: key, found: [] } : null };
  if (keyFactsCache.size >= KEY_CACHE_LIMIT) keyFactsCache.clear();
  keyFactsCache.set(key, facts);
  return facts;
}

/** Parses an app's stored policy; text that is not a valid policy falls back to the strict defaults. */
export function parsePolicy(text: string | null | undefined): RedactionPolicy {
  if (!text) return DEFAULT_POLICY;
  try {
    const parsed = RedactionPolicy.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  log.error("redaction.invalid_policy", { fallback: "defaults" });
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

// What a key tells about its value.
const HINT_NONE = 0;
/** Bare digits are a phone number: `{phone: 14155550123}`. */
const HINT_PHONE = 1;
/** A dotted quad is a version, not an address: `{version: "1.2.3.4"}`. */
const HINT_VERSION = 2;
/** The value is a joinable id: hashed, never masked, when it holds personal data. */
const HINT_ID = 4;
/** A user agent: an address after a `/` is a product's version. */
const HINT_USER_AGENT = 8;

const PHONE_KEY = /^(?:tel|cell|fax|msisdn|whatsapp|mobile)(?:number|no|num)?$|phone(?:number|no|num)?s?$/;
const VERSION_KEY = /version|build|release/;
const ID_KEYS = new Set(["userid", "anonymousid", "groupid", "previousid", "sessionid", "messageid"]);

function hintOf(k: string): number {
  if (k === "useragent") return HINT_USER_AGENT;
  if (ID_KEYS.has(k)) return HINT_ID;
  if (PHONE_KEY.test(k)) return HINT_PHONE;
  return VERSION_KEY.test(k) ? HINT_VERSION : HINT_NONE;
}

/** What is done with a key wherever it appears, worked out once per request. */
interface KeyVerdict {
  /** The member goes, whatever its value. */
  sensitive: boolean;
  hint: number;
  /** The key's own text as stored: itself, its redaction, or DROPPED. */
  stored: string | typeof DROPPED;
  /** The detectors that matched the key, counted each time it appears. */
  found: readonly Detector[];
}

// Percent-encoded text is matched as decoded, token by token; these end a token.
const isDelimiter = (c: number): boolean => c <= 32 || c === 47 || c === 63 || c === 38 || c === 61 || c === 35 || c === 59 || c === 44 || c === 34 || c === 39;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const BARE_PHONE = /^\+?\d{7,15}$/;
// A UUID is a random identifier: no detector's match inside one is personal data.
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const CLEAN_CACHE_LIMIT = 2000;
// Longer text (a crash message, a note) rarely repeats within a batch.
const MAX_REMEMBERED_LENGTH = 256;
// From this length a string is compared with recent clean ones before a set hashes it.
const RECENT_MIN_LENGTH = 8;
const RECENT_KEPT = 32;
// Marks a URL in the recent clean text as one the query rules leave as it is; it holds nothing.
const QUERY_RULES = new Set<string>();

/** Text found clean under one set of detectors: text, versions and user agents, judged apart. */
interface CleanSets {
  text: Set<string>;
  versions: Set<string>;
  userAgents: Set<string>;
}

// What the detectors found clean stays clean for the same detectors, whatever the app's salt or
// action: remembered per isolate, since a Sentry envelope or a beacon brings a single event per
// request while its user agent, library and names repeat across requests.
const cleanByDetectors = new Map<string, CleanSets>();
const DETECTOR_SETS_REMEMBERED = 16;

function cleanSetsFor(detectors: readonly string[]): CleanSets {
  const key = detectors.join(",");
  const hit = cleanByDetectors.get(key);
  if (hit) return hit;
  if (cleanByDetectors.size >= DETECTOR_SETS_REMEMBERED) cleanByDetectors.clear();
  const sets = { text: new Set<string>(), versions: new Set<string>(), userAgents: new Set<string>() };
  cleanByDetectors.set(key, sets);
  return sets;
}

/** Percent-encodes redacted text, leaving the placeholders' brackets and colon readable. */
const encodeRedacted = (s: string): string => encodeURIComponent(s).replace(/%5B/g, "[").replace(/%5D/g, "]").replace(/%3A/g, ":");

/** What an app's policy makes of the detectors, worked out once per policy object. */
interface CompiledPolicy {
  specs: readonly DetectorSpec[];
  /** For versions: a dotted quad there is no address. */
  withoutIp: readonly DetectorSpec[];
  /** For user agents: an address after a `/` is a product's version. */
  forUserAgent: readonly DetectorSpec[];
  card: DetectorSpec | undefined;
  phoneOn: boolean;
  extraKeys: ReadonlySet<string>;
  clean: CleanSets;
}

// An app's policy is read once and kept with the app, so the same object comes with each request.
const compiledPolicies = new WeakMap<RedactionPolicy, CompiledPolicy>();

function compile(policy: RedactionPolicy): CompiledPolicy {
  const hit = compiledPolicies.get(policy);
  if (hit !== undefined) return hit;
  const enabled = new Set(policy.detectors);
  const specs = DETECTOR_SPECS.filter((d) => enabled.has(d.name));
  const compiled: CompiledPolicy = {
    specs,
    withoutIp: specs.filter((d) => d.name !== "ip"),
    forUserAgent: specs.map((d) => (d.name === "ip" ? USER_AGENT_IP : d)),
    card: specs.find((d) => d.name === "card"),
    phoneOn: enabled.has("phone"),
    extraKeys: new Set(policy.extraKeys.map(normalizeKey)),
    clean: cleanSetsFor(specs.map((d) => d.name)),
  };
  compiledPolicies.set(policy, compiled);
  return compiled;
}

/**
 * A redactor for one app's policy; `salt` (hex) keys the `hash` action's HMAC-SHA256. One is made
 * per request (a Sentry envelope or a beacon brings a single event), so making one allocates no
 * closures: its work is in methods shared by all.
 */
export function createRedactor(policy: RedactionPolicy, salt: string): Redactor {
  return new RequestRedactor(policy, salt);
}

class RequestRedactor implements Redactor {
  total = 0;
  readonly counts: Partial<Record<RedactionKind, number>> = {};
  private readonly policy: RedactionPolicy;
  private readonly salt: string;
  private readonly compiled: CompiledPolicy;
  private readonly hashAll: boolean;
  private hmac: ((m: string) => Uint8Array) | null = null;
  private keyVerdicts: Map<string, KeyVerdict> | null = null;
  /** Long text this request found clean lately, and the set that says by which detectors. */
  private readonly recent: string[] = [];
  private readonly recentSets: Array<Set<string>> = [];
  private recentNext = 0;

  constructor(policy: RedactionPolicy, salt: string) {
    this.policy = policy;
    this.salt = salt;
    this.compiled = compile(policy);
    this.hashAll = policy.action === "hash";
  }

  private count(kind: RedactionKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.total++;
  }

  private replacement(kind: Detector, found: string, hash: boolean): string {
    if (!hash) return `[${kind}]`;
    this.hmac ??= hmacSha256(keyBytes(this.salt));
    return `[${kind}:${toHex(this.hmac(found)).slice(0, 16)}]`;
  }

  // Runs the detectors over `s`; each match is counted, or listed in `found` when one is given.
  // Returns the rewritten text.
  private detect(s: string, list: readonly DetectorSpec[], hash: boolean, found: Detector[] | null, decode = true, known?: TextShape): string {
    if (s.length < MIN_DETECTABLE_LENGTH || list.length === 0 || plainText(s)) return s;
    const shape = known ?? shapeOf(s);
    let out = s;
    for (const spec of list) {
      if (!spec.applies(shape)) continue;
      spec.pattern.lastIndex = 0;
      if (!spec.pattern.test(out)) continue;
      spec.pattern.lastIndex = 0;
      out = out.replace(spec.pattern, (match: string, ...groups: unknown[]) => {
        const part = spec.group ? String(groups[spec.group - 1] ?? "") : match;
        if (spec.valid && !spec.valid(part)) return match;
        if (found === null) this.count(spec.name);
        else found.push(spec.name);
        const masked = this.replacement(spec.name, part, hash);
        return spec.group ? match.slice(0, match.length - part.length) + masked : masked;
      });
    }
    return decode && out.includes("%") ? this.detectEncoded(out, list, hash, found) : out;
  }

  // Each token holding percent-escapes is matched again as decoded (`jane.doe%40example.com`,
  // `%2B1%20415%20555%200123`), and re-encoded only when something in it was found. One pass
  // over the text: a token is the run between two delimiters around a `%`.
  private detectEncoded(s: string, list: readonly DetectorSpec[], hash: boolean, found: Detector[] | null): string {
    let out = "";
    let last = 0;
    let i = s.indexOf("%");
    while (i >= 0) {
      let start = i;
      while (start > last && !isDelimiter(s.charCodeAt(start - 1))) start--;
      let end = i + 1;
      while (end < s.length && !isDelimiter(s.charCodeAt(end))) end++;
      const token = s.slice(start, end);
      if (PERCENT_ESCAPE.test(token)) {
        let decoded: string | null = null;
        try {
          decoded = decodeURIComponent(token.replace(/\+/g, " "));
        } catch {
          // Not valid percent-encoding: the plain pass already saw the text as it is.
        }
        if (decoded !== null && decoded !== token) {
          const r = this.detect(decoded, list, hash, found);
          if (r !== decoded) {
            out += s.slice(last, start) + encodeRedacted(r);
            last = end;
          }
        }
      }
      i = s.indexOf("%", end);
    }
    return last === 0 ? s : out + s.slice(last);
  }

  // Returns the redacted string, or DROPPED when the policy drops values that hold PII.
  private scan(s: string, hint: number): string | typeof DROPPED {
    if (hint === HINT_ID) return this.cleanId(s, false);
    if (s.length < MIN_DETECTABLE_LENGTH || plainText(s)) return s;
    const { clean, specs } = this.compiled;
    // A string found clean is remembered where its verdict cannot depend on the key it is under.
    const cache = hint === HINT_NONE ? clean.text : hint === HINT_VERSION ? clean.versions : hint === HINT_USER_AGENT ? clean.userAgents : null;
    if (cache !== null && this.knownClean(s, cache)) return s;
    const list = hint === HINT_VERSION ? this.compiled.withoutIp : hint === HINT_USER_AGENT ? this.compiled.forUserAgent : specs;
    const before = this.total;
    let out = this.detect(s, list, this.hashAll, null);
    if (this.total === before && hint === HINT_PHONE && this.compiled.phoneOn && BARE_PHONE.test(s.trim())) {
      this.count("phone");
      out = this.replacement("phone", s.trim(), this.hashAll);
    }
    if (this.total === before) {
      if (cache && s.length <= MAX_REMEMBERED_LENGTH) {
        remember(cache, s);
        this.noteClean(s, cache);
      }
      return s;
    }
    return this.policy.action === "drop" ? DROPPED : out;
  }

  // A batch's events repeat their user agent and page URLs, each a new string from JSON.parse
  // that a set must hash whole before it can answer; compared with the few long values this
  // request last found clean, a string is told apart at its length or first differing character.
  private knownClean(s: string, cache: Set<string>): boolean {
    if (s.length < RECENT_MIN_LENGTH) return cache.has(s);
    if (this.recentlyClean(s, cache)) return true;
    if (!cache.has(s)) return false;
    this.noteClean(s, cache);
    return true;
  }

  private recentlyClean(s: string, kind: Set<string>): boolean {
    const recent = this.recent;
    for (let i = 0; i < recent.length; i++) if (recent[i] === s && this.recentSets[i] === kind) return true;
    return false;
  }

  private noteClean(s: string, cache: Set<string>): void {
    if (s.length < RECENT_MIN_LENGTH) return;
    const at = this.recentNext;
    this.recent[at] = s;
    this.recentSets[at] = cache;
    this.recentNext = (at + 1) % RECENT_KEPT;
  }

  private cleanId(s: string, once: boolean): string {
    const clean = this.compiled.clean.text;
    if (s.length < MIN_DETECTABLE_LENGTH || plainText(s) || (!once && clean.has(s))) return s;
    // Ids are mostly new (a device, a session, a message): one no detector can match by its shape
    // is clean without being remembered, which would push out text that does repeat.
    const shape = shapeOf(s);
    if (!mayMatch(s, shape, this.compiled.specs) || UUID.test(s)) return s;
    const out = this.detect(s, this.compiled.specs, true, null, true, shape);
    if (out === s && !once && s.length <= MAX_REMEMBERED_LENGTH) remember(clean, s);
    return out;
  }

  // A number is personal data when its digits are a card number (Luhn-checked, as in text), or
  // a phone number under a key that names one; amounts, counts and timestamps are not.
  private numberValue(v: number, hint: number): unknown {
    if (!Number.isInteger(v) || v < 1_000_000 || v >= 1e19) return v;
    if (hint === HINT_ID) {
      const text = String(v);
      const r = this.cleanId(text, false);
      return r === text ? v : r;
    }
    let kind: Detector | null = null;
    // Epoch milliseconds (1.7e12) sit below every card number of their length, which starts with 2-6.
    const digits = v >= 2e12 || hint === HINT_PHONE ? String(v) : "";
    const lead = digits.charCodeAt(0);
    const { card } = this.compiled;
    if (card && v >= 2e12 && lead >= 50 && lead <= 54 && card.valid?.(digits) === true) kind = "card";
    else if (hint === HINT_PHONE && this.compiled.phoneOn && v < 1e15) kind = "phone";
    if (kind === null) return v;
    this.count(kind);
    return this.policy.action === "drop" ? DROPPED : this.replacement(kind, digits, this.hashAll);
  }

  private verdictOf(key: string): KeyVerdict {
    const facts = keyFactsOf(key);
    const { extraKeys } = this.compiled;
    if (facts.verdict !== null && (extraKeys.size === 0 || facts.verdict.sensitive || !extraKeys.has(facts.normalized))) return facts.verdict;
    const verdicts = (this.keyVerdicts ??= new Map());
    const hit = verdicts.get(key);
    if (hit !== undefined) return hit;
    const k = facts.normalized;
    const sensitive = extraKeys.has(k) || (facts.verdict?.sensitive ?? false);
    const found: Detector[] = [];
    const text = sensitive ? key : this.detect(key, this.compiled.specs, this.hashAll, found);
    const verdict: KeyVerdict = { sensitive, hint: hintOf(k), stored: found.length > 0 && this.policy.action === "drop" ? DROPPED : text, found };
    if (verdicts.size >= KEY_CACHE_LIMIT) verdicts.clear();
    verdicts.set(key, verdict);
    return verdict;
  }

  // Copy on write: a value with nothing to redact comes back as the very same object, so clean
  // events cost no allocation and serialize from the objects JSON.parse made. `depth` counts
  // the containers above `v`: the edge refuses deeper events before this, but the walk itself
  // must not exhaust the stack on any input, so what lies past the limit is cut and counted.
  private walk(v: unknown, depth: number, hint: number): unknown {
    if (typeof v === "string") return this.scan(v, hint);
    if (typeof v === "number") return this.numberValue(v, hint);
    if (v === null || typeof v !== "object") return v;
    if (depth >= LIMITS.maxDepth) {
      this.count("depth");
      return DROPPED;
    }
    if (Array.isArray(v)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        const r = this.walk(item, depth + 1, hint);
        if (r !== item && out === null) out = v.slice(0, i);
        if (out !== null) out.push(r === DROPPED ? null : r);
      }
      return out ?? v;
    }
    const obj = v as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    let numbering: Map<string, number> | undefined;
    // for…in walks a JSON object's keys from V8's enumeration cache, without a list of them made
    // per object: the values handed here are JSON or plain objects, with nothing to inherit.
    for (const k in obj) {
      const item = obj[k];
      const verdict = this.verdictOf(k);
      let r: unknown = DROPPED;
      if (verdict.sensitive) this.count("key");
      else {
        for (const kind of verdict.found) this.count(kind);
        if (verdict.stored !== DROPPED) r = this.walk(item, depth + 1, verdict.hint);
      }
      if ((r !== item || verdict.stored !== k) && out === null) {
        out = {};
        for (const prev in obj) {
          if (prev === k) break;
          out[prev] = obj[prev];
        }
      }
      if (out === null || r === DROPPED || verdict.stored === DROPPED) continue;
      if (verdict.stored === k) out[k] = r;
      else out[freeKey(verdict.stored, out, obj, (numbering ??= new Map()))] = r;
    }
    return out ?? obj;
  }

  private queryValue(raw: string): string | typeof DROPPED {
    if (!raw.includes("%") && !raw.includes("+")) return raw;
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw.replace(/\+/g, " "));
    } catch {
      return raw;
    }
    const r = this.scan(decoded, HINT_NONE);
    if (r === DROPPED) return DROPPED;
    return r === decoded ? raw : encodeRedacted(r);
  }

  // Without an escape or a `+` no value decodes to new text: only a parameter named like a
  // secret can change such a query, and most pages' queries (`?utm_source=…`) are let through
  // without being taken apart.
  private secretNamed(query: string): boolean {
    for (let start = 0; start < query.length; ) {
      let end = query.indexOf("&", start);
      if (end < 0) end = query.length;
      const eq = query.indexOf("=", start);
      if (eq >= 0 && eq < end - 1 && this.verdictOf(query.slice(start, eq)).sensitive) return true;
      start = end + 1;
    }
    return false;
  }

  // The per-parameter rules on a URL whose whole text was already scanned; a fragment stays.
  private redactQuery(s: string): string {
    const q = s.indexOf("?");
    if (q < 0) return s;
    const hash = s.indexOf("#", q);
    // A page's address repeats through a batch: one found to need no rule is not taken apart again.
    if (this.recentlyClean(s, QUERY_RULES)) return s;
    const query = hash < 0 ? s.slice(q + 1) : s.slice(q + 1, hash);
    if (!query.includes("%") && !query.includes("+") && !this.secretNamed(query)) {
      this.noteClean(s, QUERY_RULES);
      return s;
    }
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
      if (this.verdictOf(name).sensitive) {
        this.count("key");
        kept.push(`${name}=[redacted]`);
        changed = true;
        continue;
      }
      const r = this.queryValue(value);
      if (r !== value) changed = true;
      if (r !== DROPPED) kept.push(`${name}=${r}`);
    }
    return changed ? `${s.slice(0, q)}?${kept.join("&")}${hash < 0 ? "" : s.slice(hash)}` : s;
  }

  // The query's plain text passes the detectors here, but its percent-encoded values are decoded
  // parameter by parameter in `redactQuery`, so that a policy that drops drops that parameter
  // rather than the whole URL.
  private redactUrl(s: string): string {
    const cut = s.indexOf("#");
    const noFragment = cut < 0 ? s : s.slice(0, cut);
    const q = noFragment.indexOf("?");
    const path = this.scan(q < 0 ? noFragment : noFragment.slice(0, q), HINT_NONE);
    if (path === DROPPED) return "";
    if (q < 0) return path;
    const before = this.total;
    const query = this.detect(noFragment.slice(q), this.compiled.specs, this.hashAll, null, false);
    return this.total !== before && this.policy.action === "drop" ? "" : this.redactQuery(path + query);
  }

  // A failure is unreachable for JSON input; if it ever happens, keep nothing rather than raw PII.
  value(v: unknown): unknown {
    try {
      const r = this.walk(v, 0, HINT_NONE);
      return r === DROPPED ? null : r;
    } catch (err) {
      failed(err);
      return null;
    }
  }

  text(s: string): string {
    return this.guarded(s, OP_TEXT, false);
  }

  id(s: string, once = false): string {
    return this.guarded(s, OP_ID, once);
  }

  userAgent(s: string): string {
    return this.guarded(s, OP_USER_AGENT, false);
  }

  url(s: string): string {
    return this.guarded(s, OP_URL, false);
  }

  query(s: string): string {
    return this.guarded(s, OP_QUERY, false);
  }

  private guarded(s: string, op: number, once: boolean): string {
    try {
      if (op === OP_ID) return this.cleanId(s, once);
      if (op === OP_URL) return this.redactUrl(s);
      if (op === OP_QUERY) return this.redactQuery(s);
      const r = this.scan(s, op === OP_USER_AGENT ? HINT_USER_AGENT : HINT_NONE);
      return r === DROPPED ? "" : r;
    } catch (err) {
      failed(err);
      return "";
    }
  }

  context(ctx: Record<string, unknown>): Record<string, unknown> {
    try {
      let input = ctx;
      const device = ctx.device;
      if (device !== null && typeof device === "object" && !Array.isArray(device) && "name" in device) {
        const { name: _owner, ...rest } = device as Record<string, unknown>;
        this.count("key");
        input = { ...ctx, device: rest };
      }
      return this.walk(input, 0, HINT_NONE) as Record<string, unknown>;
    } catch (err) {
      failed(err);
      return {};
    }
  }
}

const failed = (err: unknown): void => log.error("redaction.failed", { error: errorText(err) });

// The text entry points, told apart inside the one guard they share.
const OP_TEXT = 0;
const OP_ID = 1;
const OP_USER_AGENT = 2;
const OP_URL = 3;
const OP_QUERY = 4;

function remember(cache: Set<string>, s: string): void {
  if (cache.size >= CLEAN_CACHE_LIMIT) cache.clear();
  cache.add(s);
}

// Two keys redacted alike (`[email]`) must not overwrite each other: later ones are numbered,
// each object remembering where its numbering got to, so thousands of such keys stay linear.
function freeKey(name: string, out: Record<string, unknown>, obj: Record<string, unknown>, next: Map<string, number>): string {
  if (!Object.hasOwn(out, name) && !Object.hasOwn(obj, name)) return name;
  let n = next.get(name) ?? 2;
  while (Object.hasOwn(out, `${name}#${n}`) || Object.hasOwn(obj, `${name}#${n}`)) n++;
  next.set(name, n + 1);
  return `${name}#${n}`;
}
