import type { CrashRule, StackFrame } from "../../schemas";

// 53-bit string hash (cyrb53): synchronous and cheap, enough to group crashes, not a secret.
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/** A frame as grouping sees it: a source-mapped frame keeps its minified position in `minified`. */
export interface GroupedFrame extends StackFrame {
  minified?: { function?: string; file?: string; line?: number; column?: number };
}

// Hashed bundles and query strings change with every deploy; the crash does not.
function stableFile(file: string): string {
  return file
    .replace(/[?#].*$/, "")
    .replace(/^[a-z]+:\/\/[^/]+/i, "")
    .replace(/[.-][0-9a-f]{6,}(?=\.)/gi, "");
}

// Engines name one function differently: V8 adds the receiver and `async `/`new ` (`at
// HTMLButtonElement.onPay`, `at async load`), SpiderMonkey and JavaScriptCore give the bare
// name, and each writes an anonymous function its own way (`<anonymous>`, `anonymous`,
// `setup/<`, nothing). A mapped frame whose name the map could not give still carries the
// minifier's name, which differs from build to build. None of that may split an issue.
function stableFunction(f: GroupedFrame): string {
  if (f.minified && f.function === f.minified.function) return "?";
  const name = (f.function ?? "").replace(/^(?:async |new )/, "").replace(/ \[as [^\]]*\]$/, "");
  const bare = name.slice(name.lastIndexOf(".") + 1);
  return bare === "" || bare === "<anonymous>" || bare === "anonymous" || name.includes("<") ? "?" : bare;
}

function normalisedMessage(message: string): string {
  return message.replace(/0x[0-9a-f]+|[0-9a-f]{8}-[0-9a-f-]{27}|\d+/gi, "#").slice(0, 512);
}

const inAppFrames = (frames: readonly GroupedFrame[]): readonly GroupedFrame[] => frames.filter((f) => f.inApp !== false);

/**
 * Groups crashes that are the same bug: the error type plus the top in-app frames (function and
 * file, without line numbers, hosts or build hashes); without frames, the message with numbers
 * and ids blanked out. `fingerprint("TypeError", "x is undefined", frames) === "00a3…"`.
 */
export function crashFingerprint(type: string, message: string, frames: readonly GroupedFrame[]): string {
  const inApp = inAppFrames(frames);
  const top = (inApp.length > 0 ? inApp : frames).slice(0, 5);
  const basis = top.length > 0 ? top.map((f) => `${stableFunction(f)}@${stableFile(f.file ?? "")}`).join("|") : normalisedMessage(message);
  return hash53(`${type}\n${basis}`);
}

interface CompiledRule {
  rule: CrashRule;
  message: RegExp | null;
  module: RegExp | null;
}

const REGEXP_SPECIALS = /[.*+?^${}()|[\]\\/]/g;

/**
 * A grouping rule's glob as an anchored, case-insensitive pattern where `*` is any run of
 * characters and everything else is literal: `globPattern("*timeout*").test("Request Timeout")`.
 */
export function globPattern(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(REGEXP_SPECIALS, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${body}$`, "i");
}

// Rule sets come from the app's cached authentication, so each is compiled once per cache entry.
const compiled = new WeakMap<readonly CrashRule[], readonly CompiledRule[]>();

function compile(rules: readonly CrashRule[]): readonly CompiledRule[] {
  const hit = compiled.get(rules);
  if (hit) return hit;
  const out = rules.map((rule) => ({
    rule,
    message: rule.message === undefined ? null : globPattern(rule.message),
    module: rule.module === undefined ? null : globPattern(rule.module),
  }));
  compiled.set(rules, out);
  return out;
}

function matches(r: CompiledRule, type: string, message: string, frames: readonly GroupedFrame[]): boolean {
  if (r.rule.type !== undefined && r.rule.type !== type) return false;
  if (r.message && !r.message.test(message)) return false;
  if (r.module) {
    const pattern = r.module;
    if (!inAppFrames(frames).some((f) => pattern.test(f.module ?? f.file ?? ""))) return false;
  }
  return true;
}

/** How a crash was grouped: its fingerprint, and the id of the app's rule that decided it, if any. */
export interface CrashGrouping {
  fingerprint: string;
  rule?: string;
}

/**
 * Groups a new crash by the app's rules, in order: the first rule whose matchers all match
 * decides (`merge`: the rule's own fingerprint; `split`: the default one refined by the
 * normalised message); with no matching rule, the default `crashFingerprint`.
 * `groupCrash("ChunkLoadError", "chunk 7 failed", [], [{id: "r1", action: "merge", type: "ChunkLoadError"}]).rule === "r1"`
 */
export function groupCrash(type: string, message: string, frames: readonly GroupedFrame[], rules: readonly CrashRule[] = []): CrashGrouping {
  const fingerprint = crashFingerprint(type, message, frames);
  if (rules.length === 0) return { fingerprint };
  const decided = compile(rules).find((r) => matches(r, type, message, frames));
  if (!decided) return { fingerprint };
  const { id, action } = decided.rule;
  if (action === "merge") return { fingerprint: hash53(`rule\n${id}`), rule: id };
  return { fingerprint: hash53(`${fingerprint}\n${normalisedMessage(message)}`), rule: id };
}
