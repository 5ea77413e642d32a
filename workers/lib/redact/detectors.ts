import type { Detector } from "../../../schemas";

/** Cheap facts about a string, gathered in one pass, that tell which detectors can match at all. */
export interface TextShape {
  digits: number;
  at: boolean;
  dots: number;
  colons: number;
  upper: number;
  equals: boolean;
  length: number;
  /** The text holds a marker of a known token format. */
  tokenHint: boolean;
}

// Every detector needs one of these characters (a digit, @, =, :, _, -, a capital) or the word
// "bearer": a single-class scan, far cheaper than any alternation, clears most prose.
const ANY_HINT = /[\d@=:_A-Z-]/;
const TOKEN_HINT = /[Bb]earer|eyJ|_live_|_test_|gh[pousr]_|github_pat_|AKIA|xox[abposr]-|AIza|glpat-/;

/** True when no detector can match `s`, decided without looking at it character by character. */
export function plainText(s: string): boolean {
  return !ANY_HINT.test(s) && !s.includes("earer");
}

export function shapeOf(s: string): TextShape {
  let digits = 0;
  let dots = 0;
  let colons = 0;
  let upper = 0;
  let at = false;
  let equals = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) upper++;
    else if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 64) at = true;
    else if (c === 61) equals = true;
  }
  return { digits, at, dots, colons, upper, equals, length: s.length, tokenHint: s.length >= 20 && TOKEN_HINT.test(s) };
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

// ISO 13616: move the country code and check digits to the end, letters to numbers, mod 97 = 1.
function ibanValid(text: string): boolean {
  const s = text.replace(/ /g, "");
  if (s.length < 15 || s.length > 34) return false;
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

// Dates and times are the usual digit groups that are not phone numbers.
const DATE_LIKE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?)$/;

const URL_SECRET_NAMES = "(?:access_?token|refresh_?token|id_?token|token|api_?key|apikey|key|secret|client_secret|password|passwd|pwd|auth|authorization|signature|sig|code|session|session_?id|sid|jwt|credential|x-amz-signature|x-amz-credential)";

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
    applies: (s) => s.upper >= 2 && s.digits >= 10,
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
    valid: ibanValid,
  },
  {
    name: "card",
    applies: (s) => s.digits >= 13,
    // Issuers' ranges start with 2-6; epoch milliseconds (which start with 1) stay.
    pattern: /(?<![\d.])[2-6]\d{3}(?:[ -]?\d{3,4}){2,3}(?:[ -]?\d{1,4})?(?![\d.])/g,
    valid: (m) => {
      const d = digitsOf(m);
      return d.length >= 13 && d.length <= 19 && luhn(d);
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
    pattern:
      /(?<![\w.:])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?|::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6}))(?![\w.:])/g,
    // "::" alone, or "a::b" in code (`Foo::bar`), is not an address.
    valid: (m) => m.includes(".") || ((m.match(/:/g)?.length ?? 0) >= 2 && /[0-9]/.test(m)),
  },
  {
    name: "phone",
    applies: (s) => s.digits >= 7,
    pattern: /(?<![\w+.:/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,8}(?:[ .-]\d{2,8}){0,4}(?![\w.:/-])/g,
    valid: (m) => {
      const d = digitsOf(m);
      if (d.length < 7 || d.length > 15 || DATE_LIKE.test(m)) return false;
      // A bare run of digits is an id, an amount or a timestamp unless it says it is a phone number.
      return m.startsWith("+") || m.startsWith("(") || /[ .-]/.test(m.trim());
    },
  },
];
