import { z } from "zod";

// Feature flags and remote configuration, as a team defines them and the edge evaluates them.
// A flag serves one of its variants to each caller: the first rule whose conditions all hold
// serves its variant (or a weighted split of variants) to the share of callers its rollout lets
// in, by a stable bucket of the flag's key and the caller's id; a caller no rule serves gets the
// fallthrough; a flag switched off (the kill switch) serves its off variant to everyone.

const Key = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "a key is 1 to 64 lowercase letters, digits, ., - or _, starting with a letter or digit");

/** A JSON value a variant serves (a boolean, a number, a string, or an object or array). */
export type FlagValue = boolean | number | string | null | FlagValue[] | { [key: string]: FlagValue };
export const FlagValue: z.ZodType<FlagValue> = z.lazy(() => z.union([z.boolean(), z.number(), z.string().max(10_000), z.null(), z.array(FlagValue).max(1000), z.record(z.string().max(200), FlagValue)]));

export const FlagVariant = z.object({ key: Key, value: FlagValue, description: z.string().max(200).optional() });
export type FlagVariant = z.infer<typeof FlagVariant>;

/** What the edge knows of a caller, which conditions test. */
export const FLAG_ATTRIBUTES = ["platform", "os", "app_version", "country", "locale", "user_id", "anonymous"] as const;
export type FlagAttribute = (typeof FLAG_ATTRIBUTES)[number];

const Values = z.array(z.string().max(200)).min(1).max(1000);

export const FlagCondition = z.discriminatedUnion("op", [
  /** The attribute (or the trait `trait`) is one of the values, or (`not_in`) none of them. */
  z.object({ op: z.enum(["in", "not_in"]), attribute: z.enum(FLAG_ATTRIBUTES).optional(), trait: z.string().max(100).optional(), values: Values }),
  /** The app version satisfies a semver range (`>=2.1.0 <3`, `^2.4`, `~1.2.3`, `2.x`). */
  z.object({ op: z.literal("semver"), attribute: z.literal("app_version"), range: z.string().trim().min(1).max(200) }),
  /** A trait compares with a number. */
  z.object({ op: z.enum(["gt", "gte", "lt", "lte"]), trait: z.string().max(100), value: z.number() }),
  /** A trait's text contains the value. */
  z.object({ op: z.literal("contains"), trait: z.string().max(100), value: z.string().max(200) }),
  /** The trait is present (or, `not_exists`, absent). */
  z.object({ op: z.enum(["exists", "not_exists"]), trait: z.string().max(100) }),
]);
export type FlagCondition = z.infer<typeof FlagCondition>;

/** What a rule (or the fallthrough) serves: one variant, or a weighted split (weights add up to 100). */
export const FlagServe = z.union([
  z.object({ variant: Key }),
  z.object({ split: z.array(z.object({ variant: Key, weight: z.number().min(0).max(100) })).min(1).max(20) }),
]);
export type FlagServe = z.infer<typeof FlagServe>;

export const FlagRule = z.object({
  /** Every condition must hold; none means everyone. */
  conditions: z.array(FlagCondition).max(20),
  /** The share of matching callers served, 0 to 100; the others go on to the next rule. */
  rollout: z.number().min(0).max(100),
  serve: FlagServe,
  description: z.string().max(200).optional(),
});
export type FlagRule = z.infer<typeof FlagRule>;

export const Flag = z
  .object({
    key: Key,
    name: z.string().trim().min(1).max(100),
    description: z.string().max(1000).default(""),
    /** The kill switch: off serves `offVariant` to everyone. */
    enabled: z.boolean(),
    variants: z.array(FlagVariant).min(1).max(20),
    rules: z.array(FlagRule).max(50),
    /** What a caller no rule serves gets. */
    fallthrough: FlagServe,
    offVariant: Key,
  })
  .superRefine((f, ctx) => {
    const keys = new Set(f.variants.map((v) => v.key));
    if (keys.size !== f.variants.length) ctx.addIssue({ code: "custom", message: "two variants share a key", path: ["variants"] });
    const check = (variant: string, path: Array<string | number>) => {
      if (!keys.has(variant)) ctx.addIssue({ code: "custom", message: `no variant "${variant}"`, path });
    };
    check(f.offVariant, ["offVariant"]);
    const serves: Array<[FlagServe, Array<string | number>]> = [[f.fallthrough, ["fallthrough"]], ...f.rules.map((r, i): [FlagServe, Array<string | number>] => [r.serve, ["rules", i, "serve"]])];
    for (const [serve, path] of serves) {
      if ("variant" in serve) check(serve.variant, path);
      else {
        serve.split.forEach((s, i) => check(s.variant, [...path, "split", i]));
        const total = serve.split.reduce((n, s) => n + s.weight, 0);
        if (Math.abs(total - 100) > 1e-9) ctx.addIssue({ code: "custom", message: `a split's weights add up to ${total}, not 100`, path });
      }
    }
  });
export type Flag = z.infer<typeof Flag>;

/** A caller as the edge sees it: ids, what its request and SDK say, and the traits it sent. */
export interface FlagSubject {
  userId?: string;
  anonymousId?: string;
  platform?: string;
  os?: string;
  appVersion?: string;
  country?: string;
  locale?: string;
  traits?: Record<string, unknown>;
}

/** One flag's answer for a caller: the variant served and its value, and why (the rule's index, "fallthrough" or "off"). */
export interface FlagAnswer {
  variant: string;
  value: FlagValue;
  reason: number | "fallthrough" | "off";
}

/**
 * A new on/off flag, off for everyone until a rule or the fallthrough says otherwise:
 * `booleanFlag("new-checkout", "New checkout")`, with `over` replacing any field.
 */
export function booleanFlag(key: string, name: string, over: Partial<Flag> = {}): Flag {
  return {
    key,
    name,
    description: "",
    enabled: true,
    variants: [
      { key: "on", value: true },
      { key: "off", value: false },
    ],
    rules: [],
    fallthrough: { variant: "off" },
    offVariant: "off",
    ...over,
  };
}
