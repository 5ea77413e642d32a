// Feature flags at the edge: the CPU cost of evaluating a realistic set of 50 flags (booleans
// rolled out to a share of users, multivariate splits, targeting rules of one to three
// conditions on platform, country, app version ranges and traits, a kill-switched flag) for one
// caller, as µs per caller over many callers, and beside it in the same run the baseline
// JSON.parse + JSON.stringify of the 50 flags' definitions. Two figures: flags held by the isolate
// (the evaluator's per-flag caches warm), and flags read fresh for each caller, whose evaluation
// builds those caches again (the time of JSON.parse of the definitions taken out, as it is the
// cost of reading them, not of evaluating). `npm run bench:flags`
import { Flag, type FlagCondition, type FlagRule, type FlagServe, type FlagSubject } from "../schemas/flags";
import { evaluateFlags } from "../workers/flags/evaluate";
import { serve, type AppFlags } from "../workers/flags/serve";
import { rng } from "./fixtures";
import { report } from "./report";

const FLAGS = 50;
// Enough callers for a stable median; the fresh path re-reads 75 KB of definitions per caller.
const USERS = 4000;
const ROUNDS = 7;
const TARGET_US = 500;

const r = rng(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] ?? (xs[0] as T);
const PLATFORMS = ["ios", "android", "web", "node"];
const COUNTRIES = ["US", "FR", "DE", "GB", "BR", "IN", "JP", "CA"];
const LOCALES = ["en-US", "fr-FR", "de-DE", "en-GB", "pt-BR", "ja-JP"];
const PLANS = ["free", "pro", "team", "enterprise"];
const RANGES = [">=2.1.0 <3", "^2.4", "~1.2.3", "2.x", "1.2.3 - 2.0.0", "^1.8 || ^2.2", ">=3.0.0-beta.1"];

function condition(): FlagCondition {
  switch (Math.floor(r() * 7)) {
    case 0:
      return { op: "in", attribute: "platform", values: [pick(PLATFORMS), pick(PLATFORMS)] };
    case 1:
      return { op: r() < 0.5 ? "in" : "not_in", attribute: "country", values: COUNTRIES.filter(() => r() < 0.4).concat("US") };
    case 2:
      return { op: "semver", attribute: "app_version", range: pick(RANGES) };
    case 3:
      return { op: "in", trait: "plan", values: [pick(PLANS), pick(PLANS)] };
    case 4:
      return { op: pick(["gt", "gte", "lt", "lte"] as const), trait: "sessions", value: Math.floor(r() * 50) };
    case 5:
      return { op: "contains", trait: "email", value: pick(["@acme.com", "@example.com", "+test"]) };
    default:
      return { op: pick(["exists", "not_exists"] as const), trait: pick(["company", "beta_opt_in"]) };
  }
}

const weights = (n: number): number[] => (n === 2 ? [50, 50] : n === 3 ? [50, 30, 20] : [40, 30, 20, 10]);

function makeFlag(i: number): Flag {
  const kind = i % 5;
  const multivariate = kind === 1 || kind === 3;
  const n = multivariate ? 2 + (i % 3) : 2;
  const variants = Array.from({ length: n }, (_, v) => ({ key: `v${v}`, value: multivariate ? { layout: `layout-${v}`, limit: v * 10, copy: `Try variant ${v} today` } : v === 1 }));
  const split: FlagServe = { split: weights(n).map((weight, v) => ({ variant: `v${v}`, weight })) };
  const rules: FlagRule[] = [];
  if (kind === 0 || kind === 4) rules.push({ conditions: kind === 4 ? [condition()] : [], rollout: Math.round(5 + r() * 45), serve: { variant: "v1" } });
  if (kind === 1) rules.push({ conditions: [], rollout: 100, serve: split });
  if (kind === 2 || kind === 3) {
    // A list of named testers first, as teams do, then targeting by attributes and traits.
    rules.push({ conditions: [{ op: "in", attribute: "user_id", values: Array.from({ length: 200 }, (_, u) => `user-${u * 97}`) }], rollout: 100, serve: { variant: "v1" } });
    for (let k = 0; k < 1 + (i % 3); k++) rules.push({ conditions: Array.from({ length: 1 + ((i + k) % 3) }, condition), rollout: pick([10, 25, 50, 100]), serve: multivariate ? split : { variant: "v1" } });
  }
  return Flag.parse({ key: `flag-${i}`, name: `Flag ${i}`, enabled: i % 17 !== 16, variants, rules, fallthrough: { variant: "v0" }, offVariant: "v0" });
}

function makeUser(i: number): FlagSubject {
  const known = r() < 0.6;
  return {
    userId: known ? `user-${i}` : undefined,
    anonymousId: `anon-${i}-${Math.floor(r() * 1e9).toString(36)}`,
    platform: pick(PLATFORMS),
    os: pick(["iOS", "Android", "macOS", "Windows", "Linux"]),
    appVersion: pick(["1.2.3", "1.2.9", "1.9.0", "2.0.0", "2.1.4", "2.4.0", "2.5.1", "3.0.0-beta.2", "3.1.0"]),
    country: pick(COUNTRIES),
    locale: pick(LOCALES),
    traits: known ? { plan: pick(PLANS), sessions: Math.floor(r() * 100), email: `u${i}${pick(["@acme.com", "@example.com", "@mail.test"])}`, ...(r() < 0.3 ? { company: "Acme" } : {}) } : {},
  };
}

const flags = Array.from({ length: FLAGS }, (_, i) => makeFlag(i));
const definitions = JSON.stringify(flags);
const users = Array.from({ length: USERS }, (_, i) => makeUser(i));

/** Nanoseconds for one pass over every user; the returned count keeps the work from being optimised away. */
function pass(perUser: (u: FlagSubject) => number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (const u of users) sink += perUser(u);
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === -1) console.log(sink);
  return ns;
}

// The whole answer /v1/config gives: the evaluation, the body with a configuration of a few
// dozen keys, and its ETag.
const app: AppFlags = { version: 42, flags, config: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`setting_${i}`, i % 3 === 0 ? { limit: i, label: `Setting ${i}` } : i])) };
const SDK = { sampling: { network: 1, perf: 1 }, capture: { pageviews: true, errors: true } };

const paths = {
  answer: ({ country, ...who }: FlagSubject) => serve(app, SDK, who, country).body.length,
  warm: (u: FlagSubject) => Object.keys(evaluateFlags(flags, u)).length,
  fresh: (u: FlagSubject) => Object.keys(evaluateFlags(JSON.parse(definitions) as Flag[], u)).length,
  parse: () => (JSON.parse(definitions) as Flag[]).length,
  baseline: () => JSON.stringify(JSON.parse(definitions)).length,
};
type Path = keyof typeof paths;
const samples: Record<Path, number[]> = { answer: [], warm: [], fresh: [], parse: [], baseline: [] };
for (const p of Object.keys(paths) as Path[]) pass(paths[p]);
for (let round = 0; round < ROUNDS; round++) for (const p of Object.keys(paths) as Path[]) samples[p].push(pass(paths[p]));
const usPerUser = (p: Path): number => {
  const sorted = [...samples[p]].sort((a, b) => a - b);
  return (sorted[Math.floor(sorted.length / 2)] ?? 0) / USERS / 1000;
};

const warm = usPerUser("warm");
const answer = usPerUser("answer");
const parse = usPerUser("parse");
const fresh = Math.max(0, usPerUser("fresh") - parse);
const base = usPerUser("baseline");
const served = new Map<string, number>();
for (const u of users.slice(0, 2000)) for (const a of Object.values(evaluateFlags(flags, u))) served.set(String(a.reason), (served.get(String(a.reason)) ?? 0) + 1);

report("flags", {
  figures: {
    flags: FLAGS,
    users: USERS,
    rules: flags.reduce((n, f) => n + f.rules.length, 0),
    conditions: flags.reduce((n, f) => n + f.rules.reduce((m, rule) => m + rule.conditions.length, 0), 0),
    definitionBytes: definitions.length,
    usPerUser: Number(warm.toFixed(2)),
    usPerFlag: Number((warm / FLAGS).toFixed(3)),
    answerUsPerUser: Number(answer.toFixed(2)),
    freshDefinitionsUsPerUser: Number(fresh.toFixed(2)),
    definitionsJsonParseUsPerUser: Number(parse.toFixed(2)),
    baselineUsPerUser: Number(base.toFixed(2)),
    ratioToBaseline: Number((warm / base).toFixed(3)),
    freshRatioToBaseline: Number((fresh / base).toFixed(2)),
    answersByReason: Object.fromEntries([...served].sort()),
  },
  targets: [
    { name: "CPU per user for 50 flags (isolate's flags)", target: `< ${TARGET_US} µs`, met: warm < TARGET_US },
    { name: "CPU per user for 50 flags (definitions read per request, their JSON.parse aside)", target: `< ${TARGET_US} µs`, met: fresh < TARGET_US },
    { name: "CPU per /v1/config answer with 50 flags (evaluation, body and ETag)", target: `< ${TARGET_US} µs`, met: answer < TARGET_US },
  ],
});
