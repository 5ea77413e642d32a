// A funnel's definition as its URL writes it, and its result's shape, read by the page, the
// CSV, the users view's drop-off links, saved insights and the view alike: 2–10 ordered steps
// (`step=…`, repeated), a conversion window, loose or strict order, the shared filters and a
// breakdown. The whole definition lives in the URL, so a link shares it and a card re-runs it.
import { EVENT_TYPES } from "../../../schemas/events";
import { parseBreakdown, writeBreakdown, type Breakdown } from "./breakdown";
import { MAX_PROPS, parseFilters, parseInsightRange, parseTz, writeFilters, writeRange, type InsightFilters, type PropFilter, type TimeRange } from "./filters";

export const MIN_STEPS = 2;
export const MAX_STEPS = 10;

export interface FunnelStep {
  /** An event name (the `event` column: a track event's name, a page's or screen's name…), or a type. */
  match: "event" | "type";
  name: string;
  /** Every one must hold on the step's event. */
  props: PropFilter[];
}

export const WINDOW_UNITS = { m: 60, h: 3600, d: 86_400 } as const;
export type WindowUnit = keyof typeof WINDOW_UNITS;
/** A conversion window longer than the longest range would change nothing. */
const MAX_WINDOW_SECONDS = 90 * 86_400;

export interface FunnelsDef {
  range: TimeRange;
  steps: FunnelStep[];
  window: { n: number; unit: WindowUnit };
  /** Loose: other step events may come between two steps. Strict: a later step's event before its turn ends the attempt. */
  order: "loose" | "strict";
  filters: InsightFilters;
  /** Carried for links and dashboards; a funnel has no calendar buckets. */
  tz: string;
  breakdown: Breakdown;
  /** Breakdown values shown one by one (the most people entering); the rest are summed as "other". */
  top: number;
  problems: string[];
}

export interface StepFigures {
  /** People who reached this step (and every one before it, in order, within the window). */
  people: number;
  /** Share of the first step's people; 1 for the first step. */
  fromFirst: number;
  /** Share of the previous step's people; 1 for the first step. */
  fromPrevious: number;
  /** People who reached the previous step but not this one; 0 for the first step. */
  dropped: number;
  /** Median time from the previous step to this one of those who reached it, ms; null for the first step or nobody. */
  medianMs: number | null;
}

export interface FunnelSeries {
  /** The breakdown value ("" when none), or "" for "other". */
  label: string;
  other: boolean;
  steps: StepFigures[];
  /** Median time from the first step to the last of those who converted, ms. */
  medianTotalMs: number | null;
}

export interface FunnelsResult {
  total: FunnelSeries;
  /** Busiest breakdown values first (by people entering), then "other"; empty without a breakdown. */
  breakdown: FunnelSeries[];
}

const STEP_NAME_MAX = 200;
const TYPE_PREFIX = "type:";

/** `Product Viewed`, or `type:page` for any event of a type. */
export const stepRef = (s: FunnelStep): string => (s.match === "type" ? `${TYPE_PREFIX}${s.name}` : s.name);

/** `Added to Cart (plan = pro)`: a step in words. */
export function stepLabel(s: FunnelStep): string {
  const what = s.match === "type" ? `any ${s.name}` : s.name;
  return s.props.length === 0 ? what : `${what} (${s.props.map((p) => `${p.key} = ${p.value}`).join(", ")})`;
}

/**
 * A step's property filters: `step2_prop=plan:pro` (repeatable) belongs to the second `step`
 * parameter, counting blank ones, so a form's rows keep their filters when a row is left empty.
 */
const stepPropName = (position: number): string => `step${position}_prop`;

function parseSteps(url: URL, problems: string[]): FunnelStep[] {
  const steps: FunnelStep[] = [];
  url.searchParams.getAll("step").forEach((raw, i) => {
    const ref = raw.trim().slice(0, STEP_NAME_MAX + TYPE_PREFIX.length);
    if (!ref) return;
    const isType = ref.startsWith(TYPE_PREFIX) && ref.length > TYPE_PREFIX.length;
    const props: PropFilter[] = [];
    for (const p of url.searchParams.getAll(stepPropName(i + 1))) {
      if (p.trim() === "") continue;
      const at = p.indexOf(":");
      const key = at > 0 ? p.slice(0, at).trim() : "";
      if (!key) problems.push(`The step filter "${p.slice(0, 60)}" is not key:value; it was ignored.`);
      else if (props.length === MAX_PROPS) problems.push(`A step takes at most ${MAX_PROPS} property filters; "${p.slice(0, 60)}" was ignored.`);
      else props.push({ key: key.slice(0, STEP_NAME_MAX), value: p.slice(at + 1).trim().slice(0, STEP_NAME_MAX) });
    }
    const name = isType ? ref.slice(TYPE_PREFIX.length).trim() : ref;
    if (isType && !(EVENT_TYPES as readonly string[]).includes(name)) {
      problems.push(`"${name.slice(0, 40)}" is not an event type; that step was left out.`);
      return;
    }
    steps.push({ match: isType ? "type" : "event", name, props });
  });
  if (steps.length > MAX_STEPS) {
    problems.push(`A funnel has at most ${MAX_STEPS} steps; the steps after the ${MAX_STEPS}th were ignored.`);
    return steps.slice(0, MAX_STEPS);
  }
  return steps;
}

const DEFAULT_WINDOW = { n: 1, unit: "d" as WindowUnit };

function parseWindow(url: URL, problems: string[]): FunnelsDef["window"] {
  const raw = (url.searchParams.get("window") ?? "").trim();
  if (!raw) return DEFAULT_WINDOW;
  const m = /^(\d{1,5})([mhd])$/.exec(raw);
  const n = Number(m?.[1] ?? 0);
  const unit = m?.[2] as WindowUnit | undefined;
  if (!unit || n < 1 || n * WINDOW_UNITS[unit] > MAX_WINDOW_SECONDS) {
    problems.push(`"${raw.slice(0, 20)}" is not a conversion window from 1 minute to 90 days (e.g. 30m, 2h, 1d); 1 day was used.`);
    return DEFAULT_WINDOW;
  }
  return { n, unit };
}

/** The funnel a URL defines (`?step=…&step=…&window=1d&order=loose&range=7d`); never throws. */
export function parseFunnels(url: URL, now = Date.now()): FunnelsDef {
  const problems: string[] = [];
  const range = parseInsightRange(url, problems, now);
  const steps = parseSteps(url, problems);
  const window = parseWindow(url, problems);
  const rawOrder = url.searchParams.get("order");
  if (rawOrder !== null && rawOrder !== "strict" && rawOrder !== "loose") problems.push(`"${rawOrder.slice(0, 20)}" is not an order (loose or strict); loose was used.`);
  const filters = parseFilters(url, problems);
  const tz = parseTz(url, problems);
  const { breakdown, top } = parseBreakdown(url, problems);
  if (steps.length === 1) problems.push(`A funnel needs at least ${MIN_STEPS} steps: pick the events people go through, in order.`);
  return { range, steps, window, order: rawOrder === "strict" ? "strict" : "loose", filters, tz, breakdown, top, problems };
}

/** The query string that defines `def`, e.g. `range=7d&step=Signed+Up&step=Order+Completed&window=1d`. */
export function toFunnelsSearch(def: FunnelsDef): string {
  const q = new URLSearchParams();
  writeRange(q, def.range);
  def.steps.forEach((s, i) => {
    q.append("step", stepRef(s));
    for (const p of s.props) q.append(stepPropName(i + 1), `${p.key}:${p.value}`);
  });
  q.set("window", `${def.window.n}${def.window.unit}`);
  if (def.order === "strict") q.set("order", "strict");
  writeFilters(q, def.filters);
  if (def.tz !== "UTC") q.set("tz", def.tz);
  writeBreakdown(q, def.breakdown, def.top);
  return q.toString();
}

export const windowMs = (w: FunnelsDef["window"]): number => w.n * WINDOW_UNITS[w.unit] * 1000;

/** Whether the definition can run: at least two steps. */
export const isRunnable = (def: FunnelsDef): boolean => def.steps.length >= MIN_STEPS;

/** `1 day`, `30 minutes`: the window in words. */
export function windowLabel(w: FunnelsDef["window"]): string {
  const unit = { m: "minute", h: "hour", d: "day" }[w.unit];
  return `${w.n} ${unit}${w.n === 1 ? "" : "s"}`;
}

/**
 * `/apps/:app/users?range=7d&funnel=…&dropped=2`: the people who reached step 1 but not step 2;
 * with `value`, only those whose breakdown value (on their first step) was that.
 */
export function droppedPeopleLink(appId: string, def: FunnelsDef, step: number, value?: string): string {
  const q = writeRange(new URLSearchParams({ funnel: toFunnelsSearch(def), dropped: String(step) }), def.range);
  if (value !== undefined && def.breakdown.kind !== "none") q.set("value", value);
  return `/apps/${encodeURIComponent(appId)}/users?${q.toString()}`;
}
