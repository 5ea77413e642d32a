// A trend's definition as its URL writes it, read by the page, the CSV, saved insights and the
// view alike. Series are numbered fields (`type0`, `event0`, `measure0`, `prop0`, … up to
// `…4`) so a plain GET form edits them without scripts; a row whose measure is `none` is the
// form's spare row, not a series.
import { EVENT_TYPES } from "../../../schemas/events";
import { parseBreakdown, writeBreakdown, type Breakdown } from "./breakdown";
import { parseFilters, parseInsightRange, parseTz, writeFilters, writeRange, DEFAULT_TZ, type InsightFilters, type TimeRange } from "./filters";

export const MEASURES = {
  total: "total count",
  users: "unique users",
  sessions: "unique sessions",
  sum: "sum of",
  avg: "average of",
  p50: "median (p50) of",
  p90: "p90 of",
  p95: "p95 of",
  p99: "p99 of",
} as const;
export type Measure = keyof typeof MEASURES;

/** Measures of a numeric property (`properties.<prop>`), which need `prop`. */
export const PROPERTY_MEASURES: readonly Measure[] = ["sum", "avg", "p50", "p90", "p95", "p99"];
export const isPropertyMeasure = (m: Measure): boolean => PROPERTY_MEASURES.includes(m);

export const INTERVALS = { hour: 3600, day: 86_400, week: 7 * 86_400, month: 31 * 86_400 } as const;
export type Interval = keyof typeof INTERVALS;

// "bar" draws each line's total over the range, not bars over time: its label says so.
export const DISPLAYS = { line: "Lines", bar: "Range totals as bars", table: "Table" } as const;
export type Display = keyof typeof DISPLAYS;

export const MAX_SERIES = 5;
/** Buckets a chart may have: an interval that would give more is made coarser. */
export const MAX_BUCKETS = 1000;
const MAX_NAME = 200;

export interface TrendSeries {
  /** An event type (`page`, `track`…), "" for any. */
  type: string;
  /** An event name, "" for any. */
  event: string;
  measure: Measure;
  /** The numeric property a property measure reads, else "". */
  prop: string;
}

export interface TrendsDef {
  series: TrendSeries[];
  range: TimeRange;
  filters: InsightFilters;
  tz: string;
  interval: Interval;
  breakdown: Breakdown;
  top: number;
  compare: boolean;
  display: Display;
  /** What the URL asked for that could not be done, in words; the page shows them. */
  problems: string[];
}

const isKey = <T extends object>(o: T, v: string | null): v is Extract<keyof T, string> => v !== null && Object.hasOwn(o, v);

/** The interval a range reads best in: hours up to a day, days up to a month, else weeks. */
export function defaultInterval(range: TimeRange): Interval {
  const span = range.to - range.from;
  return span <= 86_400 ? "hour" : span <= 31 * 86_400 ? "day" : "week";
}

/** How many buckets of `interval` the range spans, at most (months counted as 28 days). */
export const bucketCount = (range: TimeRange, interval: Interval): number =>
  Math.ceil((range.to - range.from) / (interval === "month" ? 28 * 86_400 : INTERVALS[interval])) + 1;

function parseSeries(url: URL, problems: string[]): TrendSeries[] {
  const out: TrendSeries[] = [];
  const q = url.searchParams;
  const indices = new Set<number>();
  for (const k of q.keys()) {
    const m = /^(?:type|event|measure|prop)(\d{1,2})$/.exec(k);
    if (m?.[1] !== undefined) indices.add(Number(m[1]));
  }
  for (const i of [...indices].sort((a, b) => a - b)) {
    const get = (name: string): string => (q.get(`${name}${i}`) ?? "").trim().slice(0, MAX_NAME);
    const rawMeasure = get("measure");
    if (rawMeasure === "none") continue;
    let measure: Measure = "total";
    if (isKey(MEASURES, rawMeasure)) measure = rawMeasure;
    else if (rawMeasure !== "") problems.push(`"${rawMeasure.slice(0, 40)}" is not a measure; series ${out.length + 1} counts events.`);
    let type = get("type");
    if (type !== "" && !(EVENT_TYPES as readonly string[]).includes(type)) {
      problems.push(`"${type.slice(0, 40)}" is not an event type; series ${out.length + 1} reads every type.`);
      type = "";
    }
    const prop = get("prop");
    if (isPropertyMeasure(measure) && prop === "") {
      problems.push(`Series ${out.length + 1} needs a numeric property for its ${MEASURES[measure].replace(/ of$/, "")}; it counts events.`);
      measure = "total";
    }
    if (out.length === MAX_SERIES) {
      problems.push(`At most ${MAX_SERIES} series fit one trend; the rest were left out.`);
      break;
    }
    out.push({ type, event: get("event"), measure, prop: isPropertyMeasure(measure) ? prop : "" });
  }
  return out.length > 0 ? out : [{ type: "", event: "", measure: "total", prop: "" }];
}

/** The trend the URL defines; what it cannot do falls back to defaults, named in `problems`. */
export function parseTrends(url: URL, now = Date.now()): TrendsDef {
  const problems: string[] = [];
  const range = parseInsightRange(url, problems, now);
  const q = url.searchParams;
  let interval = defaultInterval(range);
  const rawInterval = q.get("interval");
  if (isKey(INTERVALS, rawInterval)) interval = rawInterval;
  else if (rawInterval !== null && rawInterval !== "") problems.push(`"${rawInterval.slice(0, 20)}" is not an interval; ${interval}s were used.`);
  if (bucketCount(range, interval) > MAX_BUCKETS) {
    const coarser = (["day", "week", "month"] as const).find((i) => bucketCount(range, i) <= MAX_BUCKETS) ?? "month";
    problems.push(`A ${range.key} range has too many ${interval}s to draw; ${coarser}s were used.`);
    interval = coarser;
  }
  const { breakdown, top } = parseBreakdown(url, problems);
  const rawDisplay = q.get("display");
  const display: Display = isKey(DISPLAYS, rawDisplay) ? rawDisplay : "line";
  return {
    series: parseSeries(url, problems),
    range,
    filters: parseFilters(url, problems),
    tz: parseTz(url, problems),
    interval,
    breakdown,
    top,
    compare: q.get("compare") === "1",
    display,
    problems,
  };
}

/** The definition's query string (without `?`), canonical: parsing it gives the same definition. */
export function toTrendsSearch(def: TrendsDef): string {
  const q = new URLSearchParams();
  writeRange(q, def.range);
  def.series.forEach((s, i) => {
    if (s.type) q.set(`type${i}`, s.type);
    if (s.event) q.set(`event${i}`, s.event);
    q.set(`measure${i}`, s.measure);
    if (s.prop) q.set(`prop${i}`, s.prop);
  });
  q.set("interval", def.interval);
  writeBreakdown(q, def.breakdown, def.top);
  if (def.compare) q.set("compare", "1");
  if (def.display !== "line") q.set("display", def.display);
  if (def.tz !== DEFAULT_TZ) q.set("tz", def.tz);
  writeFilters(q, def.filters);
  return q.toString();
}

/** `Signed up · unique users`, `p95 of amount · Purchase`, `page views · total count`. */
export function seriesLabel(s: TrendSeries): string {
  const what = s.event || (s.type ? `${s.type} events` : "all events");
  const measure = isPropertyMeasure(s.measure) ? `${MEASURES[s.measure]} ${s.prop}` : MEASURES[s.measure];
  return `${what} · ${measure}`;
}
