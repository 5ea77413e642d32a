// What an issue page shows of one stored crash, read from its `properties` JSON: the stack as
// the edge kept it (innermost frame first; a source-mapped frame keeps its minified original),
// the grouping rule that decided its issue, and the breadcrumbs a Sentry SDK sent with it.
// Stored JSON is trusted for shape only as far as it is checked here: anything else is left out.

export interface MinifiedFrame {
  function: string;
  file: string;
  line: number | null;
  column: number | null;
}

export interface Frame extends MinifiedFrame {
  /** A frame without the flag counts as the app's own, as grouping has it. */
  inApp: boolean;
  /** The frame before its source map was applied, when one was. */
  minified: MinifiedFrame | null;
}

export interface SentryBreadcrumb {
  /** Epoch ms, when sent. */
  ts: number | null;
  category: string;
  level: string;
  message: string;
  data: string;
}

export interface CrashDetail {
  frames: Frame[];
  /** Id of the grouping rule that chose the issue, "" when the default grouping did. */
  rule: string;
  environment: string;
  handled: boolean | null;
  breadcrumbs: SentryBreadcrumb[];
  /** The remaining properties (tags, contexts, extra…) as sent, for the raw view. */
  extra: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === "string" ? v : "");
const whole = (v: unknown): number | null => (typeof v === "number" && Number.isSafeInteger(v) ? v : null);

function minifiedOf(v: unknown): MinifiedFrame | null {
  if (!isObject(v)) return null;
  return { function: text(v.function), file: text(v.file), line: whole(v.line), column: whole(v.column) };
}

function frameOf(v: unknown): Frame | null {
  if (!isObject(v)) return null;
  return { function: text(v.function), file: text(v.file), line: whole(v.line), column: whole(v.column), inApp: v.inApp !== false, minified: minifiedOf(v.minified) };
}

function breadcrumbOf(v: unknown): SentryBreadcrumb | null {
  if (!isObject(v)) return null;
  return {
    ts: whole(v.timestamp),
    category: text(v.category) || text(v.type),
    level: text(v.level),
    message: text(v.message),
    data: isObject(v.data) ? JSON.stringify(v.data) : "",
  };
}

function parse(properties: string): Json {
  try {
    const v: unknown = JSON.parse(properties);
    return isObject(v) ? v : {};
  } catch {
    return {};
  }
}

/** The crash's stack, rule and breadcrumbs from its stored properties. */
export function crashDetailOf(properties: string): CrashDetail {
  const { error, breadcrumbs, environment, ...extra } = parse(properties);
  const err = isObject(error) ? error : {};
  const frames = Array.isArray(err.frames) ? err.frames.map(frameOf).filter((f): f is Frame => f !== null) : [];
  return {
    frames,
    rule: text(err.rule),
    environment: text(environment),
    handled: typeof err.handled === "boolean" ? err.handled : null,
    breadcrumbs: Array.isArray(breadcrumbs) ? breadcrumbs.map(breadcrumbOf).filter((b): b is SentryBreadcrumb => b !== null) : [],
    extra,
  };
}

/**
 * The stack as a reader wants it: the app's own frames first, innermost first, and the others
 * (libraries, the runtime) apart, in their order, to fold away. With no in-app frame at all,
 * every frame is shown, since hiding the whole stack would hide the crash.
 */
export function splitStack(frames: readonly Frame[]): { shown: Frame[]; folded: Frame[] } {
  const own = frames.filter((f) => f.inApp);
  if (own.length === 0) return { shown: [...frames], folded: [] };
  return { shown: own, folded: frames.filter((f) => !f.inApp) };
}

/** `render (src/app.tsx:10:5)`: a frame on one line. */
export function frameLabel(f: MinifiedFrame): string {
  const where = [f.file || "?", f.line, f.column].filter((p) => p !== null).join(":");
  return `${f.function || "(anonymous)"} (${where})`;
}

/** The tags an issue page breaks its crashes down by. */
export const TAGS = { release: "Release", os: "OS", device: "Device", browser: "Browser", country: "Country" } as const;
export type TagName = keyof typeof TAGS;
