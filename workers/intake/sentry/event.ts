import type { z } from "zod";
import type { CrashEvent, StackFrame } from "../../../schemas";
import { mergeDefined } from "../../lib/json";
import { basisOf } from "./context";
import { arr, compact, count, epochMs, obj, str, type Json } from "./values";

/** A `crash` event in our wire shape, before validation. */
export type CrashInput = z.input<typeof CrashEvent>;

const MAX_FRAMES = 128;
// Budgets that keep a crash within the 32 KB event limit however much a client attached.
const FRAMES_BUDGET = 12_000;
const BREADCRUMBS_BUDGET = 8_000;
const MAX_BREADCRUMBS = 100;

// Sentry lists frames oldest first; our crashes hold them innermost first.
function framesOf(stacktrace: unknown): StackFrame[] {
  const raw = arr(obj(stacktrace).frames);
  const out: StackFrame[] = [];
  let size = 0;
  for (let i = raw.length - 1; i >= 0 && out.length < MAX_FRAMES; i--) {
    const f = obj(raw[i]);
    const frame = compact({
      function: str(f.function, 512),
      file: str(f.filename, 2048) ?? str(f.abs_path, 2048) ?? str(f.module, 2048),
      module: str(f.module, 512),
      line: count(f.lineno),
      column: count(f.colno),
      inApp: typeof f.in_app === "boolean" ? f.in_app : undefined,
    });
    size += (frame.function?.length ?? 0) + (frame.file?.length ?? 0) + 60;
    if (size > FRAMES_BUDGET) break;
    out.push(frame);
  }
  return out;
}

// The most recent breadcrumbs that fit the budget, oldest first as Sentry sends them.
function breadcrumbsOf(v: unknown): Json[] | undefined {
  const list = Array.isArray(v) ? v : arr(obj(v).values);
  const kept: Json[] = [];
  let size = 0;
  for (let i = list.length - 1; i >= 0 && kept.length < MAX_BREADCRUMBS; i--) {
    const b = obj(list[i]);
    const crumb = compact({
      timestamp: epochMs(b.timestamp),
      type: str(b.type, 64),
      category: str(b.category, 128),
      level: str(b.level, 32),
      message: str(b.message, 1024),
      data: Object.keys(obj(b.data)).length > 0 ? obj(b.data) : undefined,
    });
    size += JSON.stringify(crumb).length;
    if (size > BREADCRUMBS_BUDGET) break;
    kept.push(crumb);
  }
  return kept.length > 0 ? kept.reverse() : undefined;
}

function messageOf(event: Json): string | undefined {
  if (typeof event.message === "string") return event.message;
  const m = obj(event.message);
  const logentry = obj(event.logentry);
  return str(m.formatted, 8192) ?? str(m.message, 8192) ?? str(logentry.formatted, 8192) ?? str(logentry.message, 8192);
}

/**
 * Translates a Sentry error or message event into our `crash` event: the last exception of
 * `exception.values` (the one that was thrown; earlier ones are its causes) gives the type,
 * message and frames; `mechanism.handled === false` or level `fatal` makes it fatal.
 * @example crashFromEvent({event_id: "e1", exception: {values: [{type: "TypeError", value: "x"}]}}, {}).error.type === "TypeError"
 */
export function crashFromEvent(event: Json, envelopeSdk: Json): CrashInput {
  const basis = basisOf(event, envelopeSdk);
  const values = arr(obj(event.exception).values).map(obj);
  if (values.length === 0 && Array.isArray(event.exception)) values.push(...event.exception.map(obj));
  const main = values[values.length - 1];
  const mechanism = obj(main?.mechanism);
  const message = messageOf(event);
  const level = str(event.level, 32);
  const handled = typeof mechanism.handled === "boolean" ? mechanism.handled : undefined;
  const frames = framesOf(main?.stacktrace ?? event.stacktrace ?? obj(arr(obj(event.threads).values)[0]).stacktrace);
  const type = main && !mechanism.synthetic ? (str(main.type, 256) ?? "Error") : "Message";
  const causes = values.slice(0, -1).reverse().map((v) => compact({ type: str(v.type, 256), value: str(v.value, 1024) }));
  return compact({
    type: "crash" as const,
    messageId: str(event.event_id, 256),
    userId: basis.userId,
    anonymousId: basis.anonymousId,
    timestamp: epochMs(event.timestamp),
    context: basis.context,
    traits: basis.traits,
    properties: mergeDefined(basis.properties, {
      mechanism: str(mechanism.type, 128),
      causes: causes.length > 0 ? causes : undefined,
      breadcrumbs: breadcrumbsOf(event.breadcrumbs),
    }),
    error: compact({
      type,
      message: (main ? (str(main.value, 8192) ?? message) : message) ?? "",
      fatal: handled === false || level === "fatal",
      handled,
      frames,
    }),
  });
}
