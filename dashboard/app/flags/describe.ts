// Flags in words, for the list's one-line summary, the history and the "Test a user" answer:
// `20 % of users with plan in pro → on; else off`.
import type { Flag, FlagAnswer, FlagCondition, FlagRule, FlagServe } from "../../../schemas/flags";

const pct = (n: number): string => `${Number(n.toFixed(2))} %`;

const list = (values: readonly string[]): string => (values.length > 3 ? `${values.slice(0, 3).join(", ")} and ${values.length - 3} more` : values.join(", "));

const OP_WORDS = { gt: ">", gte: "≥", lt: "<", lte: "≤" } as const;

/** `plan in pro, max`, `app_version in range >=2.1 <3`, `age ≥ 18`, `beta exists`. */
export function conditionInWords(c: FlagCondition): string {
  switch (c.op) {
    case "in":
    case "not_in":
      return `${c.attribute ?? c.trait ?? "?"} ${c.op === "in" ? "in" : "not in"} ${list(c.values)}`;
    case "semver":
      return `app_version in range ${c.range}`;
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return `${c.trait} ${OP_WORDS[c.op]} ${c.value}`;
    case "contains":
      return `${c.trait} contains “${c.value}”`;
    case "exists":
      return `${c.trait} is set`;
    case "not_exists":
      return `${c.trait} is not set`;
  }
}

/** `on`, or `a 50 % / b 50 %` for a split. */
export function serveInWords(serve: FlagServe): string {
  if ("variant" in serve) return serve.variant;
  return serve.split.map((s) => `${s.variant} ${pct(s.weight)}`).join(" / ");
}

/** `20 % of users with plan in pro → on`, `everyone → on`. */
export function ruleInWords(rule: FlagRule): string {
  const who = rule.conditions.length > 0 ? `users with ${rule.conditions.map(conditionInWords).join(" and ")}` : rule.rollout < 100 ? "users" : "everyone";
  return `${rule.rollout < 100 ? `${pct(rule.rollout)} of ` : ""}${who} → ${serveInWords(rule.serve)}`;
}

/** The flag's behaviour on one line: each rule in order, then what everyone else gets. */
export function flagInWords(flag: Flag): string {
  if (!flag.enabled) return `switched off: everyone → ${flag.offVariant}`;
  if (flag.rules.length === 0) return `everyone → ${serveInWords(flag.fallthrough)}`;
  return `${flag.rules.map(ruleInWords).join("; ")}; else ${serveInWords(flag.fallthrough)}`;
}

/** Why a caller got its variant: `rule 1: 20 % of users with … → on`, `no rule matched: the fallthrough`, `the flag is switched off`. */
export function reasonInWords(flag: Flag, reason: FlagAnswer["reason"]): string {
  if (reason === "off") return "the flag is switched off, so everyone gets its off variant";
  if (reason === "fallthrough") return "no rule served this user, so it got the fallthrough";
  const rule = flag.rules[reason];
  return `rule ${reason + 1}${rule ? `: ${ruleInWords(rule)}` : ""}`;
}
