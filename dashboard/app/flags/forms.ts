// What the flags and configuration pages' forms post, read into what the service takes.
import { booleanFlag, type Flag, type FlagSubject } from "../../../schemas/flags";

/** JSON text parsed, or why not; blank text is `blank`. */
export function parseJson(text: string, what: string, blank: unknown = undefined): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return blank === undefined ? { ok: false, error: `${what} is empty` } : { ok: true, value: blank };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export interface NewFlagValues {
  key: string;
  name: string;
  kind: "boolean" | "multivariate";
  /** Multivariate variants, one a line: `key = JSON value`. */
  variants: string;
}

export const EMPTY_NEW_FLAG: NewFlagValues = { key: "", name: "", kind: "boolean", variants: 'control = "blue"\ntreatment = "green"' };

/**
 * The definition of a new flag: an on/off flag off for everyone, or a multivariate one serving
 * its first variant to everyone until rules say otherwise. Variant lines that do not parse are
 * errors; everything else is left to the Flag schema.
 */
export function newFlag(v: NewFlagValues): { flag: Flag | Record<string, unknown> } | { errors: string[] } {
  if (v.kind === "boolean") return { flag: booleanFlag(v.key, v.name) };
  const errors: string[] = [];
  const variants = v.variants
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line, i) => {
      const at = line.indexOf("=");
      const key = (at < 0 ? line : line.slice(0, at)).trim();
      const parsed = parseJson(at < 0 ? "" : line.slice(at + 1), `the value of variant ${i + 1} (${key})`);
      if (!parsed.ok) errors.push(`${parsed.error}; write each line as key = JSON value, e.g. treatment = "green"`);
      return { key, value: parsed.ok ? parsed.value : null };
    });
  if (variants.length === 0) errors.push("a multivariate flag needs variants: one a line, key = JSON value");
  if (errors.length > 0) return { errors };
  const first = variants[0]?.key ?? "";
  return { flag: { key: v.key, name: v.name, description: "", enabled: true, variants, rules: [], fallthrough: { variant: first }, offVariant: first } };
}

export interface TestUserValues {
  userId: string;
  anonymousId: string;
  platform: string;
  appVersion: string;
  country: string;
  traits: string;
}

export const EMPTY_TEST_USER: TestUserValues = { userId: "", anonymousId: "", platform: "", appVersion: "", country: "", traits: "" };

/** The caller "Test a user" describes, as the edge would see it; traits must be a JSON object. */
export function subjectOf(v: TestUserValues): { subject: FlagSubject } | { error: string } {
  const traits = parseJson(v.traits, "Traits", {});
  if (!traits.ok) return { error: traits.error };
  const t = traits.value;
  if (t === null || typeof t !== "object" || Array.isArray(t)) return { error: 'Traits must be a JSON object, e.g. {"plan": "pro"}' };
  const subject: FlagSubject = { traits: t as Record<string, unknown> };
  if (v.userId) subject.userId = v.userId;
  if (v.anonymousId) subject.anonymousId = v.anonymousId;
  if (v.platform) subject.platform = v.platform;
  if (v.appVersion) subject.appVersion = v.appVersion;
  if (v.country) subject.country = v.country;
  return { subject };
}

/** A version number as a form posts it, or null. */
export const versionOf = (text: string): number | null => (/^\d{1,12}$/.test(text) ? Number(text) : null);
