// The flag editor's working copy: the flag with every number and JSON value as the text being
// typed, so a half-typed value never loses what was typed. `toDraft` opens a flag; `fromDraft`
// makes the definition the server checks with the Flag schema, or says which value is not JSON.
import { FLAG_ATTRIBUTES, type Flag, type FlagAttribute, type FlagCondition, type FlagServe } from "../../../schemas/flags";

export const CONDITION_OPS = [
  { op: "in", label: "is one of" },
  { op: "not_in", label: "is none of" },
  { op: "semver", label: "app version in range" },
  { op: "gt", label: ">" },
  { op: "gte", label: "≥" },
  { op: "lt", label: "<" },
  { op: "lte", label: "≤" },
  { op: "contains", label: "contains" },
  { op: "exists", label: "is set" },
  { op: "not_exists", label: "is not set" },
] as const satisfies ReadonlyArray<{ op: FlagCondition["op"]; label: string }>;
export type ConditionOp = FlagCondition["op"];

/** What an operator tests: an attribute or a trait (`in`), the app version, or only a trait. */
export const opSubject = (op: ConditionOp): "either" | "app_version" | "trait" => (op === "in" || op === "not_in" ? "either" : op === "semver" ? "app_version" : "trait");

export interface DraftCondition {
  op: ConditionOp;
  /** `in` / `not_in` test an attribute or a trait. */
  on: "attribute" | "trait";
  attribute: FlagAttribute;
  trait: string;
  /** The values of `in`, comma-separated; the range of `semver`; the number or text of the others. */
  value: string;
}

export interface DraftServe {
  mode: "variant" | "split";
  variant: string;
  split: Array<{ variant: string; weight: string }>;
}

export interface DraftRule {
  description: string;
  conditions: DraftCondition[];
  rollout: string;
  serve: DraftServe;
}

export interface Draft {
  key: string;
  name: string;
  description: string;
  enabled: boolean;
  /** Each variant's value as JSON text. */
  variants: Array<{ key: string; value: string }>;
  rules: DraftRule[];
  fallthrough: DraftServe;
  offVariant: string;
}

export const isAttribute = (s: string): s is FlagAttribute => (FLAG_ATTRIBUTES as readonly string[]).includes(s);
export const isOp = (s: string): s is ConditionOp => CONDITION_OPS.some((o) => o.op === s);

function conditionDraft(c: FlagCondition): DraftCondition {
  const base = { op: c.op, on: "trait" as "attribute" | "trait", attribute: "platform" as FlagAttribute, trait: "", value: "" };
  switch (c.op) {
    case "in":
    case "not_in":
      return c.attribute ? { ...base, on: "attribute", attribute: c.attribute, value: c.values.join(", ") } : { ...base, trait: c.trait ?? "", value: c.values.join(", ") };
    case "semver":
      return { ...base, on: "attribute", attribute: "app_version", value: c.range };
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return { ...base, trait: c.trait, value: String(c.value) };
    case "contains":
      return { ...base, trait: c.trait, value: c.value };
    case "exists":
    case "not_exists":
      return { ...base, trait: c.trait };
  }
}

function serveDraft(s: FlagServe, first: string): DraftServe {
  return "variant" in s ? { mode: "variant", variant: s.variant, split: [] } : { mode: "split", variant: s.split[0]?.variant ?? first, split: s.split.map((x) => ({ variant: x.variant, weight: String(x.weight) })) };
}

export function toDraft(flag: Flag): Draft {
  const first = flag.variants[0]?.key ?? "";
  return {
    key: flag.key,
    name: flag.name,
    description: flag.description,
    enabled: flag.enabled,
    variants: flag.variants.map((v) => ({ key: v.key, value: JSON.stringify(v.value) })),
    rules: flag.rules.map((r) => ({ description: r.description ?? "", conditions: r.conditions.map(conditionDraft), rollout: String(r.rollout), serve: serveDraft(r.serve, first) })),
    fallthrough: serveDraft(flag.fallthrough, first),
    offVariant: flag.offVariant,
  };
}

/** A blank condition and rule, as "Add condition" and "Add rule" make them. */
export const newCondition = (): DraftCondition => ({ op: "in", on: "trait", attribute: "platform", trait: "", value: "" });
export const newRule = (variant: string): DraftRule => ({ description: "", conditions: [], rollout: "100", serve: { mode: "variant", variant, split: [] } });

// A number field left as typed when it is not one, so the schema names the field.
const num = (text: string): number | string => (text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text);

function condition(c: DraftCondition): Record<string, unknown> {
  const values = c.value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  switch (opSubject(c.op)) {
    case "either":
      return c.on === "attribute" ? { op: c.op, attribute: c.attribute, values } : { op: c.op, trait: c.trait.trim(), values };
    case "app_version":
      return { op: c.op, attribute: "app_version", range: c.value.trim() };
    case "trait":
      if (c.op === "exists" || c.op === "not_exists") return { op: c.op, trait: c.trait.trim() };
      return { op: c.op, trait: c.trait.trim(), value: c.op === "contains" ? c.value : num(c.value) };
  }
}

const serve = (s: DraftServe): Record<string, unknown> => (s.mode === "variant" ? { variant: s.variant } : { split: s.split.map((x) => ({ variant: x.variant, weight: num(x.weight) })) });

/** The definition to save, or the variant values that are not JSON (`variants.1.value: …`). */
export function fromDraft(d: Draft): { flag: Record<string, unknown> } | { errors: string[] } {
  const errors: string[] = [];
  const variants = d.variants.map((v, i) => {
    try {
      return { key: v.key.trim(), value: JSON.parse(v.value) as unknown };
    } catch {
      errors.push(`variants.${i}.value: not JSON; text goes in double quotes, e.g. "blue"`);
      return { key: v.key.trim(), value: null };
    }
  });
  if (errors.length > 0) return { errors };
  return {
    flag: {
      key: d.key,
      name: d.name,
      description: d.description,
      enabled: d.enabled,
      variants,
      rules: d.rules.map((r) => ({
        conditions: r.conditions.map(condition),
        rollout: num(r.rollout),
        serve: serve(r.serve),
        ...(r.description.trim() !== "" ? { description: r.description.trim() } : {}),
      })),
      fallthrough: serve(d.fallthrough),
      offVariant: d.offVariant,
    },
  };
}

/** A problem line of the Flag schema (`rules.0.serve: no variant "x"`) split into where and what. */
export function splitProblem(line: string): { path: string; message: string } {
  const m = /^([A-Za-z0-9_.]+): (.*)$/s.exec(line);
  return m?.[1] && m[2] !== undefined ? { path: m[1], message: m[2] } : { path: "", message: line };
}
