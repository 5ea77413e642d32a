import type { Detector } from "../../../schemas";

/** Cheap facts about a string, gathered in one pass, that tell which detectors can match at all. */
export interface TextShape {
  digits: number;
  at: boolean;
  dots: number;
  colons: number;
  upper: number;
  /** Letters of either case. */
  letters: number;
  equals: boolean;
  length: number;
  /** The text holds a marker of a known token format. */
  tokenHint: boolean;
  /** Seven digits, and some digit, `+` or `(` after no character that keeps a phone number from starting there. */
  phoneStart: boolean;
  /** Some place where a card number may start has 13 digits after it, in groups as cards are written. */
  cardRun: boolean;
}

// Every detector needs one of these characters (a digit, @, =, :, _, -, a capital, or the % of
// percent-encoded text) or the word "bearer". Written as "the whole text is free of them", with
// only a "b" looked at twice, so that V8 runs one tight loop over prose instead of trying a match
// at every position: long free text (a note, a description) is the common case and costs a third.
const NO_HINT = /^[^\d@=:_A-Z%b-]*(?:b(?!earer)[^\d@=:_A-Z%b-]*)*$/;
const TOKEN_HINT = /[Bb]earer|eyJ|_live_|_test_|gh[pousr]_|github_pat_|AKIA|xox[abposr]-|AIza|glpat-/;

/**
 * True when no detector's pattern matches `s` at all, checks aside: what is clean for every
 * detector is clean for any app's choice of them.
 */
export function matchesNoDetector(s: string): boolean {
  if (plainText(s)) return true;
  // Percent-encoded text is judged as decoded, by the redactor.
  if (s.includes("%")) return false;
  const shape = shapeOf(s);
  for (const spec of DETECTOR_SPECS) {
    if (!spec.applies(shape)) continue;
    spec.pattern.lastIndex = 0;
    const hit = spec.pattern.test(s);
    spec.pattern.lastIndex = 0;
    if (hit) return false;
  }
  return true;
}

/** True when no detector can match `s`, decided without looking at it character by character. */
export function plainText(s: string): boolean {
  return NO_HINT.test(s);
}

/**
 * True when one of `list` could match `s` by its `shape`, or `s` holds percent-encoded text (judged
 * as decoded): false means every one of them passes `s` over.
 */
export function mayMatch(s: string, shape: TextShape, list: readonly DetectorSpec[]): boolean {
  if (s.includes("%")) return true;
  for (const spec of list) if (spec.applies(shape)) return true;
  return false;
}

export function shapeOf(s: string): TextShape {
  let digits = 0;
  let dots = 0;
  let colons = 0;
  let upper = 0;
  let lower = 0;
  let at = false;
  let equals = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
    else if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 64) at = true;
    else if (c === 61) equals = true;
  }
  return {
    digits,
    at,
    dots,
    colons,
    upper,
    letters: upper + lower,
    equals,
    length: s.length,
    tokenHint: s.length >= 20 && TOKEN_HINT.test(s),
    // Only text with enough digits for either is looked at again.
    phoneStart: digits >= 7 && phoneStart(s),
    cardRun: digits >= 13 && cardRun(s),
  };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

// The phone pattern's look-behind: a word character, `+`, `.`, `:`, `/` or `-` before it.
const blocksPhone = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 43 || c === 46 || c === 58 || c === 47 || c === 45;

// Whether the phone pattern can start anywhere: at a digit, `+` or `(` after none of these.
function phoneStart(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((isDigit(c) || c === 43 || c === 40) && (i === 0 || !blocksPhone(s.charCodeAt(i - 1)))) return true;
  }
  return false;
}

// Whether the card pattern can match at all: it starts with a digit 2-6 that follows neither a
// digit nor a digit and a dot, and its 13 to 19 digits come in groups joined by at most one
// space, dot or dash. Counted from the end, so each digit knows how many follow it in its run.
function cardRun(s: string): boolean {
  let after = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      after++;
      if (after >= 13 && c >= 50 && c <= 54) {
        const before = i > 0 ? s.charCodeAt(i - 1) : 0;
        if (!isDigit(before) && !(before === 46 && i > 1 && isDigit(s.charCodeAt(i - 2)))) return true;
      }
    } else if (!((c === 32 || c === 46 || c === 45) && i > 0 && isDigit(s.charCodeAt(i - 1)) && i + 1 < s.length && isDigit(s.charCodeAt(i + 1)))) {
      after = 0;
    }
  }
  return false;
}

/** A detector: when it can apply, what it matches, and a check that a match is real. */
export interface DetectorSpec {
  name: Detector;
  applies(shape: TextShape): boolean;
  pattern: RegExp;
  /** Which capture group is the sensitive part; 0 means the whole match. */
  group?: number;
  valid?(match: string): boolean;
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// Each IBAN country's fixed length (SWIFT's IBAN registry): with the mod-97 check it tells a real
// IBAN from a hex hash or an order code that merely starts with two letters and two digits.
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19,
  SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

// ISO 13616: move the country code and check digits to the end, letters to numbers, mod 97 = 1.
// People type IBANs in lowercase too; the check is on the uppercased text.
function ibanValid(text: string): boolean {
  const s = text.replace(/ /g, "").toUpperCase();
  if (IBAN_LENGTHS[s.slice(0, 2)] !== s.length) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    rem = value > 9 ? (rem * 100 + value) % 97 : (rem * 10 + value) % 97;
  }
  return rem === 1;
}

const digitsOf = (s: string): string => s.replace(/\D/g, "");

// Cards are written in groups of four (the last shorter), or 4-6-5 and 4-6-4 (Amex, Diners),
// with one kind of separator: `m-5123-123456789`, an id, is not a card however its digits add up.
function cardGrouping(m: string, digits: string): boolean {
  if (m.length === digits.length) return true;
  const sep = m.charAt(4);
  const groups = m.split(sep);
  if (groups.join("") !== digits) return false;
  const lengths = groups.map((g) => g.length).join(",");
  return lengths === "4,6,5" || lengths === "4,6,4" || /^(?:4,)+[1-4]$/.test(lengths);
}

// Dates and times are the usual digit groups that are not phone numbers.
const DATE_LIKE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?)$/;

const URL_SECRET_NAMES = "(?:access_?token|refresh_?token|id_?token|token|api_?key|apikey|key|secret|client_secret|password|passwd|pwd|auth|authorization|signature|sig|code|session|session_?id|sid|jwt|credential|x-amz-signature|x-amz-credential)";

// "::" alone, or "a::b" in code (`Foo::bar`), is not an address. An IPv4 address ending in .0
// names a network, not a device: it is how a browser's frozen version reads (Chrome/120.0.0.0)
// and how this platform stores a truncated address.
function ipValid(m: string): boolean {
  if (m.includes(".")) return !m.endsWith(".0");
  return (m.match(/:/g)?.length ?? 0) >= 2 && /[0-9]/.test(m);
}

const IP_ADDRESS =
  "(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?|::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6}))";

/**
 * The detectors, in the order they run: the specific ones first, so a card number inside a URL
 * secret or an IP inside an e-mail address is counted once, by the most telling detector.
 * Every pattern is linear: no nested quantifiers over the same characters.
 */
export const DETECTOR_SPECS: readonly DetectorSpec[] = [
  {
    name: "url_secret",
    applies: (s) => s.equals,
    pattern: new RegExp(`([?&#;]${URL_SECRET_NAMES}=)([^&#\\s"']+)`, "gi"),
    group: 2,
  },
  {
    name: "token",
    applies: (s) => s.tokenHint,
    pattern:
      /\b(?:[Bb]earer\s+[A-Za-z0-9._~+/-]{8,}=*|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|AKIA[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})/g,
  },
  {
    name: "email",
    applies: (s) => s.at,
    pattern: /[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b/g,
  },
  {
    name: "iban",
    applies: (s) => s.letters >= 2 && s.digits >= 10,
    pattern: /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b/g,
    valid: ibanValid,
  },
  {
    name: "card",
    applies: (s) => s.cardRun,
    // Issuers' ranges start with 2-6; epoch milliseconds (which start with 1) stay. Groups are
    // written with spaces, dashes or dots; a dot that ends a sentence is not part of the number.
    pattern: /(?<!\d|\d\.)[2-6]\d{3}(?:[ .-]?\d{3,4}){2,3}(?:[ .-]?\d{1,4})?(?!\d|\.\d)/g,
    valid: (m) => {
      const d = digitsOf(m);
      return d.length >= 13 && d.length <= 19 && luhn(d) && cardGrouping(m, d);
    },
  },
  {
    name: "national_id",
    applies: (s) => s.digits >= 6,
    // US social security numbers (with dashes) and UK national insurance numbers.
    pattern: /\b(?:(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])\b/g,
  },
  {
    name: "ip",
    applies: (s) => (s.dots >= 3 && s.digits >= 4) || s.colons >= 2,
    pattern: new RegExp(`(?<![\\w.:])${IP_ADDRESS}(?![\\w.:])`, "g"),
    valid: ipValid,
  },
  {
    name: "phone",
    applies: (s) => s.phoneStart,
    pattern: /(?<![\w+.:/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,8}(?:[ .-]\d{2,8}){0,4}(?![\w.:/-])/g,
    valid: (m) => {
      const d = digitsOf(m);
      if (d.length < 7 || d.length > 15 || DATE_LIKE.test(m)) return false;
      // A bare run of digits is an id, an amount or a timestamp unless it says it is a phone number.
      return m.startsWith("+") || m.startsWith("(") || /[ .-]/.test(m.trim());
    },
  },
];

/**
 * The IP detector for a user agent: an address right after a `/` is a product's version
 * (`Foo/1.2.3.4`), not where the client is.
 */
export const USER_AGENT_IP: DetectorSpec = {
  name: "ip",
  applies: (s) => (s.dots >= 3 && s.digits >= 4) || s.colons >= 2,
  pattern: new RegExp(`(?<![\\w.:/])${IP_ADDRESS}(?![\\w.:])`, "g"),
  valid: ipValid,
};
